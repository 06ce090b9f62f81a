namespace DaxStack.Fs.Iomap;

/// <summary>What a range of a file is backed by.</summary>
/// <remarks>Models the kernel's <c>IOMAP_HOLE</c>, <c>IOMAP_MAPPED</c>, <c>IOMAP_UNWRITTEN</c> and <c>IOMAP_INLINE</c>.</remarks>
public enum IomapType : byte
{
    /// <summary>No storage: reads as zeroes.</summary>
    Hole,
    /// <summary>Storage holding the data.</summary>
    Mapped,
    /// <summary>Storage allocated but not written: reads as zeroes.</summary>
    Unwritten,
    /// <summary>The data lives in the inode (local format).</summary>
    Inline,
}
