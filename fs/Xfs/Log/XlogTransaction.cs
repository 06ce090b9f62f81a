namespace DaxStack.Fs.Xfs.Log;

/// <summary>
/// A transaction as the log carries it: its id and the buffer ranges it logged, in the order
/// recovery must apply them.
/// </summary>
/// <remarks>Models the kernel's <c>struct xlog_recover</c> (r_log_tid and its item list) as built from a checkpoint's log vectors.</remarks>
/// <param name="Tid">The transaction id (oh_tid of its operations).</param>
/// <param name="Regions">The logged ranges.</param>
public sealed record XlogTransaction(uint Tid, IReadOnlyList<XlogRegion> Regions);
