namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>
/// A file extent: file offset, filesystem block and length, all in blocks, plus the unwritten
/// flag, packed into 128 bits: the flag in bit 127, the offset in 54 bits, the block in 52 bits
/// and the length in 21 bits.
/// </summary>
/// <remarks>Models the kernel's <c>struct xfs_bmbt_rec</c> with <c>xfs_bmbt_disk_get_all</c> / <c>xfs_bmbt_disk_set_all</c> (xfs_bmap_btree.c).</remarks>
/// <param name="StartOff">br_startoff: first file block.</param>
/// <param name="StartBlock">br_startblock: first filesystem block (AG-encoded fsblock number).</param>
/// <param name="BlockCount">br_blockcount: length in blocks, at most 2^21 - 1.</param>
/// <param name="Unwritten">br_state: allocated but reads as zeroes.</param>
public readonly record struct XfsBmbtRecord(ulong StartOff, ulong StartBlock, uint BlockCount, bool Unwritten)
{
    /// <summary>Bytes on disk.</summary>
    public const int Size = 16;

    /// <summary>XFS_MAX_BMBT_EXTLEN: the longest extent one record holds.</summary>
    public const uint MaxBlockCount = (1u << 21) - 1;

    /// <summary>The largest file offset (54 bits).</summary>
    public const ulong MaxStartOff = (1UL << 54) - 1;

    /// <summary>The largest block number (52 bits).</summary>
    public const ulong MaxStartBlock = (1UL << 52) - 1;

    public static XfsBmbtRecord ReadFrom(ReadOnlySpan<byte> source)
    {
        ulong l0 = Be.U64(source, 0), l1 = Be.U64(source, 8);
        return new XfsBmbtRecord(
            StartOff: (l0 >> 9) & MaxStartOff,
            StartBlock: ((l0 & 0x1FF) << 43) | (l1 >> 21),
            BlockCount: (uint)(l1 & MaxBlockCount),
            Unwritten: (l0 >> 63) != 0);
    }

    public void WriteTo(Span<byte> destination)
    {
        if (StartOff > MaxStartOff || StartBlock > MaxStartBlock || BlockCount > MaxBlockCount)
            throw new InvalidOperationException($"extent {this} does not fit a packed record");
        ulong l0 = (Unwritten ? 1UL << 63 : 0) | (StartOff << 9) | (StartBlock >> 43);
        ulong l1 = (StartBlock << 21) | BlockCount;
        Be.Put64(destination, 0, l0);
        Be.Put64(destination, 8, l1);
    }
}
