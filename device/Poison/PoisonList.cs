namespace DaxStack.Device.Poison;

/// <summary>
/// The poisoned ranges of one region, in 512-byte sectors as the kernel's badblocks list keeps
/// them (and as `ndctl inject-error --block --count` names them). Reads are lock-free: the list
/// is an immutable array swapped on change, so the load path pays one volatile read when clean.
/// </summary>
public sealed class PoisonList
{
    /// <summary>Granularity of poison, in bytes.</summary>
    public const int SectorSize = 512;

    private volatile BadRange[] _ranges = [];
    private readonly object _writeLock = new();

    /// <summary>A list of poison anywhere in [0, 2^63): for range arithmetic.</summary>
    public PoisonList()
        : this(long.MaxValue)
    {
    }

    /// <summary>
    /// The poison of a region of <paramref name="size"/> bytes (a whole number of sectors): a range
    /// outside it is refused, as the kernel refuses badblocks past the end of a device, since no
    /// load could ever consume it and a badblocks file holding it would not load.
    /// </summary>
    public PoisonList(long size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        Size = size;
    }

    /// <summary>Bytes the list covers: every range lies in [0, Size).</summary>
    public long Size { get; }

    /// <summary>A poisoned range in region-relative bytes (sector aligned).</summary>
    public readonly record struct BadRange(long Offset, long Length)
    {
        public long End => Offset + Length;
    }

    /// <summary>Raised after the list changes (so an owner can persist it).</summary>
    public event Action? Changed;

    /// <summary>The poisoned ranges, sorted and merged.</summary>
    public IReadOnlyList<BadRange> Ranges => _ranges;

    /// <summary>True when nothing is poisoned.</summary>
    public bool IsEmpty => _ranges.Length == 0;

    /// <summary>
    /// Poisons every sector touched by [offset, offset+length). If a <see cref="Changed"/> handler
    /// throws (a badblocks file that cannot record the change), the list is as it was before and
    /// the exception propagates; so for <see cref="Clear"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An empty or negative range, one whose sector-rounded end overflows, or one past <see cref="Size"/>.</exception>
    public void Add(long offset, long length)
    {
        var range = Sectors(offset, length);
        BadRange[] before, after;
        lock (_writeLock)
        {
            before = _ranges;
            var list = new List<BadRange>(_ranges) { range };
            _ranges = after = Merge(list);
        }
        Notify(before, after);
    }

    // The sectors [offset, offset+length) touches, checked to be a non-empty range inside the list.
    private BadRange Sectors(long offset, long length)
    {
        if (offset < 0 || length <= 0 || EndOverflows(offset, length))
            throw new ArgumentOutOfRangeException(nameof(length), $"poison range [{offset}, +{length}) must be non-empty, non-negative and end below 2^63");
        long start = offset / SectorSize * SectorSize;
        long end = (offset + length + SectorSize - 1) / SectorSize * SectorSize;
        if (end > Size)
            throw new ArgumentOutOfRangeException(nameof(length), $"poison range [{offset}, +{length}) runs past the end of the {Size}-byte region");
        return new BadRange(start, end - start);
    }

    // Tells the Changed handlers; if one throws (the badblocks file could not record the change),
    // the list is put back as it was, unless it has changed again since, and the exception propagates.
    private void Notify(BadRange[] before, BadRange[] after)
    {
        try
        {
            Changed?.Invoke();
        }
        catch
        {
            lock (_writeLock)
            {
                if (ReferenceEquals(_ranges, after))
                    _ranges = before;
            }
            throw;
        }
    }

    /// <summary>Clears poison from every whole or partial sector in [offset, offset+length); an empty range clears nothing.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative offset, or a range whose sector-rounded end overflows.</exception>
    public void Clear(long offset, long length)
    {
        if (length <= 0)
            return;
        if (offset < 0 || EndOverflows(offset, length))
            throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, +{length}) is not a range of byte offsets");
        long start = offset / SectorSize * SectorSize;
        long end = (offset + length + SectorSize - 1) / SectorSize * SectorSize;
        bool changed = false;
        BadRange[] before, after = [];
        lock (_writeLock)
        {
            before = _ranges;
            var list = new List<BadRange>();
            foreach (var r in _ranges)
            {
                if (r.End <= start || r.Offset >= end)
                {
                    list.Add(r);
                    continue;
                }
                changed = true;
                if (r.Offset < start)
                    list.Add(new BadRange(r.Offset, start - r.Offset));
                if (r.End > end)
                    list.Add(new BadRange(end, r.End - end));
            }
            if (changed)
                _ranges = after = [.. list];
        }
        if (changed)
            Notify(before, after);
    }

    /// <summary>
    /// Replaces the whole list (when loading a persisted badblocks list). Each range is taken as
    /// <see cref="Add"/> takes one, whole sectors; nothing changes if one is refused.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A range <see cref="Add"/> would refuse.</exception>
    public void Load(IEnumerable<BadRange> ranges)
    {
        ArgumentNullException.ThrowIfNull(ranges);
        var list = ranges.Select(r => Sectors(r.Offset, r.Length)).ToList();
        lock (_writeLock)
            _ranges = Merge(list);
    }

    /// <summary>Finds the first poisoned byte in [offset, offset+length); false if none (always for an empty range).</summary>
    public bool TryFindPoison(long offset, long length, out long firstPoisoned)
    {
        var ranges = length > 0 ? _ranges : [];
        // A range running past 2^63 ends there (offset + length would wrap negative and miss everything).
        long end = offset > 0 && length > long.MaxValue - offset ? long.MaxValue : offset + length;
        foreach (var r in ranges)
        {
            if (r.End > offset && r.Offset < end)
            {
                firstPoisoned = Math.Max(r.Offset, offset);
                return true;
            }
        }
        firstPoisoned = -1;
        return false;
    }

    // offset + length rounded up to a whole sector would not fit in a long (offset and length non-negative).
    private static bool EndOverflows(long offset, long length) => length > long.MaxValue - (SectorSize - 1) - offset;

    private static BadRange[] Merge(List<BadRange> list)
    {
        list.Sort((a, b) => a.Offset.CompareTo(b.Offset));
        var merged = new List<BadRange>();
        foreach (var r in list)
        {
            if (merged.Count > 0 && merged[^1].End >= r.Offset)
            {
                var last = merged[^1];
                merged[^1] = new BadRange(last.Offset, Math.Max(last.End, r.End) - last.Offset);
            }
            else
                merged.Add(r);
        }
        return [.. merged];
    }
}
