namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>
/// An inode (or free-inode) B+tree leaf record: one 64-inode chunk, how many of its inodes are
/// free, and which (bit i set = inode <c>StartIno + i</c> free). This is the full-chunk form of
/// filesystems without sparse inodes, where the free count is a 32-bit field.
/// </summary>
/// <remarks>Models the kernel's <c>struct xfs_inobt_rec</c> in its non-sparse form (<c>ir_startino</c>, <c>ir_u.f.ir_freecount</c>, <c>ir_free</c>).</remarks>
/// <param name="StartIno">ir_startino: the chunk's first AG-relative inode number.</param>
/// <param name="FreeCount">ir_freecount: free inodes in the chunk.</param>
/// <param name="Free">ir_free: bitmap of free inodes.</param>
public readonly record struct XfsInobtRecord(uint StartIno, uint FreeCount, ulong Free)
{
    /// <summary>Bytes on disk.</summary>
    public const int Size = 16;

    public static XfsInobtRecord ReadFrom(ReadOnlySpan<byte> source) => new(Be.U32(source, 0), Be.U32(source, 4), Be.U64(source, 8));

    public void WriteTo(Span<byte> destination)
    {
        Be.Put32(destination, 0, StartIno);
        Be.Put32(destination, 4, FreeCount);
        Be.Put64(destination, 8, Free);
    }
}
