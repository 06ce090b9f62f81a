using System.Diagnostics.Metrics;
using DaxStack.Device.Cost;
using DaxStack.Device.Platform;

namespace DaxStack.Device.Diagnostics;

/// <summary>
/// The <c>DaxStack.Device</c> meter: instruction counts, bytes, media bytes written and modeled
/// time of every attached address space, as observable counters (read when a listener such as
/// dotnet-counters collects, so the store path pays nothing for them).
/// </summary>
/// <remarks>
/// The meter does not keep a space alive. It remembers, for each space, the objects that hold its
/// counts (each CPU's <see cref="CpuStats"/> and clock, each region's <see cref="CostModel"/>),
/// which the space keeps current as CPUs and regions are added; once the space has been collected
/// its last counts are added to running totals and those objects let go. A CPU the space retires
/// (<see cref="PhysicalAddressSpace.RetireCpu"/>) leaves its counts in one sum the space keeps for
/// all its retired CPUs. So every counter only grows, as an observable counter must, whatever
/// happens to the CPUs and spaces behind it.
/// </remarks>
public sealed class DeviceMetrics : IDisposable
{
    /// <summary>The meter name.</summary>
    public const string MeterName = "DaxStack.Device";

    // The per-CPU counts, in the order of _retired's first entries.
    private static readonly (string Name, string Unit, Func<CpuStats, long> Read)[] CpuCounters =
    [
        ("daxstack.device.loads", "{instruction}", s => s.Loads),
        ("daxstack.device.stores", "{instruction}", s => s.Stores),
        ("daxstack.device.ntstores", "{instruction}", s => s.NtStores),
        ("daxstack.device.clflush", "{instruction}", s => s.Clflush),
        ("daxstack.device.clflushopt", "{instruction}", s => s.Clflushopt),
        ("daxstack.device.clwb", "{instruction}", s => s.Clwb),
        ("daxstack.device.sfence", "{instruction}", s => s.Sfence),
        ("daxstack.device.mfence", "{instruction}", s => s.Mfence),
        ("daxstack.device.machine_checks", "{event}", s => s.MachineChecks),
        ("daxstack.device.bytes_loaded", "By", s => s.BytesLoaded),
        ("daxstack.device.cache_hit_lines", "{line}", s => s.CacheHitLines),
        ("daxstack.device.cache_miss_lines", "{line}", s => s.CacheMissLines),
        ("daxstack.device.bytes_stored", "By", s => s.BytesStored + s.BytesNtStored),
    ];

    private readonly Meter _meter = new(MeterName);
    private readonly List<Attached> _spaces = [];
    // Counts of the spaces already collected: the CPU counters, then media bytes.
    private readonly long[] _retired = new long[CpuCounters.Length + 1];
    private double _retiredTime;
    // The modeled time last reported. The total is a sum of doubles whose grouping changes when a
    // space is collected or a CPU retired (its time joins a sum), which may round it an ulp below
    // the previous total: the counter reports the larger.
    private double _reportedTime;

    public DeviceMetrics()
    {
        for (int i = 0; i < CpuCounters.Length; i++)
        {
            var read = CpuCounters[i].Read;
            int index = i;
            _meter.CreateObservableCounter(CpuCounters[i].Name, () => Total(index, a => a.Cpus.Sum(c => read(c.Stats))), CpuCounters[i].Unit);
        }
        int media = CpuCounters.Length;
        _meter.CreateObservableCounter("daxstack.device.media_bytes_written", () => Total(media, a => a.Regions.Sum(r => r.MediaBytesWritten)), "By",
            "bytes written to media in whole media units (XPLine write amplification included)");
        _meter.CreateObservableCounter("daxstack.device.modeled_time", ModeledTime, "ns",
            "modeled nanoseconds charged to all CPUs");
    }

    /// <summary>Reports <paramref name="space"/>'s counts from now on, and keeps them in the totals after the space is gone.</summary>
    public void Attach(PhysicalAddressSpace space)
    {
        ArgumentNullException.ThrowIfNull(space);
        lock (_spaces)
        {
            Refresh();
            // Attaching a space again changes nothing: its counts are reported once.
            foreach (var a in _spaces)
                if (a.Space.TryGetTarget(out var attached) && ReferenceEquals(attached, space))
                    return;
            _spaces.Add(new Attached(space));
        }
    }

    private long Total(int counter, Func<Attached, long> read)
    {
        lock (_spaces)
        {
            Refresh();
            long total = _retired[counter];
            foreach (var a in _spaces)
                total += read(a);
            return total;
        }
    }

    private double ModeledTime()
    {
        lock (_spaces)
        {
            Refresh();
            double total = _retiredTime;
            foreach (var a in _spaces)
                total += a.Cpus.Sum(c => c.Clock.Nanoseconds);
            _reportedTime = Math.Max(_reportedTime, total);
            return _reportedTime;
        }
    }

    // Under the lock: collected spaces' last counts moved into the running totals (live spaces
    // keep their count holders current themselves).
    private void Refresh()
    {
        for (int i = _spaces.Count - 1; i >= 0; i--)
        {
            var a = _spaces[i];
            if (a.Space.TryGetTarget(out _))
                continue;
            for (int c = 0; c < CpuCounters.Length; c++)
                _retired[c] += a.Cpus.Sum(cpu => CpuCounters[c].Read(cpu.Stats));
            _retired[CpuCounters.Length] += a.Regions.Sum(r => r.MediaBytesWritten);
            _retiredTime += a.Cpus.Sum(cpu => cpu.Clock.Nanoseconds);
            _spaces.RemoveAt(i);
        }
    }

    public void Dispose() => _meter.Dispose();

    // One attached space, held weakly, and the objects that hold its counts, held strongly: the
    // space keeps them up to date as CPUs and regions are added and CPUs retired, so the counts
    // of those added after the last observation are not lost when the space is collected.
    private sealed class Attached(PhysicalAddressSpace space)
    {
        private readonly PhysicalAddressSpace.CountHolders _counts = space.Counts;

        public WeakReference<PhysicalAddressSpace> Space { get; } = new(space);

        public (CpuStats Stats, SimClock Clock)[] Cpus => _counts.Cpus;

        public CostModel[] Regions => _counts.Regions;
    }
}
