namespace DaxStack.Device.Namespaces;

/// <summary>
/// A run of bad (poisoned) 512-byte blocks, relative to the start of a namespace or region:
/// one line of a badblocks list and one record of <c>ndctl list --media-errors</c>
/// (<c>"offset"</c>, <c>"length"</c>) or <c>ndctl inject-error --status</c> (<c>"block"</c>, <c>"count"</c>).
/// </summary>
/// <remarks>Models the kernel's <c>struct badblocks</c> entries as shown in <c>/sys/block/pmemN/badblocks</c>.</remarks>
public readonly record struct BadBlock(long Block, long Count)
{
    /// <summary>Size of a block in bytes.</summary>
    public const int BlockSize = 512;

    /// <summary>One past the last block.</summary>
    public long End => Block + Count;
}
