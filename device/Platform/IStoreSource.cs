namespace DaxStack.Device.Platform;

/// <summary>
/// Bytes that are produced straight into the memory they are stored to, instead of being copied
/// from a buffer of the caller's: the source of <see cref="Cpu.NtStoreFrom"/>. A network server,
/// for one, receives a write's payload from its socket into the destination this way, so the
/// payload is copied once (by the socket) rather than twice (into a buffer, then to pmem).
/// </summary>
/// <remarks>
/// Called on the thread that called <see cref="Cpu.NtStoreFrom"/>, outside the region's lock, but
/// while the chunk it fills is a store in progress: other CPUs' <see cref="Cpu.NtStoreFrom"/>s into
/// other pages run meanwhile, and every other use of the region (any instruction on it, a crash,
/// an inspection) waits until the chunk has ended. So an implementation must neither block for
/// long (it hands over only what it already has) nor touch the emulated device: an instruction on
/// the same region from the source, through any CPU, or an inspection of it, throws
/// <see cref="LockRecursionException"/> instead of waiting for its own thread (a source that
/// touches another region is not caught, and may deadlock with a thread doing the reverse). Models the kernel's
/// <c>iov_iter</c> as <c>_copy_from_iter_flushcache</c> consumes it (the copy a socket's
/// <c>recvmsg</c> makes into a DAX mapping).
/// </remarks>
public interface IStoreSource
{
    /// <summary>
    /// Writes the source's next bytes into <paramref name="destination"/>, from its start, and
    /// returns how many (0 to <paramref name="destination"/>.Length). Fewer than asked means the
    /// source has no more for now; the bytes of <paramref name="destination"/> past the count must
    /// be left as they are.
    /// </summary>
    int CopyTo(Span<byte> destination);
}
