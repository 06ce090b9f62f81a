using DaxStack.Device.Diagnostics;
using DaxStack.Tests.Shared;

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

        var seen = DeviceMeterReading.Observe();

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
        var before = DeviceMeterReading.Observe();
        CollectUntilGone(space);
        var after = DeviceMeterReading.Observe();
        Assert.Multiple(() =>
        {
            Assert.That(before["daxstack.device.stores"], Is.EqualTo(3));
            Assert.That(after["daxstack.device.stores"], Is.EqualTo(3), "an observable counter never goes down");
            Assert.That(after["daxstack.device.bytes_stored"], Is.EqualTo(before["daxstack.device.bytes_stored"]));
            Assert.That(after["daxstack.device.media_bytes_written"], Is.EqualTo(before["daxstack.device.media_bytes_written"]).And.Positive);
            Assert.That(after["daxstack.device.modeled_time"], Is.EqualTo(before["daxstack.device.modeled_time"]).And.Positive);
        });
    }

    /// <summary>
    /// Audit: the meter kept only the CPUs and regions a space had when it was last observed (or
    /// attached), so the counts of a CPU or region created after that were lost for good when the
    /// space was collected before the next observation: a space attached empty, as the ndctl
    /// command attaches its bus's space, then given a region and a CPU that stored 3 times,
    /// reported 0 stores, no media bytes and no modeled time once collected.
    /// </summary>
    [Test]
    public void TheCountsOfCpusAndRegionsCreatedAfterTheLastObservationSurviveACollection()
    {
        using var metrics = new DeviceMetrics();
        var space = UseAndDropASpaceAttachedEmpty(metrics);
        CollectUntilGone(space);
        var after = DeviceMeterReading.Observe();
        Assert.Multiple(() =>
        {
            Assert.That(after["daxstack.device.stores"], Is.EqualTo(3));
            Assert.That(after["daxstack.device.clwb"], Is.EqualTo(3));
            Assert.That(after["daxstack.device.media_bytes_written"], Is.Positive);
            Assert.That(after["daxstack.device.modeled_time"], Is.Positive);
        });
    }

    /// <summary>Audit: a space attached twice was counted twice (1 store reported as 2).</summary>
    [Test]
    public void ASpaceAttachedTwiceIsCountedOnce()
    {
        using var metrics = new DeviceMetrics();
        using var d = new DeviceFixture();
        metrics.Attach(d.Space);
        metrics.Attach(d.Space);
        d.Cpu.Store(d.Pa(0), new byte[64]);
        var seen = DeviceMeterReading.Observe();
        Assert.Multiple(() =>
        {
            Assert.That(seen["daxstack.device.stores"], Is.EqualTo(1));
            Assert.That(seen["daxstack.device.modeled_time"], Is.EqualTo(d.Cpu.Clock.Nanoseconds).Within(1e-6));
        });
    }

    /// <summary>
    /// A retired CPU leaves the space, but not the totals: its counts join the sums the space keeps
    /// for its retired CPUs, so no counter goes down, and the totals go on growing with the live CPUs.
    /// </summary>
    [Test]
    public void TheCountsOfRetiredCpusStayInTheTotals()
    {
        using var metrics = new DeviceMetrics();
        using var d = new DeviceFixture();
        metrics.Attach(d.Space);
        var cpus = Enumerable.Range(0, 3).Select(_ => d.Space.CreateCpu()).ToArray();
        for (int c = 0; c < cpus.Length; c++)
        {
            for (int i = 0; i <= c; i++)
            {
                cpus[c].Store(d.Pa(4096 * c + 64 * i), new byte[64]);
                cpus[c].Clwb(d.Pa(4096 * c + 64 * i));
            }
            cpus[c].Sfence();
            cpus[c].Load(d.Pa(4096 * c), new byte[128]);
        }
        var before = DeviceMeterReading.Observe();
        d.Space.RetireCpu(cpus[1]);
        var one = DeviceMeterReading.Observe();
        d.Space.RetireCpu(cpus[0]);
        d.Space.RetireCpu(cpus[2]);
        var all = DeviceMeterReading.Observe();
        d.Cpu.Store(d.Pa(0), new byte[64]);
        var later = DeviceMeterReading.Observe();

        Assert.Multiple(() =>
        {
            Assert.That(before["daxstack.device.stores"], Is.EqualTo(6));
            foreach (var (name, value) in before)
            {
                if (name == "daxstack.device.modeled_time")
                {
                    Assert.That(one[name], Is.GreaterThanOrEqualTo(value).And.EqualTo(value).Within(1e-9).Percent, name);
                    Assert.That(all[name], Is.GreaterThanOrEqualTo(one[name]).And.EqualTo(value).Within(1e-9).Percent, name);
                    Assert.That(later[name], Is.GreaterThan(all[name]), name);
                }
                else
                {
                    Assert.That(one[name], Is.EqualTo(value), $"{name} after one CPU retired");
                    Assert.That(all[name], Is.EqualTo(value), $"{name} after every created CPU retired");
                }
            }
            Assert.That(later["daxstack.device.stores"], Is.EqualTo(7));
        });
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static WeakReference<Device.Platform.PhysicalAddressSpace> UseAndDropASpaceAttachedEmpty(DeviceMetrics metrics)
    {
        using var space = new Device.Platform.PhysicalAddressSpace();
        metrics.Attach(space);
        var region = new Device.Platform.NvdimmRegion("late", new Device.Media.NativeMedia(1 << 20), Device.Cost.CostProfiles.OptaneAdr);
        space.AddRegion(region);
        var cpu = space.CreateCpu();
        for (int i = 0; i < 3; i++)
        {
            cpu.Store(region.BaseAddress + i * 4096, new byte[64]);
            cpu.Clwb(region.BaseAddress + i * 4096);
        }
        cpu.Sfence();
        return new WeakReference<Device.Platform.PhysicalAddressSpace>(space);
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

    // Collects until the space is gone (a few collections at most), and asserts that it is.
    private static void CollectUntilGone(WeakReference<Device.Platform.PhysicalAddressSpace> space)
    {
        for (int i = 0; i < 20 && IsAlive(space); i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        Assert.That(IsAlive(space), Is.False, "the space was collected");
    }
}
