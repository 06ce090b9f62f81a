namespace DaxStack.Device.Cost;

/// <summary>
/// The write side of one DIMM (or memory channel) in the cost model: the rate at which it takes
/// 64-byte writes in, the write-combining buffer (XPBuffer) that merges writes to the media
/// units (XPLines) it holds, and the media that drains the buffer at the media write bandwidth.
/// </summary>
/// <remarks>
/// Time here is the DIMM's own: the latest arrival it has seen. CPUs keep separate clocks, so a
/// write from a CPU whose clock is behind is handled at the DIMM's time and charged only the
/// waiting the DIMM imposes, not the lag between the clocks (see <see cref="Accept"/>).
/// Callers hold the region lock.
/// </remarks>
internal sealed class DimmWriteState
{
    private readonly long[] _tags;            // the XPBuffer's units in arrival order: unit number + 1, 0 if empty
    private readonly double[] _drainedAt;     // when each of the last units queued for media is written
    private readonly double _ingestNs;
    private int _tagHead;                     // next tag to replace (the oldest)
    private int _head;
    private double _now = double.NegativeInfinity;
    private double _ingestFreeAt;
    private double _mediaFreeAt;

    public DimmWriteState(CostProfile profile)
    {
        int units = profile.WriteCombiningBytes / profile.MediaGranularity;
        _tags = new long[units];
        // With no buffer a write still needs one slot: it is accepted once the previous one is written.
        _drainedAt = new double[Math.Max(units, 1)];
        _ingestNs = profile.DimmWriteIngestNs;
    }

    /// <summary>
    /// Whether media unit <paramref name="unit"/> is already in the write-combining buffer. If it is
    /// not, it replaces the unit buffered longest (first in, first out) and true is returned in
    /// <paramref name="allocated"/>: the unit costs one media write.
    /// </summary>
    public void Combine(long unit, out bool allocated)
    {
        var tags = _tags;
        if (tags.Length == 0)
        {
            allocated = true;
            return;
        }
        long tag = unit + 1;
        // Streams hit the unit they allocated last, so look there before searching the buffer.
        int newest = _tagHead == 0 ? tags.Length - 1 : _tagHead - 1;
        if (tags[newest] == tag || tags.AsSpan().IndexOf(tag) >= 0)
        {
            allocated = false;
            return;
        }
        tags[_tagHead] = tag;
        if (++_tagHead == tags.Length)
            _tagHead = 0;
        allocated = true;
    }

    /// <summary>
    /// A 64-byte write arrives at CPU time <paramref name="arrival"/>; <paramref name="mediaNs"/>
    /// is the media time it adds (0 if it merged into a buffered unit). Returns the CPU time at
    /// which the DIMM has taken it in: no earlier than its arrival, after the previous write's
    /// ingest, and, when it needs a media write, once the buffer has room for one more unit.
    /// </summary>
    public double Accept(double arrival, double mediaNs)
    {
        double lag = _now > arrival ? _now - arrival : 0;
        double t = arrival + lag;
        _now = t;
        if (_ingestFreeAt > t)
            t = _ingestFreeAt;
        if (mediaNs > 0)
        {
            // The unit queued _drainedAt.Length units ago must be on media before this one fits.
            double room = _drainedAt[_head];
            if (room > t)
                t = room;
            double start = _mediaFreeAt > t ? _mediaFreeAt : t;
            _mediaFreeAt = start + mediaNs;
            _drainedAt[_head] = _mediaFreeAt;
            if (++_head == _drainedAt.Length)
                _head = 0;
        }
        _ingestFreeAt = t + _ingestNs;
        return t - lag;
    }
}
