using System.Diagnostics.Metrics;
using DaxStack.Device.Platform;

namespace DaxStack.Device.Diagnostics;

/// <summary>
/// The <c>DaxStack.Device</c> meter: instruction counts, bytes, media bytes written and modeled
/// time of every attached address space, as observable counters (read when a listener such as
/// dotnet-counters collects, so the store path pays nothing for them).
/// </summary>
public sealed class DeviceMetrics : IDisposable
{
    /// <summary>The meter name.</summary>
    public const string MeterName = "DaxStack.Device";

    private readonly Meter _meter = new(MeterName);
    private readonly List<WeakReference<PhysicalAddressSpace>> _spaces = [];

    public DeviceMetrics()
    {
        Counter("daxstack.device.loads", "{instruction}", s => s.Loads);
        Counter("daxstack.device.stores", "{instruction}", s => s.Stores);
        Counter("daxstack.device.ntstores", "{instruction}", s => s.NtStores);
        Counter("daxstack.device.clflush", "{instruction}", s => s.Clflush);
        Counter("daxstack.device.clflushopt", "{instruction}", s => s.Clflushopt);
        Counter("daxstack.device.clwb", "{instruction}", s => s.Clwb);
        Counter("daxstack.device.sfence", "{instruction}", s => s.Sfence);
        Counter("daxstack.device.mfence", "{instruction}", s => s.Mfence);
        Counter("daxstack.device.machine_checks", "{event}", s => s.MachineChecks);
        Counter("daxstack.device.bytes_loaded", "By", s => s.BytesLoaded);
        Counter("daxstack.device.bytes_stored", "By", s => s.BytesStored + s.BytesNtStored);
        _meter.CreateObservableCounter("daxstack.device.media_bytes_written", () => Sum(sp => sp.Regions.Sum(r => r.Cost.MediaBytesWritten)), "By",
            "bytes written to media in whole media units (XPLine write amplification included)");
        _meter.CreateObservableCounter("daxstack.device.modeled_time", () => SumDouble(sp => sp.Cpus.Sum(c => c.Clock.Nanoseconds)), "ns",
            "modeled nanoseconds charged to all CPUs");
    }

    /// <summary>Reports <paramref name="space"/>'s counts from now on.</summary>
    public void Attach(PhysicalAddressSpace space)
    {
        lock (_spaces)
            _spaces.Add(new WeakReference<PhysicalAddressSpace>(space));
    }

    private void Counter(string name, string unit, Func<CpuStats, long> read) =>
        _meter.CreateObservableCounter(name, () => Sum(sp => sp.Cpus.Sum(c => read(c.Stats))), unit);

    private long Sum(Func<PhysicalAddressSpace, long> f)
    {
        long total = 0;
        lock (_spaces)
            foreach (var w in _spaces)
                if (w.TryGetTarget(out var sp))
                    total += f(sp);
        return total;
    }

    private double SumDouble(Func<PhysicalAddressSpace, double> f)
    {
        double total = 0;
        lock (_spaces)
            foreach (var w in _spaces)
                if (w.TryGetTarget(out var sp))
                    total += f(sp);
        return total;
    }

    public void Dispose() => _meter.Dispose();
}
