using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Buffers;

/// <summary>
/// What every v5 directory block verifier checks: the buffer is one directory block, the magic
/// number is the kind's, the CRC matches, the header names the filesystem's uuid and the block's
/// own disk address, and the block's own structure holds (each kind's <c>ReadFrom</c>). The owner
/// (the directory's inode number) is checked by the directory code, which knows it.
/// </summary>
/// <remarks>Models the common part of the kernel's <c>xfs_dir3_data_verify</c>, <c>xfs_dir3_leaf_verify</c>, <c>xfs_da3_node_verify</c> and <c>xfs_dir3_free_verify</c> (<c>xfs_da3_blkinfo_verify</c>, <c>xfs_buf_verify_cksum</c>).</remarks>
public abstract class XfsDir3BufferOps : IXfsBufferOps
{
    /// <inheritdoc/>
    public abstract string Name { get; }

    /// <summary>Offset of the CRC in the block.</summary>
    protected abstract int CrcOffset { get; }

    /// <inheritdoc/>
    public string Describe(XfsBuffer buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        return $"{Name} {buffer.AgNo}/{buffer.AgBno}";
    }

    /// <summary>Checks the magic number only (before the CRC, so a block of another kind says so).</summary>
    protected abstract void CheckMagic(ReadOnlySpan<byte> block, string name);

    /// <summary>Parses the block with its kind's checks; returns the header's blkno and uuid.</summary>
    protected abstract (ulong Blkno, Guid Uuid) Parse(ReadOnlySpan<byte> block, string name);

    /// <inheritdoc/>
    public void VerifyRead(XfsBuffer buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        string name = Describe(buffer);
        var geo = buffer.Cache.Geometry;
        if (buffer.Length != geo.BlockSize)
            throw new XfsCorruptionException(name, $"a directory block is {geo.BlockSize} bytes, not {buffer.Length}");
        CheckMagic(buffer.Data, name);
        if (!XfsCrc.Verify(buffer.Data, CrcOffset))
            throw XfsCorruptionException.CrcMismatch(name);
        var (blkno, uuid) = Parse(buffer.Data, name);
        if (uuid != buffer.Cache.MetadataUuid)
            throw new XfsCorruptionException(name, $"uuid {uuid} is not the filesystem's {buffer.Cache.MetadataUuid}");
        if (blkno != buffer.Daddr)
            throw XfsCorruptionException.BadField(name, "blkno", blkno, $"the block is at daddr {buffer.Daddr}");
    }

    /// <inheritdoc/>
    public void VerifyWrite(XfsBuffer buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        XfsCrc.Stamp(buffer.Data, CrcOffset);
        VerifyRead(buffer);
    }
}
