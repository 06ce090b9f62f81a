using System.Numerics;
using System.Runtime.CompilerServices;
using DaxStack.Device.Persistence;

namespace DaxStack.Device.Cost;

/// <summary>
/// Charges each device operation its modeled latency on the calling CPU's clock and counts the
/// bytes the media writes (whole media units, the 256-byte XPLine on Optane) against the bytes
/// programs stored. One per region; the per-CPU part lives in <see cref="CpuCostState"/>.
/// </summary>
/// <remarks>
/// <para>The structure, whose parameters come from the <see cref="CostProfile"/>:</para>
/// <list type="bullet">
/// <item>A load that misses the cache costs the idle latency of its first line (sequential when it
/// starts in the same region where this CPU's previous load ended, random otherwise); its further lines
/// stream at the read bandwidth of the DIMMs its range is interleaved over. A line the CPU's
/// last-level cache holds (<see cref="LastLevelCache"/>: lines loaded or stored, and kept by clwb,
/// until clflush, clflushopt, a non-temporal store, a conflicting line or a power failure takes
/// them out) costs <see cref="CostProfile.CacheHitNs"/> instead; in a load of several lines the
/// lines that miss are charged as a load of that many.</item>
/// <item>A store costs <see cref="CostProfile.StoreNs"/> per line touched: it only dirties the cache.</item>
/// <item>A write-back (clwb/clflushopt/clflush of a dirty line that no earlier write-back covers,
/// or a non-temporal store's line)
/// leaves the CPU when one of its <see cref="CostProfile.WriteBackSlots"/> is free (the CPU stalls
/// until then), reaches the DIMM after the write latency, and is in the persistence domain once the
/// DIMM takes it in: one line per <see cref="CostProfile.DimmWriteIngestNs"/>, and only while the
/// write-combining buffer has room. A line whose media unit is already buffered merges; any other
/// queues a whole unit for the media, which drains at the media write bandwidth. Write-backs
/// overlap each other; clflush waits for its own; a fence waits for the last of the CPU's, in
/// every region, after <see cref="CostProfile.FenceNs"/> (the CPU's fence takes the largest of
/// the regions it has write-backs outstanding to).</item>
/// <item>eADR: caches are persistent, so flushes cost only their issue and a fence with no
/// non-temporal stores in flight only <see cref="CostProfile.FenceNs"/>. Non-temporal stores
/// bypass the caches and still travel to the DIMM.</item>
/// </list>
/// <para>So a single persist sees the write latency plus the DIMM's per-line ingest, while a long
/// stream fills the buffer and settles at the media bandwidth. CPUs keep separate clocks; the
/// DIMMs they share take writes in the order the emulator executes them, and a CPU whose clock is
/// behind the DIMM's is charged the DIMM's congestion but not the difference between the clocks.
/// Callers hold the region lock for every method except <see cref="Fence"/>, which touches only
/// the CPU's state.</para>
/// <para>Cost: a store, load or fence is a few arithmetic operations. Write-backs are charged line
/// by line (each line's landing depends on the line before), but a range is handed to the DIMMs a
/// stripe at a time and each DIMM times the stripe's lines in one tight loop with its media units
/// looked up once per unit, and, once the stripe settles into the ingest-bound regime, visits only
/// the lines that queue a media unit; a long stripe whose every unit allocates is looked up in one
/// step and, while the media sets the pace, timed in one step (<see cref="DimmWriteState"/>); a range of clean lines, or any range
/// on eADR, is charged its issue costs in one step when that rounds the same as one line at a time
/// (<see cref="ExactSum"/>). A range flushed with
/// <see cref="Flush(CpuCostState, FlushKind, long, long, bool)"/> or stored with
/// <see cref="NtStore"/> costs, bit for bit, what the same instructions one line at a time cost.</para>
/// </remarks>
public sealed class CostModel
{
    private const int LineSize = 64;
    private const int LineShift = 6;

    private readonly DimmWriteState[] _dimms;
    private readonly int _dimmCount;
    private readonly int _interleaveShift;
    private readonly long _interleaveMask;
    private readonly long _mediaGranularity;
    private readonly double _readNsPerLine;
    private readonly double _ntUnitNs;
    private readonly double _clwbUnitNs;
    private readonly bool _eadr;
    // The profile's numbers, read on every operation: fields, not the record's properties, so that
    // nothing has to be re-read through the profile reference on the hot paths.
    private readonly double _cacheHitNs;
    private readonly double _readLatencySequentialNs;
    private readonly double _readLatencyRandomNs;
    private readonly double _storeNs;
    private readonly double _ntWriteLatencyNs;
    private readonly double _clwbWriteLatencyNs;
    private readonly double _flushIssueNs;
    private readonly double _fenceNs;
    private readonly int _writeBackSlots;
    private readonly LastLevelCache _cache;

    /// <summary>
    /// A model charging <paramref name="profile"/>'s numbers for a region at least as large as the
    /// profile's cache; throws <see cref="ArgumentException"/> if the profile is invalid.
    /// </summary>
    public CostModel(CostProfile profile) : this(profile, profile?.CacheBytes ?? 0)
    {
    }

    /// <summary>
    /// A model charging <paramref name="profile"/>'s numbers for a region of
    /// <paramref name="regionBytes"/> (which sizes the cache's bookkeeping: a region smaller than the
    /// cache needs only a sector per page); throws <see cref="ArgumentException"/> if the profile is invalid.
    /// </summary>
    public CostModel(CostProfile profile, long regionBytes)
    {
        ArgumentNullException.ThrowIfNull(profile);
        profile.Validate();
        ArgumentOutOfRangeException.ThrowIfNegative(regionBytes);
        Profile = profile;
        _cache = new LastLevelCache(profile.CacheBytes, regionBytes);
        _dimmCount = profile.Dimms;
        _dimms = new DimmWriteState[_dimmCount];
        for (int i = 0; i < _dimms.Length; i++)
            _dimms[i] = new DimmWriteState(profile);
        _interleaveShift = BitOperations.Log2((uint)profile.InterleaveBytes);
        _interleaveMask = profile.InterleaveBytes - 1;
        _mediaGranularity = profile.MediaGranularity;
        _readNsPerLine = LineSize / profile.ReadBandwidthGBps;
        _ntUnitNs = profile.MediaGranularity / profile.WriteBandwidthNtGBps;
        _clwbUnitNs = profile.MediaGranularity / profile.WriteBandwidthClwbGBps;
        _eadr = profile.Domain == PersistenceDomain.Eadr;
        _cacheHitNs = profile.CacheHitNs;
        _readLatencySequentialNs = profile.ReadLatencySequentialNs;
        _readLatencyRandomNs = profile.ReadLatencyRandomNs;
        _storeNs = profile.StoreNs;
        _ntWriteLatencyNs = profile.NtWriteLatencyNs;
        _clwbWriteLatencyNs = profile.ClwbWriteLatencyNs;
        _flushIssueNs = profile.FlushIssueNs;
        _fenceNs = profile.FenceNs;
        _writeBackSlots = profile.WriteBackSlots;
    }

    /// <summary>The profile whose numbers this model charges.</summary>
    public CostProfile Profile { get; }

    /// <summary>Bytes the media writes: one media unit for every write-back that did not merge into the write-combining buffer.</summary>
    public long MediaBytesWritten { get; private set; }

    /// <summary>Bytes written by stores and non-temporal stores (what programs asked for).</summary>
    public long BytesRequested { get; private set; }

    /// <summary>Lines the modeled last-level cache can hold for this region (0 when the profile models none).</summary>
    public long CacheLines => _cache.Entries;

    /// <summary>
    /// A power failure of the region: every DIMM comes back with an empty write-combining buffer
    /// and an idle media queue (what it held was drained to the media), as when the model was
    /// made. The counts are kept. The caller holds the region's lock.
    /// </summary>
    internal void PowerFailure()
    {
        foreach (var dimm in _dimms)
            dimm.PowerCycle();
        _cache.Clear();
    }

    /// <summary>
    /// A load of <paramref name="length"/> bytes at region offset <paramref name="offset"/>: its
    /// lines that the cache holds cost a hit each, the others a load from the media; every line is
    /// cached afterwards. Returns how many lines hit.
    /// </summary>
    public long Load(CpuCostState cpu, long offset, int length)
    {
        if (length <= 0)
            return 0;
        long lines = Lines(offset, length);
        long hits = _cache.Touch(offset >> LineShift, lines);
        Charge(cpu, offset, length, lines, hits);
        return hits;
    }

    /// <summary>
    /// A load of <paramref name="length"/> bytes at region offset <paramref name="offset"/> charged
    /// as if every line hit the cache (<paramref name="cacheHit"/>) or none did, without looking at
    /// or changing what the cache holds.
    /// </summary>
    public void Load(CpuCostState cpu, long offset, int length, bool cacheHit)
    {
        if (length <= 0)
            return;
        long lines = Lines(offset, length);
        Charge(cpu, offset, length, lines, cacheHit ? lines : 0);
    }

    // A load of 'lines' lines of which 'hits' hit the cache: the hits at the hit cost, the misses as
    // a load of that many from the media (its first line's latency, the rest streaming).
    private void Charge(CpuCostState cpu, long offset, int length, long lines, long hits)
    {
        long misses = lines - hits;
        if (misses == 0)
            cpu.Clock.Advance(_cacheHitNs * lines);
        else
        {
            bool sequential = offset == cpu.LastLoadEnd && ReferenceEquals(cpu.LastLoadModel, this);
            double latency = sequential ? _readLatencySequentialNs : _readLatencyRandomNs;
            long stripes = ((offset + length - 1) >> _interleaveShift) - (offset >> _interleaveShift) + 1;
            long parallel = Math.Min(stripes, _dimmCount);
            double media = latency + (misses - 1) * _readNsPerLine / parallel;
            cpu.Clock.Advance(hits == 0 ? media : _cacheHitNs * hits + media);
        }
        cpu.LastLoadEnd = offset + length;
        cpu.LastLoadModel = this;
    }

    /// <summary>A store through the cache: the store instructions only.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(CpuCostState cpu, long offset, int length)
    {
        BytesRequested += length;
        long lines = Lines(offset, length);
        _cache.Fill(offset >> LineShift, lines);
        cpu.Clock.Advance(_storeNs * lines);
    }

    /// <summary>Non-temporal stores: each line touched is written back to the DIMM as it is stored.</summary>
    public void NtStore(CpuCostState cpu, long offset, int length)
    {
        BytesRequested += length;
        if (length <= 0)
            return;
        long first = offset & ~(long)(LineSize - 1);
        long lines = Lines(offset, length);
        // Non-temporal stores bypass the cache and invalidate any copy it holds.
        _cache.Evict(offset >> LineShift, lines);
        if (lines == 1)
            WriteBackLine(cpu, first, _ntWriteLatencyNs, _ntUnitNs, _storeNs, serialising: false);
        else
            WriteBackRun(cpu, first, lines, _ntWriteLatencyNs, _ntUnitNs, _storeNs, serialising: false);
        cpu.OutstandingWriteBacks += lines;
    }

    /// <summary>
    /// A flush instruction on the line at region offset <paramref name="lineOffset"/>;
    /// <paramref name="dirty"/> if it starts a write-back (the line held stores not yet written back).
    /// </summary>
    public void Flush(CpuCostState cpu, FlushKind kind, long lineOffset, bool dirty)
    {
        // clflush and clflushopt evict the line, dirty or not; clwb keeps it.
        if (kind != FlushKind.Clwb)
            _cache.Evict(lineOffset >> LineShift, 1);
        if (!dirty || _eadr)
        {
            cpu.Clock.Advance(_flushIssueNs);
            return;
        }
        bool serialising = kind == FlushKind.Clflush;
        WriteBackLine(cpu, lineOffset & ~(long)(LineSize - 1), _clwbWriteLatencyNs, _clwbUnitNs, _flushIssueNs, serialising);
        if (!serialising)
            cpu.OutstandingWriteBacks++;
    }

    /// <summary>
    /// The flush instruction <paramref name="kind"/> on each of the <paramref name="lineCount"/>
    /// consecutive lines from region offset <paramref name="firstLineOffset"/>, in order;
    /// <paramref name="dirty"/> if each starts a write-back. Charges exactly what calling
    /// <see cref="Flush(CpuCostState, FlushKind, long, bool)"/> for each line would.
    /// </summary>
    public void Flush(CpuCostState cpu, FlushKind kind, long firstLineOffset, long lineCount, bool dirty)
    {
        if (lineCount <= 0)
            return;
        if (kind != FlushKind.Clwb)
            _cache.Evict(firstLineOffset >> LineShift, lineCount);
        if (!dirty || _eadr)
        {
            // Issue costs only: lineCount additions, in one step when that rounds the same.
            cpu.Clock.AdvanceTo(ExactSum.AddRepeated(cpu.Clock.Nanoseconds, _flushIssueNs, lineCount));
            return;
        }
        bool serialising = kind == FlushKind.Clflush;
        long first = firstLineOffset & ~(long)(LineSize - 1);
        if (lineCount == 1)
            WriteBackLine(cpu, first, _clwbWriteLatencyNs, _clwbUnitNs, _flushIssueNs, serialising);
        else
            WriteBackRun(cpu, first, lineCount, _clwbWriteLatencyNs, _clwbUnitNs, _flushIssueNs, serialising);
        if (!serialising)
            cpu.OutstandingWriteBacks += lineCount;
    }

    /// <summary>The profile's <see cref="CostProfile.FenceNs"/>: what a fence costs beyond waiting for write-backs.</summary>
    internal double FenceNs => _fenceNs;

    /// <summary>
    /// A fence: waits until every write-back this CPU issued (in any region) is in the persistence
    /// domain, at this model's <see cref="CostProfile.FenceNs"/>.
    /// </summary>
    public void Fence(CpuCostState cpu, FenceKind kind) => FenceWithCost(cpu, _fenceNs);

    /// <summary>
    /// A fence of its own cost <paramref name="fenceNs"/>: waits until every write-back this CPU
    /// issued (in any region) is in the persistence domain. The CPU's fence, which chooses the
    /// cost from the regions it completes write-backs to.
    /// </summary>
    internal static void FenceWithCost(CpuCostState cpu, double fenceNs)
    {
        cpu.Clock.Advance(fenceNs);
        cpu.Clock.AdvanceTo(cpu.WriteBackDoneAt);
        cpu.OutstandingWriteBacks = 0;
    }

    // Sends the line at region offset 'line' towards its DIMM (DimmWriteState.WriteBackLine).
    private void WriteBackLine(CpuCostState cpu, long line, double latencyNs, double unitNs, double issueNs, bool serialising)
    {
        var dimm = _dimms[0];
        long dimmOffset = line;
        if (_dimmCount != 1)
        {
            long stripe = line >> _interleaveShift;
            dimm = _dimms[(int)(stripe % _dimmCount)];
            dimmOffset = ((stripe / _dimmCount) << _interleaveShift) | (line & _interleaveMask);
        }
        if (dimm.WriteBackLine(cpu, _writeBackSlots, dimmOffset, latencyNs, unitNs, issueNs, serialising))
            MediaBytesWritten += _mediaGranularity;
    }

    // Sends 'lines' consecutive lines from region offset 'first' towards their DIMMs, one DIMM's
    // stripe at a time (DimmWriteState.WriteBackRun).
    private void WriteBackRun(CpuCostState cpu, long first, long lines, double latencyNs, double unitNs, double issueNs, bool serialising)
    {
        var stream = new WriteBackStream(cpu, _writeBackSlots, latencyNs, unitNs, issueNs, serialising);
        long units = 0;
        if (_dimmCount == 1)
            units = _dimms[0].WriteBackRun(ref stream, first, lines);
        else
        {
            // Stripe after stripe round the DIMMs: the first may start mid-stripe, the rest are
            // whole stripes until the last. Divisions only for the first.
            long stripe = first >> _interleaveShift;
            int dimm = (int)(stripe % _dimmCount);
            long dimmStripe = stripe / _dimmCount;
            long inStripe = first & _interleaveMask;
            while (lines > 0)
            {
                long n = Math.Min(lines, (_interleaveMask + 1 - inStripe) >> LineShift);
                units += _dimms[dimm].WriteBackRun(ref stream, (dimmStripe << _interleaveShift) | inStripe, n);
                lines -= n;
                inStripe = 0;
                if (++dimm == _dimmCount)
                {
                    dimm = 0;
                    dimmStripe++;
                }
            }
        }
        stream.Finish(cpu);
        MediaBytesWritten += units * _mediaGranularity;
    }

    private static long Lines(long offset, int length) =>
        length <= 0 ? 0 : ((offset + length + LineSize - 1) >> LineShift) - (offset >> LineShift);
}
