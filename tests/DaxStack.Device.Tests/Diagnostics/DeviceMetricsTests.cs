using System.Diagnostics.Metrics;
using DaxStack.Device.Diagnostics;

namespace DaxStack.Device.Tests.Diagnostics;

public class DeviceMetricsTests
{
    [Test]
    public void TheMeterReportsInstructionCountsBytesAndModeledTime()
    {
        using var metrics = new DeviceMetrics();
        using var d = new DeviceFixture();
        metrics.Attach(d.Space);
        d.Cpu.Store(d.Pa(0), new byte[128]);
        d.Cpu.Flush(Device.Cost.FlushKind.Clwb, d.Pa(0), 128);
        d.Cpu.Sfence();
        d.Cpu.Load(d.Pa(0), new byte[64]);

        var seen = Observe();

        Assert.Multiple(() =>
        {
            Assert.That(seen["daxstack.device.stores"], Is.EqualTo(1));
            Assert.That(seen["daxstack.device.clwb"], Is.EqualTo(2));
            Assert.That(seen["daxstack.device.sfence"], Is.EqualTo(1));
            Assert.That(seen["daxstack.device.loads"], Is.EqualTo(1));
            Assert.That(seen["daxstack.device.bytes_stored"], Is.EqualTo(128));
            Assert.That(seen["daxstack.device.media_bytes_written"], Is.GreaterThanOrEqualTo(128));
            Assert.That(seen["daxstack.device.modeled_time"], Is.EqualTo(d.Cpu.Clock.Nanoseconds).Within(1e-6));
        });
    }

    [Test]
    public void TheCountsOfASpaceThatWasCollectedStayInTheTotals()
    {
        using var metrics = new DeviceMetrics();
        var space = UseAndDropASpace(metrics);
        var before = Observe();
        for (int i = 0; i < 20 && IsAlive(space); i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        Assert.That(IsAlive(space), Is.False, "the space was collected");
        var after = Observe();
        Assert.Multiple(() =>
        {
            Assert.That(before["daxstack.device.stores"], Is.EqualTo(3));
            Assert.That(after["daxstack.device.stores"], Is.EqualTo(3), "an observable counter never goes down");
            Assert.That(after["daxstack.device.bytes_stored"], Is.EqualTo(before["daxstack.device.bytes_stored"]));
            Assert.That(after["daxstack.device.media_bytes_written"], Is.EqualTo(before["daxstack.device.media_bytes_written"]).And.Positive);
            Assert.That(after["daxstack.device.modeled_time"], Is.EqualTo(before["daxstack.device.modeled_time"]).And.Positive);
        });
    }

    // A space attached to 'metrics' that stores, persists and is disposed; only a weak reference leaves.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static WeakReference<Device.Platform.PhysicalAddressSpace> UseAndDropASpace(DeviceMetrics metrics)
    {
        using var d = new DeviceFixture();
        metrics.Attach(d.Space);
        for (int i = 0; i < 3; i++)
        {
            d.Cpu.Store(d.Pa(i * 4096), new byte[64]);
            d.Cpu.Clwb(d.Pa(i * 4096));
        }
        d.Cpu.Sfence();
        return new WeakReference<Device.Platform.PhysicalAddressSpace>(d.Space);
    }

    // In a frame of its own: unoptimised code keeps a target it read here alive to the end of the caller.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static bool IsAlive(WeakReference<Device.Platform.PhysicalAddressSpace> space) => space.TryGetTarget(out _);

    // One collection of the meter's instruments, as a listener such as dotnet-counters makes it.
    private static Dictionary<string, double> Observe()
    {
        var seen = new Dictionary<string, double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == DeviceMetrics.MeterName)
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((i, v, _, _) => seen[i.Name] = seen.GetValueOrDefault(i.Name) + v);
        listener.SetMeasurementEventCallback<double>((i, v, _, _) => seen[i.Name] = seen.GetValueOrDefault(i.Name) + v);
        listener.Start();
        listener.RecordObservableInstruments();
        return seen;
    }
}
