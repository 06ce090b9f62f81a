namespace DaxStack.Fs.Vfs;

/// <summary>
/// Operations on an open file. The VFS has checked the descriptor's access mode, the offsets and
/// sizes against the filesystem's limits, and the inode flags; the filesystem moves the data.
/// Errors are thrown as <see cref="ErrnoException"/>.
/// </summary>
/// <remarks>Models the kernel's <c>struct file_operations</c> (<c>read_iter</c>, <c>write_iter</c>, <c>llseek</c>, <c>iterate_shared</c>, <c>fsync</c>, <c>fallocate</c>, <c>remap_file_range</c>, <c>open</c>, <c>release</c>).</remarks>
public interface IFileOperations
{
    /// <summary>Whether <see cref="RemapFileRange"/> exists (the kernel's non-null <c>remap_file_range</c>).</summary>
    bool CanRemapFileRange { get; }

    /// <summary>The file is being opened (<c>open</c>).</summary>
    void Open(Inode inode, OpenFile file);

    /// <summary>The last descriptor of the open file was closed (<c>release</c>).</summary>
    void Release(Inode inode, OpenFile file);

    /// <summary>
    /// Copies bytes at <paramref name="pos"/> into <paramref name="buffer"/>, stopping at end of file;
    /// returns the count (<c>read_iter</c>). Called with the inode lock held shared.
    /// </summary>
    int Read(OpenFile file, Span<byte> buffer, long pos);

    /// <summary>
    /// Writes <paramref name="buffer"/> at <paramref name="pos"/> (already adjusted for O_APPEND and
    /// limited to the maximum file size), extending the size; returns the count written, which may
    /// be short on ENOSPC after some bytes (<c>write_iter</c>). Called with the inode lock held exclusive.
    /// </summary>
    int Write(OpenFile file, ReadOnlySpan<byte> buffer, long pos);

    /// <summary>Computes and sets the new position (<c>llseek</c>); <see cref="GenericFile.Llseek"/> handles the usual cases.</summary>
    long Llseek(OpenFile file, long offset, SeekWhence whence);

    /// <summary>Emits directory entries from <see cref="DirContext.Pos"/> on (<c>iterate_shared</c>).</summary>
    void Iterate(OpenFile file, DirContext context);

    /// <summary>Makes the bytes in [<paramref name="start"/>, <paramref name="end"/>] and the metadata needed to read them (and all metadata unless <paramref name="dataSync"/>) durable (<c>fsync</c>).</summary>
    void Fsync(OpenFile file, long start, long end, bool dataSync);

    /// <summary>Allocates, punches, zeroes, collapses, inserts or unshares space (<c>fallocate</c>); the VFS has checked the mode combination. Called with the inode lock held exclusive.</summary>
    void Fallocate(OpenFile file, FallocateFlags mode, long offset, long length);

    /// <summary>
    /// Shares (clones) <paramref name="length"/> bytes of <paramref name="source"/> at <paramref name="sourcePos"/>
    /// into <paramref name="destination"/> at <paramref name="destinationPos"/>; 0 length means to the
    /// source's end of file. Returns the bytes remapped. Only called when <see cref="CanRemapFileRange"/>;
    /// the filesystem calls <see cref="GenericFile.RemapFileRangePrep"/> first, as XFS does (<c>remap_file_range</c>).
    /// </summary>
    long RemapFileRange(OpenFile source, long sourcePos, OpenFile destination, long destinationPos, long length);
}
