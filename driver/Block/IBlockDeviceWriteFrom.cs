using DaxStack.Device.Platform;

namespace DaxStack.Driver.Block;

/// <summary>
/// A block device that can take a write's data straight from where it arrives (a socket, for a
/// network export) instead of from a buffer the caller filled first, so the data is copied once.
/// A write through it means exactly what a write bio of the same bytes and flags means.
/// </summary>
/// <remarks>
/// Models a bio whose data pages are the ones the data arrives in (the block layer's iov_iter
/// path, <c>copy_from_iter</c> into the driver's memory), offered only by drivers that can
/// place incoming bytes without a bounce buffer (pmem's <c>_copy_from_iter_flushcache</c>).
/// </remarks>
public interface IBlockDeviceWriteFrom
{
    /// <summary>
    /// Writes <paramref name="length"/> bytes at <paramref name="offset"/> (both whole logical
    /// blocks) with data <paramref name="source"/> produces straight into the device. The write
    /// ends early when the source has no more for now: <paramref name="written"/> then says how
    /// many bytes it produced (any count, not only whole blocks), and the blocks past them keep
    /// their old bytes. Flush and FUA keep their meaning: with FUA, what was written is durable on return.
    /// </summary>
    /// <remarks>
    /// Re-entry: the device calls <paramref name="source"/> while it holds the locks the write
    /// needs (for pmem, a submission queue and the region's lock), on the calling thread. The
    /// source may only produce bytes: it must not block waiting for other threads that use the
    /// device, and must not touch the device. I/O it submits to this device or another one over
    /// the same memory (a bio, <c>WriteFrom</c>, <c>ReadTo</c>, a DAX load or store) fails at once
    /// with <see cref="LockRecursionException"/>, which propagates out of this call as any
    /// exception of the source does (the bytes handed to the source so far count as written, with
    /// whatever they hold). Submit such I/O after this call returns.
    /// </remarks>
    /// <returns>
    /// <see cref="BlkStatus.Invalid"/> for a misaligned or negative range, <see cref="BlkStatus.IoError"/>
    /// for one past the end or a read-only device (as a write bio), otherwise <see cref="BlkStatus.Ok"/>.
    /// </returns>
    /// <exception cref="LockRecursionException">Called from the source or sink of another WriteFrom or ReadTo on the same memory, or the source did I/O to it.</exception>
    BlkStatus WriteFrom(long offset, long length, IStoreSource source, BioFlags flags, out long written);
}
