namespace DaxStack.Fs.Iomap;

/// <summary>Why an iomap is asked for (what the caller will do with the range).</summary>
/// <remarks>Models the kernel's iomap_begin <c>flags</c>: <c>IOMAP_WRITE</c>, <c>IOMAP_ZERO</c>, <c>IOMAP_REPORT</c> (FIEMAP), <c>IOMAP_FAULT</c>, <c>IOMAP_DAX</c>, <c>IOMAP_NOWAIT</c>.</remarks>
[Flags]
public enum IomapFlags : ushort
{
    /// <summary>A read.</summary>
    None = 0,
    /// <summary>The caller writes the range: the filesystem must back it with storage.</summary>
    Write = 1 << 0,
    /// <summary>The caller zeroes the range.</summary>
    Zero = 1 << 1,
    /// <summary>The caller only reports the mapping (FIEMAP, SEEK_DATA/HOLE).</summary>
    Report = 1 << 2,
    /// <summary>The request comes from a page fault.</summary>
    Fault = 1 << 3,
    /// <summary>The file is accessed through DAX.</summary>
    Dax = 1 << 4,
}
