namespace DaxStack.Fs.Xfs.Log;

/// <summary>
/// One logged byte range of a metadata buffer: the buffer's disk address and length, the
/// offset of the range inside the buffer, and the range's new contents.
/// </summary>
/// <remarks>Models one dirty region of the kernel's <c>struct xfs_buf_log_format</c> (blf_blkno, blf_len, the dirty-chunk bitmap) together with the data its log iovec carries.</remarks>
/// <param name="Daddr">The buffer's disk address in 512-byte basic blocks.</param>
/// <param name="BufferLength">The buffer's length in bytes.</param>
/// <param name="Offset">First logged byte inside the buffer.</param>
/// <param name="Bytes">The logged bytes.</param>
public sealed record XlogRegion(ulong Daddr, int BufferLength, int Offset, byte[] Bytes)
{
    /// <summary>Bytes of the region header in front of the data in a log operation.</summary>
    internal const int HeaderSize = 16;

    /// <summary>Whether the range lies inside the buffer.</summary>
    public bool IsValid => BufferLength > 0 && Offset >= 0 && Bytes.Length > 0 && (long)Offset + Bytes.Length <= BufferLength;
}
