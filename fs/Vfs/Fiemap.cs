namespace DaxStack.Fs.Vfs;

/// <summary>
/// The argument of <c>FS_IOC_FIEMAP</c>: the caller sets <see cref="Start"/>, <see cref="Length"/>,
/// <see cref="Flags"/> and <see cref="ExtentCount"/> (0 = only count the extents); the call fills
/// <see cref="MappedExtents"/> and the first <see cref="MappedExtents"/> of <see cref="Extents"/>.
/// On EBADR, <see cref="Flags"/> holds the flags the filesystem does not support.
/// </summary>
/// <remarks>Models <c>struct fiemap</c> (<c>fm_start</c>, <c>fm_length</c>, <c>fm_flags</c>, <c>fm_mapped_extents</c>, <c>fm_extent_count</c>, <c>fm_extents[]</c>).</remarks>
public sealed class Fiemap
{
    public Fiemap(long start, long length, FiemapFlags flags, int extentCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(extentCount);
        Start = start;
        Length = length;
        Flags = flags;
        ExtentCount = extentCount;
        Extents = new FiemapExtent[extentCount];
    }

    /// <summary>First file byte of interest (<c>fm_start</c>).</summary>
    public long Start { get; }

    /// <summary>Bytes of interest from <see cref="Start"/> (<c>fm_length</c>); unsigned in the kernel, so negative means huge.</summary>
    public long Length { get; }

    /// <summary>Request flags in, unsupported flags out on EBADR (<c>fm_flags</c>).</summary>
    public FiemapFlags Flags { get; internal set; }

    /// <summary>Room in <see cref="Extents"/> (<c>fm_extent_count</c>).</summary>
    public int ExtentCount { get; }

    /// <summary>Extents found, or filled (<c>fm_mapped_extents</c>).</summary>
    public int MappedExtents { get; internal set; }

    /// <summary>The extents (<c>fm_extents</c>).</summary>
    public FiemapExtent[] Extents { get; }
}
