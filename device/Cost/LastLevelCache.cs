using System.Numerics;

namespace DaxStack.Device.Cost;

/// <summary>
/// Which of one region's 64-byte lines the CPU's last-level cache holds, as the cost model needs
/// it to tell a load that hits from one that goes to the media: a direct-mapped sector cache of
/// <see cref="CostProfile.CacheBytes"/> in 4 KiB sectors (fewer for a region smaller than the
/// cache), each sector holding one page of the region and a presence bit for each of its 64 lines.
/// </summary>
/// <remarks>
/// <para>What enters and leaves it follows the instructions: a load or a store brings its lines
/// in (stores allocate on write), clwb keeps a line, clflush and clflushopt evict it, a
/// non-temporal store invalidates any cached copy, and a power failure empties the cache. A page
/// leaves, all its lines at once, when a line of another page that maps to the same sector comes
/// in.</para>
/// <para>Simplifications, stated: direct-mapped sectors rather than set-associative lines with LRU
/// (a sector cache keeps one tag per sector, so it costs a bit and a shared tag per line: a 256 KiB
/// load updates 64 sectors, not 4096 lines); one cache per region, so regions do not evict each
/// other's lines; the cache decides cost only. Whether a dirty line is persistent is the persistence
/// model's business (a line evicted here may be written back, which the persistence model already
/// allows at any time), and a sector taken over charges no write-back.</para>
/// <para>The arrays are allocated on the first access. Not thread-safe: callers hold the region lock.</para>
/// </remarks>
internal sealed class LastLevelCache
{
    /// <summary>Bytes of one sector: a page of 64 lines.</summary>
    public const int SectorBytes = 4096;
    private const int LinesPerSectorShift = 6;

    private readonly long _sectors;
    private readonly long _mask;
    private readonly int _shift;       // log2(sectors): a page's tag is its index shifted by it
    private int[]? _tags;              // per sector: the tag of the page it holds plus one, 0 = none
    private ulong[]? _present;         // per sector: which of that page's lines are cached

    /// <summary>
    /// A cache of <paramref name="cacheBytes"/> (0 for none, else a power of two of at least
    /// <see cref="SectorBytes"/>) over a region of <paramref name="regionBytes"/>.
    /// </summary>
    public LastLevelCache(long cacheBytes, long regionBytes)
    {
        long sectors = cacheBytes / SectorBytes;
        if (sectors == 0)
            return;
        // A region smaller than the cache needs only a sector per page: none then ever conflicts.
        long regionPages = Math.Max(1, (regionBytes + SectorBytes - 1) / SectorBytes);
        ulong needed = regionPages >= sectors ? (ulong)sectors : BitOperations.RoundUpToPowerOf2((ulong)regionPages);
        _sectors = (long)needed;
        _mask = _sectors - 1;
        _shift = BitOperations.Log2(needed);
    }

    /// <summary>Lines the cache can hold for the region; 0 when no cache is modeled.</summary>
    public long Entries => _sectors << LinesPerSectorShift;

    /// <summary>
    /// The lines [<paramref name="first"/>, +<paramref name="count"/>) accessed in order (a load):
    /// returns how many were cached when each was reached; each is cached after its access.
    /// </summary>
    public long Touch(long first, long count)
    {
        if (_sectors == 0 || count <= 0)
            return 0;
        return count == 1 && _tags is not null ? TouchOne(first) : Walk(first, count, Op.Touch);
    }

    /// <summary>The lines [<paramref name="first"/>, +<paramref name="count"/>) come in (stores allocate their lines).</summary>
    public void Fill(long first, long count)
    {
        if (_sectors == 0 || count <= 0)
            return;
        if (count == 1 && _tags is not null)
            TouchOne(first);
        else
            Walk(first, count, Op.Fill);
    }

    /// <summary>The lines [<paramref name="first"/>, +<paramref name="count"/>) leave the cache where it holds them (clflush, clflushopt, non-temporal stores).</summary>
    public void Evict(long first, long count)
    {
        if (_tags is not { } tags || count <= 0)
            return;
        if (count == 1)
        {
            long page = first >> LinesPerSectorShift;
            int sector = (int)(page & _mask);
            if (tags[sector] == TagOf(page))
                _present![sector] &= ~(1UL << (int)(first & 63));
        }
        else
            Walk(first, count, Op.Evict);
    }

    /// <summary>A power failure: nothing is cached.</summary>
    public void Clear()
    {
        if (_tags is { } tags)
        {
            Array.Clear(tags);
            Array.Clear(_present!);
        }
    }

    private enum Op { Touch, Fill, Evict }

    // What a sector holding this page records: the page's index above the sector bits, plus one (0 = empty).
    private int TagOf(long page) => (int)(page >> _shift) + 1;

    // One line (a small load or store, the common case) without the walk: 1 if it was cached.
    private int TouchOne(long line)
    {
        long page = line >> LinesPerSectorShift;
        int sector = (int)(page & _mask);
        int tag = TagOf(page);
        ulong bit = 1UL << (int)(line & 63);
        ref ulong lines = ref _present![sector];
        ref int held = ref _tags![sector];
        if (held == tag)
        {
            int hit = (lines & bit) != 0 ? 1 : 0;
            lines |= bit;
            return hit;
        }
        held = tag;
        lines = bit;
        return 0;
    }

    // The lines [first, +count) page by page, in order (a later page may take the sector of an
    // earlier one of the same range, as it would line by line). Returns the hits of a touch.
    private long Walk(long first, long count, Op op)
    {
        var tags = _tags ??= new int[_sectors];
        var present = _present ??= new ulong[_sectors];
        long hits = 0;
        long end = first + count;
        for (long line = first; line < end;)
        {
            long page = line >> LinesPerSectorShift;
            int from = (int)(line & 63);
            int to = (int)Math.Min(64, end - (page << LinesPerSectorShift));
            ulong bits = (to == 64 ? ulong.MaxValue : (1UL << to) - 1) & ~((1UL << from) - 1);
            int sector = (int)(page & _mask);
            int tag = TagOf(page);
            ref int held = ref tags[sector];
            ref ulong lines = ref present[sector];
            if (op == Op.Evict)
            {
                if (held == tag)
                    lines &= ~bits;
            }
            else if (held == tag)
            {
                if (op == Op.Touch)
                    hits += BitOperations.PopCount(lines & bits);
                lines |= bits;
            }
            else
            {
                held = tag;
                lines = bits;
            }
            line = (page + 1) << LinesPerSectorShift;
        }
        return hits;
    }
}
