namespace DaxStack.Driver.Block;

/// <summary>
/// A block device: the one operation <see cref="SubmitBio"/> plus what the device tells its
/// users (limits, name, bad blocks). Completion is synchronous: the status is the bio's.
/// Implementations are safe to call from several threads at once.
/// </summary>
/// <remarks>Models the kernel's <c>struct block_device_operations</c> (<c>submit_bio</c>) with the gendisk's queue limits and badblocks.</remarks>
public interface IBlockDeviceOperations
{
    /// <summary>The disk name (pmem0, pmem0.1, ...).</summary>
    string Name { get; }

    /// <summary>The device's limits.</summary>
    QueueLimits Limits { get; }

    /// <summary>
    /// Executes <paramref name="bio"/> and returns its status. A bio of a read, discard or
    /// write-zeroes that carries <see cref="BioFlags.Fua"/> or <see cref="BioFlags.PreFlush"/> fails
    /// with <see cref="BlkStatus.IoError"/>. A bio past the end of the device fails with
    /// <see cref="BlkStatus.IoError"/> only if it has sectors: an empty one completes at any start sector.
    /// Every bio fails with <see cref="BlkStatus.IoError"/> once the device is gone (its namespace destroyed or reconfigured).
    /// </summary>
    BlkStatus SubmitBio(in Bio bio);

    /// <summary>
    /// Whether any 512-byte sector of [<paramref name="offset"/>, +<paramref name="length"/>) is
    /// known bad (a read of it would fail with EIO). Lets a caller fail a read before it starts.
    /// </summary>
    /// <remarks>Models the kernel's <c>badblocks_check</c> on the disk's badblocks list.</remarks>
    bool HasBadBlocks(long offset, long length);
}
