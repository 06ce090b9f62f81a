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
/// stream at the read bandwidth of the DIMMs its range is interleaved over. A cache hit costs
/// <see cref="CostProfile.CacheHitNs"/> per line.</item>
/// <item>A store costs <see cref="CostProfile.StoreNs"/> per line touched: it only dirties the cache.</item>
/// <item>A write-back (clwb/clflushopt/clflush of a dirty line, or a non-temporal store's line)
/// leaves the CPU when one of its <see cref="CostProfile.WriteBackSlots"/> is free (the CPU stalls
/// until then), reaches the DIMM after the write latency, and is in the persistence domain once the
/// DIMM takes it in: one line per <see cref="CostProfile.DimmWriteIngestNs"/>, and only while the
/// write-combining buffer has room. A line whose media unit is already buffered merges; any other
/// queues a whole unit for the media, which drains at the media write bandwidth. Write-backs
/// overlap each other; clflush waits for its own; a fence waits for the last of the CPU's.</item>
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
/// </remarks>
public sealed class CostModel
{
    private const int LineSize = 64;

    private readonly DimmWriteState[] _dimms;
    private readonly int _dimmCount;
    private readonly int _interleaveShift;
    private readonly long _interleaveMask;
    private readonly int _unitShift;
    private readonly double _readNsPerLine;
    private readonly double _ntUnitNs;
    private readonly double _clwbUnitNs;
    private readonly bool _eadr;

    /// <summary>A model charging <paramref name="profile"/>'s numbers; throws <see cref="ArgumentException"/> if the profile is invalid.</summary>
    public CostModel(CostProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        profile.Validate();
        Profile = profile;
        _dimmCount = profile.Dimms;
        _dimms = new DimmWriteState[_dimmCount];
        for (int i = 0; i < _dimms.Length; i++)
            _dimms[i] = new DimmWriteState(profile);
        _interleaveShift = BitOperations.Log2((uint)profile.InterleaveBytes);
        _interleaveMask = profile.InterleaveBytes - 1;
        _unitShift = BitOperations.Log2((uint)profile.MediaGranularity);
        _readNsPerLine = LineSize / profile.ReadBandwidthGBps;
        _ntUnitNs = profile.MediaGranularity / profile.WriteBandwidthNtGBps;
        _clwbUnitNs = profile.MediaGranularity / profile.WriteBandwidthClwbGBps;
        _eadr = profile.Domain == PersistenceDomain.Eadr;
    }

    /// <summary>The profile whose numbers this model charges.</summary>
    public CostProfile Profile { get; }

    /// <summary>Bytes the media writes: one media unit for every write-back that did not merge into the write-combining buffer.</summary>
    public long MediaBytesWritten { get; private set; }

    /// <summary>Bytes written by stores and non-temporal stores (what programs asked for).</summary>
    public long BytesRequested { get; private set; }

    /// <summary>A load of <paramref name="length"/> bytes at region offset <paramref name="offset"/>; <paramref name="cacheHit"/> if its line is cached.</summary>
    public void Load(CpuCostState cpu, long offset, int length, bool cacheHit)
    {
        if (length <= 0)
            return;
        long lines = Lines(offset, length);
        if (cacheHit)
            cpu.Clock.Advance(Profile.CacheHitNs * lines);
        else
        {
            bool sequential = offset == cpu.LastLoadEnd && ReferenceEquals(cpu.LastLoadModel, this);
            double latency = sequential ? Profile.ReadLatencySequentialNs : Profile.ReadLatencyRandomNs;
            long stripes = ((offset + length - 1) >> _interleaveShift) - (offset >> _interleaveShift) + 1;
            long parallel = Math.Min(stripes, _dimmCount);
            cpu.Clock.Advance(latency + (lines - 1) * _readNsPerLine / parallel);
        }
        cpu.LastLoadEnd = offset + length;
        cpu.LastLoadModel = this;
    }

    /// <summary>A store through the cache: the store instructions only.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(CpuCostState cpu, long offset, int length)
    {
        BytesRequested += length;
        cpu.Clock.Advance(Profile.StoreNs * Lines(offset, length));
    }

    /// <summary>Non-temporal stores: each line touched is written back to the DIMM as it is stored.</summary>
    public void NtStore(CpuCostState cpu, long offset, int length)
    {
        BytesRequested += length;
        if (length <= 0)
            return;
        long end = offset + length;
        for (long line = offset & ~(long)(LineSize - 1); line < end; line += LineSize)
        {
            WriteBack(cpu, line, Profile.NtWriteLatencyNs, _ntUnitNs, outstanding: true);
            cpu.Clock.Advance(Profile.StoreNs);
        }
    }

    /// <summary>
    /// A flush instruction on the line at region offset <paramref name="lineOffset"/>;
    /// <paramref name="dirty"/> if it starts a write-back (the line held stores not yet written back).
    /// </summary>
    public void Flush(CpuCostState cpu, FlushKind kind, long lineOffset, bool dirty)
    {
        if (!dirty || _eadr)
        {
            cpu.Clock.Advance(Profile.FlushIssueNs);
            return;
        }
        bool serialising = kind == FlushKind.Clflush;
        double done = WriteBack(cpu, lineOffset, Profile.ClwbWriteLatencyNs, _clwbUnitNs, outstanding: !serialising);
        cpu.Clock.Advance(Profile.FlushIssueNs);
        if (serialising)
            cpu.Clock.AdvanceTo(done);
    }

    /// <summary>A fence: waits until every write-back this CPU issued (in any region) is in the persistence domain.</summary>
    public void Fence(CpuCostState cpu, FenceKind kind)
    {
        cpu.Clock.Advance(Profile.FenceNs);
        cpu.Clock.AdvanceTo(cpu.WriteBackDoneAt);
        cpu.OutstandingWriteBacks = 0;
    }

    // Sends one line towards its DIMM at the CPU's current time (after waiting for a free slot)
    // and returns when the DIMM has taken it in.
    private double WriteBack(CpuCostState cpu, long line, double latencyNs, double unitNs, bool outstanding)
    {
        long n = cpu.WriteBacksIssued;
        int slots = Profile.WriteBackSlots;
        if (n >= slots)
            cpu.Clock.AdvanceTo(cpu.SlotFreeAt[(n - slots) % CostProfile.MaxWriteBackSlots]);
        double departure = cpu.Clock.Nanoseconds;

        DimmWriteState dimm;
        long dimmOffset;
        if (_dimmCount == 1)
        {
            dimm = _dimms[0];
            dimmOffset = line;
        }
        else
        {
            long stripe = line >> _interleaveShift;
            dimm = _dimms[(int)(stripe % _dimmCount)];
            dimmOffset = ((stripe / _dimmCount) << _interleaveShift) | (line & _interleaveMask);
        }
        dimm.Combine(dimmOffset >> _unitShift, out bool allocated);
        if (allocated)
            MediaBytesWritten += Profile.MediaGranularity;
        double done = dimm.Accept(departure + latencyNs, allocated ? unitNs : 0);

        cpu.SlotFreeAt[n % CostProfile.MaxWriteBackSlots] = done;
        cpu.WriteBacksIssued = n + 1;
        if (done > cpu.WriteBackDoneAt)
            cpu.WriteBackDoneAt = done;
        if (outstanding)
            cpu.OutstandingWriteBacks++;
        return done;
    }

    private static long Lines(long offset, int length) =>
        length <= 0 ? 0 : ((offset + length + LineSize - 1) >> 6) - (offset >> 6);
}
