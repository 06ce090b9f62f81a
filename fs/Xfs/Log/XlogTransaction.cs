namespace DaxStack.Fs.Xfs.Log;

/// <summary>
/// A transaction as the log carries it: its id, the buffer ranges it logged, in the order
/// recovery must apply them, and the buffers it freed (cancel records).
/// </summary>
/// <remarks>Models the kernel's <c>struct xlog_recover</c> (r_log_tid and its item list) as built from a checkpoint's log vectors, buffer cancel items included.</remarks>
/// <param name="Tid">The transaction id (oh_tid of its operations).</param>
/// <param name="Regions">The logged ranges.</param>
/// <param name="Cancels">The freed buffers; null for none.</param>
public sealed record XlogTransaction(uint Tid, IReadOnlyList<XlogRegion> Regions, IReadOnlyList<XlogBufferCancel>? Cancels = null)
{
    /// <summary>The freed buffers (empty when none).</summary>
    public IReadOnlyList<XlogBufferCancel> BufferCancels => Cancels ?? [];
}
