using DaxStack.Driver.Block;

namespace DaxStack.Fs.Tests.Xfs.Cil;

/// <summary>A device that loses power after a number of writes and flushes: every later request fails with an I/O error.</summary>
internal sealed class PowerCutDevice(IBlockDeviceOperations inner, int requestsBeforeCut) : IBlockDeviceOperations
{
    private int _left = requestsBeforeCut;

    public bool Cut => _left < 0;

    public string Name => inner.Name;

    public QueueLimits Limits => inner.Limits;

    public BlkStatus SubmitBio(in Bio bio)
    {
        if (bio.Op != BioOp.Read && --_left < 0)
            return BlkStatus.IoError;
        return _left < 0 && bio.Op == BioOp.Read ? BlkStatus.IoError : inner.SubmitBio(bio);
    }

    public bool HasBadBlocks(long offset, long length) => inner.HasBadBlocks(offset, length);
}
