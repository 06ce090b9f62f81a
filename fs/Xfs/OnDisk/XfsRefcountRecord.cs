namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>
/// A reference-count B+tree leaf record: an AG extent shared by <see cref="RefCount"/> owners
/// (records exist only for counts above one, and for copy-on-write staging extents, whose start
/// block has bit 31 set).
/// </summary>
/// <remarks>Models the kernel's <c>struct xfs_refcount_rec</c> (<c>rc_startblock</c>, <c>rc_blockcount</c>, <c>rc_refcount</c>).</remarks>
/// <param name="StartBlock">rc_startblock: first AG block, bit 31 = CoW staging.</param>
/// <param name="BlockCount">rc_blockcount: length in blocks.</param>
/// <param name="RefCount">rc_refcount: number of owners.</param>
public readonly record struct XfsRefcountRecord(uint StartBlock, uint BlockCount, uint RefCount)
{
    /// <summary>Bytes on disk.</summary>
    public const int Size = 12;

    /// <summary>XFS_REFC_COWFLAG: marks a copy-on-write staging extent.</summary>
    public const uint CowFlag = 1u << 31;

    public static XfsRefcountRecord ReadFrom(ReadOnlySpan<byte> source) => new(Be.U32(source, 0), Be.U32(source, 4), Be.U32(source, 8));

    public void WriteTo(Span<byte> destination)
    {
        Be.Put32(destination, 0, StartBlock);
        Be.Put32(destination, 4, BlockCount);
        Be.Put32(destination, 8, RefCount);
    }
}
