namespace DaxStack.Fs.Iomap;

/// <summary>Facts about a mapping the filesystem reports with it.</summary>
/// <remarks>Models the kernel's <c>IOMAP_F_NEW</c>, <c>IOMAP_F_DIRTY</c>, <c>IOMAP_F_SHARED</c> and <c>IOMAP_F_MERGED</c>.</remarks>
[Flags]
public enum IomapMapFlags : ushort
{
    /// <summary>Nothing special.</summary>
    None = 0,
    /// <summary>The storage was allocated by this request.</summary>
    New = 1 << 0,
    /// <summary>The inode has metadata changes not yet durable (fdatasync would have to force the log): what MAP_SYNC faults check.</summary>
    Dirty = 1 << 1,
    /// <summary>The storage is shared with another file (reflink).</summary>
    Shared = 1 << 2,
    /// <summary>The mapping merges several on-disk extents.</summary>
    Merged = 1 << 3,
}
