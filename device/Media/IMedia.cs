namespace DaxStack.Device.Media;

/// <summary>
/// The persisted bytes of one NVDIMM region: what survives power loss once written back.
/// While the emulator runs, the media also holds the CPU view (stores land here directly);
/// the persistence model keeps each not-yet-persisted line's persisted content aside and
/// puts it back at a crash. Implementations are native memory or a memory-mapped image file.
/// </summary>
public unsafe interface IMedia : IDisposable
{
    /// <summary>Size in bytes.</summary>
    long Length { get; }

    /// <summary>Start of the bytes; valid until <see cref="IDisposable.Dispose"/>.</summary>
    byte* Pointer { get; }

    /// <summary>True when the bytes outlive the process (an image file).</summary>
    bool IsPersistentStore { get; }

    /// <summary>Writes the bytes back to their backing store (msync of the image), if any.</summary>
    void Flush();

    /// <summary>
    /// Makes sure that stores to [<paramref name="offset"/>, +<paramref name="length"/>) cannot
    /// fail for lack of room in the backing store, changing no byte: an image file's blocks there
    /// are allocated. A store through the mapping into a hole of a sparse image on a full file
    /// system would otherwise end the process with SIGBUS. Throws an <see cref="IOException"/>
    /// (its HResult the errno, such as ENOSPC) when there is no room; does nothing for media that
    /// need none, or when the file system cannot allocate ahead (EOPNOTSUPP).
    /// </summary>
    void Reserve(long offset, long length) { }

    /// <summary>
    /// Whether a load from a hole of the backing store allocates too (an image on tmpfs, whose
    /// shared mappings take a page even to read one), so that a read needs <see cref="Reserve"/>
    /// as a store does. False for media that need no room.
    /// </summary>
    bool ReadsAllocate => false;
}
