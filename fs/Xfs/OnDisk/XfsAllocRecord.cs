namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>A free-space B+tree leaf record: one free extent of an AG.</summary>
/// <remarks>Models the kernel's <c>struct xfs_alloc_rec</c> (<c>ar_startblock</c>, <c>ar_blockcount</c>).</remarks>
/// <param name="StartBlock">ar_startblock: first free AG block.</param>
/// <param name="BlockCount">ar_blockcount: length in blocks.</param>
public readonly record struct XfsAllocRecord(uint StartBlock, uint BlockCount)
{
    /// <summary>Bytes on disk.</summary>
    public const int Size = 8;

    public static XfsAllocRecord ReadFrom(ReadOnlySpan<byte> source) => new(Be.U32(source, 0), Be.U32(source, 4));

    public void WriteTo(Span<byte> destination)
    {
        Be.Put32(destination, 0, StartBlock);
        Be.Put32(destination, 4, BlockCount);
    }
}
