namespace DaxStack.Device.Platform;

/// <summary>
/// Where loaded bytes go when they are taken straight from the memory they are loaded from,
/// instead of being copied into a buffer of the caller's first: the sink of <see cref="Cpu.LoadTo"/>.
/// A network server, for one, sends a read's data from pmem to its socket this way, so the data
/// is copied once (by the socket) rather than twice (into a buffer, then into the socket).
/// </summary>
/// <remarks>
/// Called with the region's lock held, on the thread that called <see cref="Cpu.LoadTo"/>: an
/// implementation must neither block for long (it takes only what it can take at once) nor touch
/// the emulated device, and must not keep the span. The lock is not recursive: an instruction on
/// the same region from the sink, through any CPU, or an inspection of it, throws
/// <see cref="LockRecursionException"/> instead of waiting for its own thread (a sink that touches
/// another region is not caught, and may deadlock with a thread doing the reverse).
/// Models the kernel's <c>iov_iter</c> as <c>copy_mc_to_iter</c> fills it (a socket's
/// <c>sendmsg</c> from a DAX mapping of the namespace).
/// </remarks>
public interface ILoadSink
{
    /// <summary>
    /// Takes the first bytes of <paramref name="source"/> and returns how many
    /// (0 to <paramref name="source"/>.Length); fewer than offered means it can take no more for now.
    /// </summary>
    int CopyFrom(ReadOnlySpan<byte> source);
}
