using DaxStack.Device.Media;

namespace DaxStack.Driver.Pmem;

/// <summary>
/// Room in the image file for what the driver writes: before a write first reaches a 64 KiB chunk
/// of the namespace, the image's blocks under that chunk are allocated
/// (<see cref="IMedia.Reserve"/>), so that a write into a hole of a sparse image on a full file
/// system fails with ENOSPC instead of ending the process with SIGBUS (the stores go through a
/// shared mapping, whose page faults cannot report an error any other way). Chunks once reserved
/// are remembered, one bit each, so later writes there cost a bit test. Media that need no room
/// (native memory, a read-only image) are never asked.
/// </summary>
/// <remarks>Thread-safe: writers on several queues may reserve at once (a chunk reserved twice is harmless).</remarks>
internal sealed class HostRoom
{
    private const int ChunkShift = 16;

    private readonly IMedia? _media;     // null: nothing to reserve
    private readonly long _base;         // the namespace's first byte in the media
    private readonly long _size;
    private readonly ulong[] _reserved = [];

    /// <summary>Whether reads need room too (<see cref="IMedia.ReadsAllocate"/>: an image on tmpfs).</summary>
    public bool ForReads { get; }

    public HostRoom(IMedia media, long namespaceOffset, long namespaceSize)
    {
        if (!media.IsPersistentStore)
            return;
        _media = media;
        _base = namespaceOffset;
        _size = namespaceSize;
        long chunks = (namespaceSize + (1L << ChunkShift) - 1) >> ChunkShift;
        _reserved = new ulong[(chunks + 63) / 64];
        ForReads = media.ReadsAllocate;
    }

    /// <summary>
    /// Makes sure the image has blocks under [<paramref name="offset"/>, +<paramref name="length"/>)
    /// of the namespace (within it). False, with the reason, when the file system has no room.
    /// </summary>
    public bool TryReserve(long offset, long length, out IOException? error)
    {
        error = null;
        if (_media == null || length <= 0)
            return true;
        long first = offset >> ChunkShift, last = (offset + length - 1) >> ChunkShift;
        for (long c = first; c <= last;)
        {
            if ((Volatile.Read(ref _reserved[c >> 6]) & (1UL << (int)(c & 63))) != 0)
            {
                c++;
                continue;
            }
            // A run of chunks not yet reserved, reserved in one call.
            long end = c + 1;
            while (end <= last && (Volatile.Read(ref _reserved[end >> 6]) & (1UL << (int)(end & 63))) == 0)
                end++;
            long start = c << ChunkShift;
            long stop = Math.Min(end << ChunkShift, _size);
            try
            {
                _media.Reserve(_base + start, stop - start);
            }
            catch (IOException e)
            {
                error = e;
                return false;
            }
            for (long k = c; k < end; k++)
                Interlocked.Or(ref _reserved[k >> 6], 1UL << (int)(k & 63));
            c = end;
        }
        return true;
    }
}
