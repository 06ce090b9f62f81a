using DaxStack.Device.Errors;
using DaxStack.Device.Media;
using DaxStack.Driver.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DaxStack.Driver.Pmem;

/// <summary>
/// Room in the image file for what the driver writes: before a write first reaches a 64 KiB chunk
/// of the namespace, the image's blocks under that chunk are allocated
/// (<see cref="IMedia.Reserve"/>), so that a write into a hole of a sparse image on a full file
/// system fails with ENOSPC instead of ending the process with SIGBUS (the stores go through a
/// shared mapping, whose page faults cannot report an error any other way). Chunks once reserved
/// are remembered, one bit each, so later writes there cost a bit test. Media that need no room
/// (native memory, a read-only image) are never asked.
/// <para>
/// A reservation the file system refuses fails the I/O that needed it: with ENOSPC when the file
/// system has no room for the blocks (ENOSPC, or EDQUOT: the block layer has no quota error, and
/// BLK_STS_NOSPC is what the kernel's own thin devices answer), with EIO when it failed for any
/// other reason (an I/O error of the disk under the image, say). The host's own error, which the
/// client never sees, is logged with the image's name: at the first failure, then at most every
/// <see cref="ReportInterval"/> with the count of failures since.
/// </para>
/// </summary>
/// <remarks>Thread-safe: writers on several queues may reserve at once (a chunk reserved twice is harmless).</remarks>
internal sealed class HostRoom
{
    private const int ChunkShift = 16;

    private readonly IMedia? _media;     // null: nothing to reserve
    private readonly long _base;         // the namespace's first byte in the media
    private readonly long _size;
    private readonly ulong[] _reserved = [];
    private readonly string _device;
    private readonly ILogger _logger;
    private long _lastReport = long.MinValue;  // Environment.TickCount64 of the last failure logged
    private long _unreported;                  // failures since then

    /// <summary>The shortest time between two reports of failed reservations in the log.</summary>
    public static readonly TimeSpan ReportInterval = TimeSpan.FromSeconds(10);

    /// <summary>Whether reads need room too (<see cref="IMedia.ReadsAllocate"/>: an image on tmpfs).</summary>
    public bool ForReads { get; }

    /// <param name="media">The region's media.</param>
    /// <param name="namespaceOffset">The namespace's first byte in the media.</param>
    /// <param name="namespaceSize">The namespace's size.</param>
    /// <param name="device">The device's name, for the log (pmem0, dax0.0).</param>
    /// <param name="logger">Where failed reservations are reported.</param>
    public HostRoom(IMedia media, long namespaceOffset, long namespaceSize, string device, ILogger? logger)
    {
        _device = device;
        _logger = logger ?? NullLogger.Instance;
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
    /// of the namespace (within it). 0 when it has; else what the I/O that needs them fails with:
    /// <see cref="Errno.ENOSPC"/> (no room) or <see cref="Errno.EIO"/> (any other failure).
    /// </summary>
    public Errno Reserve(long offset, long length)
    {
        long done = Reserve(offset, length, prefix: false, out var error);
        return done == Math.Max(0, length) ? 0 : error;
    }

    /// <summary>
    /// Makes sure the image has blocks under as much of [<paramref name="offset"/>,
    /// +<paramref name="length"/>) of the namespace (within it) as the file system has room for,
    /// from <paramref name="offset"/> on, in whole chunks. Returns how many bytes from
    /// <paramref name="offset"/> have them: <paramref name="length"/> when all do, else the bytes
    /// up to the end of the last chunk reserved (0 when not even the first chunk could be had), and
    /// then in <paramref name="error"/> what the I/O beyond fails with (as <see cref="Reserve(long, long)"/>).
    /// </summary>
    public long ReservePrefix(long offset, long length, out Errno error) => Reserve(offset, length, prefix: true, out error);

    /// <summary>A <see cref="Reserve(long, long)"/> error as a bio's status.</summary>
    public static Block.BlkStatus StatusOf(Errno error) =>
        error == Errno.ENOSPC ? Block.BlkStatus.NoSpace : Block.BlkStatus.IoError;

    // Reserves the chunks under the range not yet reserved, each run of them in one call. With
    // 'prefix', a run the file system has no room for is tried again in halves, so that the chunks
    // before the first that cannot be had are reserved (a few calls more, only once room has run
    // out); without it, the first run that fails ends the reservation.
    private long Reserve(long offset, long length, bool prefix, out Errno error)
    {
        error = 0;
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
                if ((error = ReserveChunks(c, c + n)) == 0)
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

    // Reserves chunks [from, to) in one call and remembers them; on failure, what the I/O fails with.
    private Errno ReserveChunks(long from, long to)
    {
        long start = from << ChunkShift;
        long stop = Math.Min(to << ChunkShift, _size);
        try
        {
            _media!.Reserve(_base + start, stop - start);
        }
        catch (IOException e)
        {
            var error = e.HResult is (int)Errno.ENOSPC or (int)Errno.EDQUOT ? Errno.ENOSPC : Errno.EIO;
            Report(e, error);
            return error;
        }
        for (long k = from; k < to; k++)
            Interlocked.Or(ref _reserved[k >> 6], 1UL << (int)(k & 63));
        return 0;
    }

    // Logs a failed reservation: the first, then at most one per ReportInterval, with the count
    // of those in between (a client retrying into a full file system fails thousands of times a
    // second). Two threads may both report at an interval's end: harmless.
    private void Report(IOException failure, Errno error)
    {
        long unreported = Interlocked.Increment(ref _unreported);
        long now = Environment.TickCount64;
        long last = Volatile.Read(ref _lastReport);
        if (last != long.MinValue && now - last < (long)ReportInterval.TotalMilliseconds)
            return;
        if (Interlocked.CompareExchange(ref _lastReport, now, last) != last)
            return;
        Interlocked.Add(ref _unreported, -unreported);
        DriverLog.ReservationFailed(_logger, _device, failure.Message, error, unreported);
    }
}
