namespace DaxStack.Driver.Hosting;

/// <summary>
/// Driver-layer settings, bound from the "Pmem" configuration section
/// (<c>DAXSTACK_Pmem__QueueCount</c>, <c>--Pmem:QueueCount=N</c>).
/// </summary>
public sealed class PmemOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Pmem";

    /// <summary>
    /// Submission queues per block device, each with its own emulated CPU; 0 (default) means one per
    /// processor. Range 0-64.
    /// </summary>
    public int QueueCount { get; set; }

    /// <summary>
    /// Logical block size in bytes, 512 or 4096; 0 (default) takes the namespace's sector size
    /// (512 for label-less images).
    /// </summary>
    public int LogicalBlockSize { get; set; }
}
