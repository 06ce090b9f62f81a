namespace DaxStack.Fs.Xfs.Log;

/// <summary>
/// A logged statement that a transaction freed the metadata buffer of <see cref="BufferLength"/>
/// bytes at <see cref="Daddr"/>: recovery must not replay any range logged for those blocks by
/// an earlier transaction (the blocks may since hold file data), while ranges logged by later
/// transactions (the blocks reused as metadata) are replayed.
/// </summary>
/// <remarks>Models a buffer log item with <c>XFS_BLF_CANCEL</c> set in <c>blf_flags</c> (written by <c>xfs_trans_binval</c>), which recovery's first pass enters in the buffer cancel table (<c>xlog_add_buffer_cancelled</c>).</remarks>
/// <param name="Daddr">The buffer's disk address in 512-byte basic blocks.</param>
/// <param name="BufferLength">The buffer's length in bytes.</param>
public readonly record struct XlogBufferCancel(ulong Daddr, int BufferLength)
{
    /// <summary>The region-header offset that marks a cancel operation (no data follows).</summary>
    internal const uint OffsetMarker = uint.MaxValue;

    /// <summary>Whether the length is whole basic blocks.</summary>
    public bool IsValid => BufferLength > 0 && BufferLength % OnDisk.XfsFormat.BasicBlockSize == 0;

    /// <summary>Whether the buffer covers any of the basic blocks [<paramref name="daddr"/>, +<paramref name="length"/> bytes).</summary>
    public bool Overlaps(ulong daddr, int length) =>
        daddr < Daddr + (ulong)(BufferLength / OnDisk.XfsFormat.BasicBlockSize)
        && Daddr < daddr + (ulong)(length / OnDisk.XfsFormat.BasicBlockSize);
}
