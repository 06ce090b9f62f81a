namespace DaxStack.Device.Namespaces;

/// <summary>
/// The rules a set of labels must obey in a region (each label valid for its mode and inside
/// the region; no two overlapping or sharing an index, uuid or name) and the free-space
/// arithmetic that places new namespaces.
/// </summary>
/// <remarks>Plays the part of the kernel's <c>nd_region_available_dpa</c> / <c>scan_allocate</c> for one interleave set.</remarks>
internal static class NamespaceLayout
{
    /// <summary>A free range of a region, [Start, End) in bytes.</summary>
    public readonly record struct Extent(long Start, long End)
    {
        public long Length => End - Start;
    }

    /// <summary>What is wrong with <paramref name="label"/> on its own in a region of <paramref name="regionSize"/> bytes; null if nothing.</summary>
    public static string? Check(NamespaceLabel label, long regionSize)
    {
        if (label.Uuid == Guid.Empty)
            return "the uuid is all zeros";
        var spec = new NamespaceSpec
        {
            Mode = label.Mode,
            Size = label.Size,
            Align = label.Align,
            SectorSize = label.SectorSize,
            Map = label.Map,
            Name = label.Name,
        };
        try
        {
            spec.Resolve();
        }
        catch (NamespaceException e)
        {
            return e.Detail;
        }
        if (label.Offset % label.Align != 0)
            return $"offset {label.Offset} is not a multiple of its alignment {label.Align}";
        if (label.Offset > regionSize - label.Size)
            return $"[{label.Offset}, {label.Offset}+{label.Size}) extends past the end of the {regionSize}-byte region";
        return null;
    }

    /// <summary>The first problem of the label set <paramref name="labels"/> in a region of <paramref name="regionSize"/> bytes; null if it is valid.</summary>
    /// <remarks>
    /// Every label change checks the whole set, so a valid set is recognised in O(n log n)
    /// (hash sets for index, uuid and name, one pass over the labels in offset order for
    /// overlaps); only a set found invalid is compared pair by pair, to name its first problem.
    /// </remarks>
    public static string? CheckSet(IReadOnlyList<NamespaceLabel> labels, long regionSize) =>
        IsValidSet(labels, regionSize) ? null : FirstProblem(labels, regionSize);

    // Whether the set has no problem FirstProblem would report: each label valid on its own, no
    // index, uuid or non-empty name twice, no two ranges overlapping.
    private static bool IsValidSet(IReadOnlyList<NamespaceLabel> labels, long regionSize)
    {
        var indexes = new HashSet<int>(labels.Count);
        var uuids = new HashSet<Guid>(labels.Count);
        var names = new HashSet<string>(StringComparer.Ordinal);
        var ranges = new (long Offset, long End)[labels.Count];
        for (int i = 0; i < labels.Count; i++)
        {
            var a = labels[i];
            if (Check(a, regionSize) != null || !indexes.Add(a.Index) || !uuids.Add(a.Uuid)
                || (a.Name.Length > 0 && !names.Add(a.Name)))
                return false;
            ranges[i] = (a.Offset, a.End);
        }
        // Each label checked has a positive size, so two ranges overlap exactly when, in offset
        // order, one starts before the end of some range before it (the furthest end so far).
        Array.Sort(ranges);
        long furthest = long.MinValue;
        foreach (var (offset, end) in ranges)
        {
            if (offset < furthest)
                return false;
            furthest = Math.Max(furthest, end);
        }
        return true;
    }

    private static string? FirstProblem(IReadOnlyList<NamespaceLabel> labels, long regionSize)
    {
        for (int i = 0; i < labels.Count; i++)
        {
            var a = labels[i];
            if (Check(a, regionSize) is { } problem)
                return $"label {i} (index {a.Index}): {problem}";
            for (int j = 0; j < i; j++)
            {
                var b = labels[j];
                if (a.Index == b.Index)
                    return $"labels {j} and {i} share index {a.Index}";
                if (a.Uuid == b.Uuid)
                    return $"labels {j} and {i} share uuid {a.Uuid}";
                if (a.Name.Length > 0 && a.Name == b.Name)
                    return $"labels {j} and {i} share name '{a.Name}'";
                if (a.Offset < b.End && b.Offset < a.End)
                    return $"labels {j} and {i} overlap ([{b.Offset}, {b.End}) and [{a.Offset}, {a.End}))";
            }
        }
        return null;
    }

    /// <summary>The gaps between <paramref name="used"/> ranges in [0, <paramref name="regionSize"/>), in address order.</summary>
    public static List<Extent> FreeExtents(IEnumerable<(long Offset, long End)> used, long regionSize)
    {
        var free = new List<Extent>();
        long cursor = 0;
        foreach (var (offset, end) in used.OrderBy(u => u.Offset))
        {
            if (offset > cursor)
                free.Add(new Extent(cursor, offset));
            cursor = Math.Max(cursor, end);
        }
        if (cursor < regionSize)
            free.Add(new Extent(cursor, regionSize));
        return free;
    }

    /// <summary>The lowest offset, a multiple of <paramref name="align"/>, where <paramref name="size"/> bytes fit in one free extent; null if none.</summary>
    public static long? Place(IEnumerable<Extent> free, long size, long align)
    {
        foreach (var e in free)
        {
            long start = RoundUp(e.Start, align);
            if (start < e.End && e.End - start >= size)
                return start;
        }
        return null;
    }

    /// <summary>The largest size, a multiple of <paramref name="align"/>, that fits at an aligned offset in one free extent (0 if none), and that offset.</summary>
    public static (long Offset, long Size) Largest(IEnumerable<Extent> free, long align)
    {
        (long Offset, long Size) best = (0, 0);
        foreach (var e in free)
        {
            long start = RoundUp(e.Start, align);
            if (start >= e.End)
                continue;
            long size = (e.End - start) / align * align;
            if (size > best.Size)
                best = (start, size);
        }
        return best;
    }

    /// <summary>The lowest index not used by <paramref name="labels"/>.</summary>
    public static int FirstFreeIndex(IEnumerable<NamespaceLabel> labels)
    {
        var used = labels.Select(l => l.Index).ToHashSet();
        int n = 0;
        while (used.Contains(n))
            n++;
        return n;
    }

    private static long RoundUp(long value, long align) => (value + align - 1) / align * align;
}
