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
    /// of the namespace (within it). False when the file system has no room.
    /// </summary>
    public bool TryReserve(long offset, long length) =>
        Reserve(offset, length, prefix: false) == Math.Max(0, length);

    /// <summary>
    /// Makes sure the image has blocks under as much of [<paramref name="offset"/>,
    /// +<paramref name="length"/>) of the namespace (within it) as the file system has room for,
    /// from <paramref name="offset"/> on, in whole chunks. Returns how many bytes from
    /// <paramref name="offset"/> have them: <paramref name="length"/> when all do, else the bytes
    /// up to the end of the last chunk reserved (0 when not even the first chunk could be had).
    /// </summary>
    public long ReservePrefix(long offset, long length) => Reserve(offset, length, prefix: true);

    // Reserves the chunks under the range not yet reserved, each run of them in one call. With
    // 'prefix', a run the file system has no room for is tried again in halves, so that the chunks
    // before the first that cannot be had are reserved (a few calls more, only once room has run
    // out); without it, the first run that fails ends the reservation.
    private long Reserve(long offset, long length, bool prefix)
    {
        if (_media == null || length <= 0)
            return Math.Max(0, length);
        long first = offset >> ChunkShift, last = (offset + length - 1) >> ChunkShift;
        for (long c = first; c <= last;)
        {
            if (IsReserved(c))
            {
                c++;
                continue;
            }
            // A run of chunks not yet reserved, reserved in one call.
            long end = c + 1;
            while (end <= last && !IsReserved(end))
                end++;
            long step = end - c;
            while (c < end)
            {
                long n = Math.Min(step, end - c);
                if (TryReserveChunks(c, c + n))
                    c += n;
                else if (!prefix || n == 1)
                    return Math.Max(0, Math.Min((c << ChunkShift) - offset, length));
                else
                    step = n / 2;
            }
        }
        return length;
    }

    private bool IsReserved(long chunk) => (Volatile.Read(ref _reserved[chunk >> 6]) & (1UL << (int)(chunk & 63))) != 0;

    // Reserves chunks [from, to) in one call and remembers them; false when the file system has
    // no room (every caller answers ENOSPC, whatever the errno).
    private bool TryReserveChunks(long from, long to)
    {
        long start = from << ChunkShift;
        long stop = Math.Min(to << ChunkShift, _size);
        try
        {
            _media!.Reserve(_base + start, stop - start);
        }
        catch (IOException)
        {
            return false;
        }
        for (long k = from; k < to; k++)
            Interlocked.Or(ref _reserved[k >> 6], 1UL << (int)(k & 63));
        return true;
    }
}
