using DaxStack.Device.Platform;

namespace DaxStack.Driver.Block;

/// <summary>
/// A block device that can hand a read's data straight to where it goes (a socket, for a network
/// export) instead of into a buffer the caller then copies from, so the data is copied once. A
/// read through it returns what a read bio of the same range would.
/// </summary>
/// <remarks>
/// Models a bio whose data pages are the destination's (the block layer's iov_iter path,
/// <c>copy_to_iter</c> from the driver's memory), offered only by drivers whose memory can be
/// copied from directly (pmem's <c>copy_mc_to_iter</c> in its DAX read path).
/// </remarks>
public interface IBlockDeviceReadTo
{
    /// <summary>
    /// Reads up to <paramref name="length"/> bytes at <paramref name="offset"/> straight into
    /// <paramref name="sink"/>. The read ends early when the sink takes no more for now:
    /// <paramref name="read"/> then says how many bytes it took (any count), and the next read can
    /// go on from there, so the range need not be whole logical blocks.
    /// </summary>
    /// <remarks>
    /// Re-entry: the device calls <paramref name="sink"/> while it holds the locks the read needs
    /// (for pmem, a submission queue and the region's lock), on the calling thread. The sink may
    /// only take bytes: it must not block waiting for other threads that use the device, and must
    /// not touch the device. I/O it submits to this device or another one over the same memory
    /// (a bio, <c>WriteFrom</c>, <c>ReadTo</c>, a DAX load or store) fails at once with
    /// <see cref="LockRecursionException"/>, which propagates out of this call as any exception of
    /// the sink does. Submit such I/O after this call returns.
    /// </remarks>
    /// <returns>
    /// <see cref="BlkStatus.Invalid"/> for a negative offset or length, <see cref="BlkStatus.IoError"/>
    /// for one past the end or over a media error (before the sink sees any byte of the piece that
    /// holds it), otherwise <see cref="BlkStatus.Ok"/>.
    /// </returns>
    /// <exception cref="LockRecursionException">Called from the source or sink of another WriteFrom or ReadTo on the same memory, or the sink did I/O to it.</exception>
    BlkStatus ReadTo(long offset, long length, ILoadSink sink, out long read);
}
