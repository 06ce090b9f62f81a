using DaxStack.Driver.Block;

namespace DaxStack.Fs.Tests.Xfs.Mount;

/// <summary>A block device that counts the flush bios and the write bios passing through it.</summary>
internal sealed class CountingDevice(IBlockDeviceOperations inner) : IBlockDeviceOperations
{
    public int Flushes { get; private set; }

    public int Writes { get; private set; }

    public string Name => inner.Name;

    public QueueLimits Limits => inner.Limits;

    public BlkStatus SubmitBio(in Bio bio)
    {
        if (bio.Op == BioOp.Flush)
            Flushes++;
        else if (bio.Op != BioOp.Read)
            Writes++;
        return inner.SubmitBio(bio);
    }

    public bool HasBadBlocks(long offset, long length) => inner.HasBadBlocks(offset, length);
}
