namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>
/// What every v5 directory block says about itself: its size and the self-describing fields (its
/// own disk address, the LSN of its last write, the filesystem's UUID and the owning inode), which
/// each header keeps at its own offset.
/// </summary>
/// <remarks>Models the fields shared by the kernel's <c>struct xfs_dir3_blk_hdr</c> and <c>struct xfs_da3_blkinfo</c> (xfs_da_format.h).</remarks>
public abstract class XfsDir3Block
{
    /// <summary>A block of <paramref name="blockSize"/> bytes.</summary>
    protected XfsDir3Block(int blockSize) => BlockSize = blockSize;

    /// <summary>Bytes in the block.</summary>
    public int BlockSize { get; }

    /// <summary>blkno: the block's own disk address.</summary>
    public ulong Blkno { get; set; }

    /// <summary>lsn: the log sequence number of the block's last write.</summary>
    public ulong Lsn { get; set; }

    /// <summary>uuid: the filesystem's metadata UUID.</summary>
    public Guid Uuid { get; set; }

    /// <summary>owner: the directory's inode number.</summary>
    public ulong Owner { get; set; }

    /// <summary>Reads blkno, lsn, uuid and owner, which start at byte <paramref name="at"/> of the block.</summary>
    protected void ReadSelfDescription(ReadOnlySpan<byte> b, int at)
    {
        Blkno = Be.U64(b, at);
        Lsn = Be.U64(b, at + 8);
        Uuid = Be.Uuid(b, at + 16);
        Owner = Be.U64(b, at + 32);
    }

    /// <summary>Writes blkno, lsn, uuid and owner from byte <paramref name="at"/> of the block.</summary>
    protected void WriteSelfDescription(Span<byte> b, int at)
    {
        Be.Put64(b, at, Blkno);
        Be.Put64(b, at + 8, Lsn);
        Be.PutUuid(b, at + 16, Uuid);
        Be.Put64(b, at + 32, Owner);
    }
}
