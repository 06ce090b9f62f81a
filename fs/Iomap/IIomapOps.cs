namespace DaxStack.Fs.Iomap;

/// <summary>
/// How a filesystem tells generic code (DAX read/write, zeroing, FIEMAP, faults) where a file's
/// bytes live. <see cref="Begin"/> maps a range starting at <c>pos</c> (possibly shorter than
/// asked, never empty), allocating storage first when the caller writes; <see cref="End"/>
/// follows once the caller has used the mapping, with the bytes it actually processed, so the
/// filesystem can finish what it started (update the size, convert unwritten extents, give
/// back unused reservations). One instance serves one inode.
/// </summary>
/// <remarks>Models the kernel's <c>struct iomap_ops</c> (<c>iomap_begin</c>, <c>iomap_end</c>). Errors are thrown as the filesystem's errno-carrying exceptions.</remarks>
public interface IIomapOps
{
    /// <summary>iomap_begin: the mapping that starts at byte <paramref name="pos"/> and covers as much of <paramref name="length"/> bytes as one mapping can.</summary>
    IomapMapping Begin(long pos, long length, IomapFlags flags);

    /// <summary>iomap_end: the caller processed <paramref name="written"/> bytes of <paramref name="iomap"/> from <paramref name="pos"/>.</summary>
    void End(long pos, long length, long written, IomapFlags flags, in IomapMapping iomap);
}
