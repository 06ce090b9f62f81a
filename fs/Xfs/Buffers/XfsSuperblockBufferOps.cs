using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Buffers;

/// <summary>
/// Verifier of a superblock sector (the primary in AG 0 or a secondary): the superblock's own
/// checks and CRC, and a geometry that matches the filesystem's.
/// </summary>
/// <remarks>Models the kernel's <c>xfs_sb_buf_ops</c> (<c>xfs_sb_read_verify</c>, <c>xfs_sb_write_verify</c>).</remarks>
public sealed class XfsSuperblockBufferOps : IXfsBufferOps
{
    public static readonly XfsSuperblockBufferOps Instance = new();

    private XfsSuperblockBufferOps()
    {
    }

    public string Name => "sb";

    public string Describe(XfsBuffer buffer) => $"sb {buffer.AgNo}";

    public void VerifyRead(XfsBuffer buffer)
    {
        var geo = buffer.Cache.Geometry;
        uint agno = buffer.AgNo;
        string name = Describe(buffer);
        if (buffer.Daddr != geo.AgBlockToDaddr(agno, 0) || buffer.Length != geo.SectorSize)
            throw new XfsCorruptionException(name, $"a superblock is the first sector of an AG, not {buffer.Length} bytes at daddr {buffer.Daddr}");
        var sb = XfsSuperblock.ReadFrom(buffer.Data, agno);
        if (sb.BlockSize != geo.BlockSize || sb.AgBlocks != geo.AgBlocks || sb.AgCount != geo.AgCount || sb.DataBlocks != geo.DataBlocks
            || sb.InodeSize != geo.InodeSize || sb.LogStart != geo.LogStart || sb.LogBlocks != geo.LogBlocks)
            throw new XfsCorruptionException(name, "geometry differs from the mounted filesystem's");
        if (sb.MetadataUuid != buffer.Cache.MetadataUuid)
            throw new XfsCorruptionException(name, $"metadata uuid {sb.MetadataUuid} is not the filesystem's {buffer.Cache.MetadataUuid}");
    }

    public void VerifyWrite(XfsBuffer buffer)
    {
        XfsCrc.Stamp(buffer.Data, XfsFormat.SuperblockCrcOffset);
        VerifyRead(buffer);
    }
}
