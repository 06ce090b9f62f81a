using DaxStack.Device.Errors;
using DaxStack.Driver.Block;
using DaxStack.Driver.Dax;

namespace DaxStack.Fs.Tests.Crash;

/// <summary>
/// A pmem device (block and DAX paths) that loses power after a number of write and flush
/// requests: from then on every request fails with an I/O error and direct access fails with
/// EIO, so nothing the workload does after the cut reaches the media. The media is then
/// crashed by the test with a crash policy, which drops what was stored but not flushed.
/// </summary>
internal sealed class PowerFailDevice<T>(T inner, int requestsBeforeCut) : IBlockDeviceOperations, IDaxOperations
    where T : IBlockDeviceOperations, IDaxOperations
{
    private int _left = requestsBeforeCut;

    /// <summary>Whether the power is off.</summary>
    public bool Cut => _left < 0;

    /// <summary>The write and flush requests that reached the media.</summary>
    public int Requests { get; private set; }

    public string Name => inner.Name;

    public QueueLimits Limits => inner.Limits;

    public long PageCount => inner.PageCount;

    public BlkStatus SubmitBio(in Bio bio)
    {
        if (bio.Op != BioOp.Read && !Cut && --_left >= 0)
            Requests++;
        return Cut ? BlkStatus.IoError : inner.SubmitBio(bio);
    }

    public bool HasBadBlocks(long offset, long length) => inner.HasBadBlocks(offset, length);

    public Errno DirectAccess(long pgoff, long nrPages, DaxAccessMode mode, out DaxExtent extent)
    {
        if (Cut)
        {
            extent = default;
            return Errno.EIO;
        }
        return inner.DirectAccess(pgoff, nrPages, mode, out extent);
    }

    public Errno ZeroPageRange(long pgoff, long nrPages) => Cut ? Errno.EIO : inner.ZeroPageRange(pgoff, nrPages);

    public long RecoveryWrite(long offset, ReadOnlySpan<byte> source) => Cut ? 0 : inner.RecoveryWrite(offset, source);
}
