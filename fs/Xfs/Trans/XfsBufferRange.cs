namespace DaxStack.Fs.Xfs.Trans;

/// <summary>A range of bytes of a buffer that a transaction changed and logged.</summary>
/// <remarks>Models the byte ranges callers pass to the kernel's <c>xfs_trans_log_buf</c> (kept there as a dirty-chunk bitmap in <c>xfs_buf_log_format</c>).</remarks>
/// <param name="Offset">First changed byte.</param>
/// <param name="Length">Bytes changed.</param>
public readonly record struct XfsBufferRange(int Offset, int Length)
{
    /// <summary>One past the last changed byte.</summary>
    public int End => Offset + Length;
}
