using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Buffers;

/// <summary>
/// Verifier of an inode cluster buffer (whole blocks of inodes): every inode in it must pass
/// <see cref="XfsDinode.ReadFrom(ReadOnlySpan{byte}, ulong)"/> (magic, version 3, CRC, its own inode number) and carry the
/// filesystem's uuid. Writing stamps every inode's CRC, as flushing an inode does.
/// </summary>
/// <remarks>Models the kernel's <c>xfs_inode_buf_ops</c> (<c>xfs_inode_buf_verify</c>) with the per-inode CRC of <c>xfs_dinode_calc_crc</c> done at write.</remarks>
public sealed class XfsInodeBufferOps : IXfsBufferOps
{
    public static readonly XfsInodeBufferOps Instance = new();

    private XfsInodeBufferOps()
    {
    }

    public string Name => "inode cluster";

    public string Describe(XfsBuffer buffer) => $"inode cluster {buffer.AgNo}/{buffer.AgBno}";

    public void VerifyRead(XfsBuffer buffer)
    {
        var geo = buffer.Cache.Geometry;
        if (buffer.Length % geo.BlockSize != 0)
            throw new XfsCorruptionException(Describe(buffer), $"an inode cluster is whole {geo.BlockSize}-byte blocks, not {buffer.Length} bytes");
        ulong first = geo.MakeIno(buffer.AgNo, geo.AgBlockToAgino(buffer.AgBno));
        for (int i = 0; i < buffer.Length / geo.InodeSize; i++)
        {
            ulong ino = first + (ulong)i;
            var inode = XfsDinode.ReadFrom(buffer.Data.AsSpan(i * geo.InodeSize, geo.InodeSize), ino);
            if (inode.Uuid != buffer.Cache.MetadataUuid)
                throw new XfsCorruptionException($"inode {ino}", $"uuid {inode.Uuid} is not the filesystem's {buffer.Cache.MetadataUuid}");
        }
    }

    public void VerifyWrite(XfsBuffer buffer)
    {
        int size = buffer.Cache.Geometry.InodeSize;
        for (int offset = 0; offset + size <= buffer.Length; offset += size)
            XfsCrc.Stamp(buffer.Data.AsSpan(offset, size), XfsFormat.DinodeCrcOffset);
        VerifyRead(buffer);
    }
}
