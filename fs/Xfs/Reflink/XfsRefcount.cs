using DaxStack.Device.Errors;
using DaxStack.Fs.Xfs.Alloc;
using DaxStack.Fs.Xfs.Btree;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Xfs.Reflink;

/// <summary>
/// Reference counts of shared data blocks, kept in each AG's reference-count B+tree: a block
/// with no record has one owner; a record says how many owners each block of its extent has
/// (two or more). <see cref="Adjust"/> adds or drops one owner over a range, splitting and
/// merging records so that they stay maximal (neighbouring records with the same count are one
/// record, as xfs_repair computes them), and frees blocks whose last owner went away.
/// </summary>
/// <remarks>Models the kernel's libxfs/xfs_refcount.c: <c>xfs_refcount_adjust</c> (<c>xfs_refcount_split_extent</c>, <c>xfs_refcount_merge_extents</c>, <c>xfs_refcount_adjust_extents</c> freeing extents whose count drops to zero), <c>xfs_refcount_find_shared</c>. XFS defers these updates through intent items; we make them in the caller's transaction.</remarks>
public static class XfsRefcount
{
    /// <summary>Blocks a transaction must reserve per <see cref="Adjust"/> call: a split of every refcount B+tree level, twice.</summary>
    public const uint AdjustReservation = 12;

    /// <summary>
    /// Adds <paramref name="delta"/> (+1 or −1) owners to AG blocks <paramref name="agbno"/>..+<paramref name="length"/>
    /// of AG <paramref name="agno"/>. Dropping the last owner of a block frees it. Returns the
    /// number of blocks freed.
    /// </summary>
    public static uint Adjust(XfsTransaction tp, uint agno, uint agbno, uint length, int delta)
    {
        ArgumentNullException.ThrowIfNull(tp);
        if (delta is not (1 or -1))
            throw new ArgumentOutOfRangeException(nameof(delta), delta, "one owner at a time");
        if (length == 0)
            return 0;
        if (!tp.Mount.HasReflink)
            throw new XfsException(Errno.EOPNOTSUPP, "the filesystem has no reference-count B+tree (reflink=0)");
        uint end = agbno + length;
        // Every record touching [agbno - 1, end + 1): the range and its neighbours, for merging.
        var old = Records(tp, agno, agbno == 0 ? 0 : agbno - 1, end + 1);
        uint from = Math.Min(agbno, old.Count > 0 ? old[0].StartBlock : agbno);
        uint to = Math.Max(end, old.Count > 0 ? old[^1].StartBlock + old[^1].BlockCount : end);
        // Per-block counts over [from, to) as runs: (start, length, count).
        var runs = new List<(uint Start, uint Length, uint Count)>();
        uint pos = from;
        foreach (var r in old)
        {
            if (r.StartBlock > pos)
                runs.Add((pos, r.StartBlock - pos, 1));
            runs.Add((r.StartBlock, r.BlockCount, r.RefCount));
            pos = r.StartBlock + r.BlockCount;
        }
        if (pos < to)
            runs.Add((pos, to - pos, 1));
        // Apply the delta inside [agbno, end), splitting runs at the edges.
        var changed = new List<(uint Start, uint Length, uint Count)>();
        var freed = new List<(uint Start, uint Length)>();
        foreach (var (s, l, c) in runs)
        {
            uint e = s + l;
            uint a = Math.Max(s, agbno), b = Math.Min(e, end);
            if (a >= b)
            {
                changed.Add((s, l, c));
                continue;
            }
            if (s < a)
                changed.Add((s, a - s, c));
            uint count = (uint)(c + delta);
            if (count == 0)
                freed.Add((a, b - a));
            changed.Add((a, b - a, count));
            if (b < e)
                changed.Add((b, e - b, c));
        }
        var cur = new XfsBtreeCursor<XfsRefcountRecord>(tp, agno, XfsRefcountBtreeOps.Instance);
        foreach (var r in old)
        {
            if (!cur.LookupEq(r) || cur.GetRecord() != r)
                throw new XfsCorruptionException($"refcountbt of AG {agno}", $"record {r} vanished while adjusting");
            cur.Delete();
        }
        foreach (var r in Maximal(changed))
            cur.Insert(r);
        foreach (var (s, l) in freed)
            XfsAlloc.Free(tp, agno, s, l);
        return (uint)freed.Sum(f => (long)f.Length);
    }

    // Runs of count >= 2 merged with their equal-count neighbours, as records.
    private static IEnumerable<XfsRefcountRecord> Maximal(List<(uint Start, uint Length, uint Count)> runs)
    {
        XfsRefcountRecord? open = null;
        foreach (var (s, l, c) in runs)
        {
            if (c < 2)
            {
                if (open is { } o)
                    yield return o;
                open = null;
                continue;
            }
            if (open is { } p && p.RefCount == c && p.StartBlock + p.BlockCount == s && (ulong)p.BlockCount + l < XfsRefcountRecord.CowFlag)
            {
                open = p with { BlockCount = p.BlockCount + l };
                continue;
            }
            if (open is { } q)
                yield return q;
            open = new XfsRefcountRecord(s, l, c);
        }
        if (open is { } last)
            yield return last;
    }

    /// <summary>The shared-extent records of AG <paramref name="agno"/> that overlap AG blocks [<paramref name="from"/>, <paramref name="to"/>), in order.</summary>
    public static List<XfsRefcountRecord> Records(XfsTransaction tp, uint agno, uint from, uint to)
    {
        ArgumentNullException.ThrowIfNull(tp);
        var result = new List<XfsRefcountRecord>();
        if (!tp.Mount.HasReflink)
            return result;
        var cur = new XfsBtreeCursor<XfsRefcountRecord>(tp, agno, XfsRefcountBtreeOps.Instance);
        bool on = cur.LookupLe(new XfsRefcountRecord(from, 0, 0));
        if (!on)
            on = cur.MoveFirst();
        while (on && cur.TryGetRecord(out var r))
        {
            if ((r.StartBlock & XfsRefcountRecord.CowFlag) != 0 || r.StartBlock >= to)
                break;
            if (r.StartBlock + r.BlockCount > from)
                result.Add(r);
            on = cur.Increment();
        }
        return result;
    }

    /// <summary>
    /// xfs_refcount_find_shared: within AG blocks <paramref name="agbno"/>..+<paramref name="length"/>,
    /// the first run of shared blocks (start and length, clipped to the range), or null when
    /// none is shared.
    /// </summary>
    public static (uint Start, uint Length)? FindShared(XfsTransaction tp, uint agno, uint agbno, uint length)
    {
        foreach (var r in Records(tp, agno, agbno, agbno + length))
        {
            uint a = Math.Max(r.StartBlock, agbno);
            uint b = Math.Min(r.StartBlock + r.BlockCount, agbno + length);
            if (a < b)
                return (a, b - a);
        }
        return null;
    }
}
