using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Xfs.Alloc;

/// <summary>
/// Busy extents: blocks a transaction freed, which may not be allocated again until that
/// transaction is durable in the log. Otherwise a crash could lose the free while the blocks'
/// new owner has already overwritten them (file data written in place through DAX is never
/// logged), leaving the old owner pointing at foreign bytes. An extent is busy from the moment
/// it is freed (so not even the freeing transaction reuses it), gets its transaction's commit
/// sequence at commit, is dropped if the transaction is cancelled, and stops being busy once
/// the log is forced to that sequence (checked lazily on every query). With a committer that
/// writes home synchronously (no journal) an extent stops being busy at commit. The allocator
/// trims busy blocks out of candidate free extents and, when only busy space is left, forces
/// the log and retries (<see cref="XfsAlloc.TryAllocate"/>). Callers hold <see cref="XfsMount.Lock"/>.
/// </summary>
/// <remarks>Models the kernel's <c>xfs_extent_busy</c> tracking (fs/xfs/xfs_extent_busy.c): <c>xfs_extent_busy_insert</c>, <c>xfs_extent_busy_trim</c>, <c>xfs_extent_busy_clear</c> at checkpoint completion and <c>xfs_extent_busy_flush</c> (the log force before ENOSPC), with per-AG lists standing in for <c>pag->pagb_tree</c>.</remarks>
public sealed class XfsExtentBusy
{
    private readonly XfsMount _mount;
    private readonly List<Entry>[] _perAg;

    private sealed class Entry(uint bno, uint length, XfsTransaction? owner)
    {
        public uint Bno { get; } = bno;
        public uint Length { get; } = length;
        public uint End => Bno + Length;
        // The freeing transaction while it runs; null once committed.
        public XfsTransaction? Owner { get; set; } = owner;
        public long Sequence { get; set; } = long.MaxValue;
    }

    internal XfsExtentBusy(XfsMount mount)
    {
        _mount = mount;
        _perAg = new List<Entry>[mount.Geometry.AgCount];
        for (int i = 0; i < _perAg.Length; i++)
            _perAg[i] = [];
    }

    /// <summary>Busy extents of AG <paramref name="agno"/> still waiting for the log (after dropping those now durable).</summary>
    public int Count(uint agno) => Prune(agno).Count;

    /// <summary>Busy extents over all AGs.</summary>
    public int TotalCount
    {
        get
        {
            int n = 0;
            for (uint agno = 0; agno < _perAg.Length; agno++)
                n += Count(agno);
            return n;
        }
    }

    /// <summary>Whether any of [<paramref name="agbno"/>, +<paramref name="length"/>) of AG <paramref name="agno"/> is busy.</summary>
    public bool IsBusy(uint agno, uint agbno, uint length) =>
        Prune(agno).Any(e => e.Bno < (ulong)agbno + length && agbno < e.End);

    /// <summary>Marks [<paramref name="agbno"/>, +<paramref name="length"/>) of AG <paramref name="agno"/> busy on behalf of <paramref name="tp"/>, which just freed it.</summary>
    public void Insert(XfsTransaction tp, uint agno, uint agbno, uint length)
    {
        ArgumentNullException.ThrowIfNull(tp);
        if (length == 0)
            return;
        _perAg[agno].Add(new Entry(agbno, length, tp));
    }

    /// <summary>
    /// The longest run of [<paramref name="agbno"/>, +<paramref name="length"/>) that no busy
    /// extent of AG <paramref name="agno"/> covers (the lowest among equals); length 0 when
    /// all of it is busy.
    /// </summary>
    public (uint AgBno, uint Length) Trim(uint agno, uint agbno, uint length)
    {
        var busy = Prune(agno);
        if (busy.Count == 0)
            return (agbno, length);
        ulong end = (ulong)agbno + length;
        var overlapping = busy.Where(e => e.Bno < end && agbno < e.End).OrderBy(e => e.Bno).ToList();
        uint bestStart = agbno, bestLength = 0;
        ulong cursor = agbno;
        foreach (var e in overlapping)
        {
            if (e.Bno > cursor && e.Bno - cursor > bestLength)
                (bestStart, bestLength) = ((uint)cursor, (uint)(e.Bno - cursor));
            cursor = Math.Max(cursor, e.End);
        }
        if (end > cursor && end - cursor > bestLength)
            (bestStart, bestLength) = ((uint)cursor, (uint)(end - cursor));
        return (bestStart, bestLength);
    }

    /// <summary>How many blocks from <paramref name="agbno"/> (at most <paramref name="length"/>) are not busy.</summary>
    public uint RunFrom(uint agno, uint agbno, uint length)
    {
        ulong end = (ulong)agbno + length;
        foreach (var e in Prune(agno))
        {
            if (e.Bno < end && agbno < e.End)
                end = e.Bno <= agbno ? agbno : e.Bno;
        }
        return (uint)(end - agbno);
    }

    /// <summary>
    /// The commit sequence the log must be forced to so that AG <paramref name="agno"/> has no
    /// committed busy extent left, or 0 when none is waiting (extents of running transactions
    /// cannot be cleared by a force).
    /// </summary>
    public long SequenceToForce(uint agno)
    {
        long seq = 0;
        foreach (var e in Prune(agno))
        {
            if (e.Owner == null)
                seq = Math.Max(seq, e.Sequence);
        }
        return seq;
    }

    /// <summary><paramref name="tp"/> committed as <paramref name="sequence"/> (0: already durable, nothing to wait for).</summary>
    internal void Committed(XfsTransaction tp, long sequence)
    {
        foreach (var list in _perAg)
        {
            for (int i = list.Count - 1; i >= 0; i--)
            {
                var e = list[i];
                if (!ReferenceEquals(e.Owner, tp))
                    continue;
                if (sequence <= 0)
                {
                    list.RemoveAt(i);
                    continue;
                }
                e.Owner = null;
                e.Sequence = sequence;
            }
        }
    }

    /// <summary><paramref name="tp"/> was cancelled or failed: its frees never happened.</summary>
    internal void Cancelled(XfsTransaction tp)
    {
        foreach (var list in _perAg)
            list.RemoveAll(e => ReferenceEquals(e.Owner, tp));
    }

    private List<Entry> Prune(uint agno)
    {
        var list = _perAg[agno];
        long forced = _mount.ForcedSequence;
        list.RemoveAll(e => e.Owner == null && e.Sequence <= forced);
        return list;
    }
}
