using DaxStack.Device.Crash;
using DaxStack.Device.Diagnostics;
using DaxStack.Tests.Shared;
using DaxStack.Device.Media;
using DaxStack.Device.Namespaces;
using DaxStack.Driver.Block;
using DaxStack.Driver.Hosting;
using DaxStack.Driver.Pmem;

namespace DaxStack.Driver.Tests.Block;

/// <summary>
/// The emulated CPUs of a device's submission queues live as long as the device is bound: an
/// unbind (a detach, or its namespace destroyed or reconfigured) retires them once the queues are
/// drained, so a process that attaches and detaches devices keeps a constant number of CPUs, and
/// an operation that waited for its queue through the unbind executes nothing on a retired CPU.
/// </summary>
public class PmemQueueCpuTests
{
    private const int Page = 4096;

    /// <summary>
    /// Audit: every attach made one CPU per queue that stayed in the platform for good, so a loop
    /// of attach and detach grew the CPU list (and the memory, the power failure's loop and every
    /// metrics collection) without bound: 10,000 cycles of a 4-queue device left 40,004 CPUs.
    /// </summary>
    [Test]
    public void AThousandAttachDetachCyclesLeaveTheNumberOfCpusConstant()
    {
        using var bus = new NvdimmBus(TestDevice.Catalog());
        var region = bus.AddMemory(new NativeMedia(4L << 20));
        var driver = new PmemDriver(new PmemOptions { QueueCount = 4 });
        var ns = region.Namespaces[0];
        var block = TestDevice.Pattern(Page, 1);
        int before = bus.Space.Cpus.Count;
        int failed = 0;
        for (int i = 0; i < 1000; i++)
        {
            var device = driver.AttachPmem(region, ns);
            if (device.Write(i % 16 * Page, block) != BlkStatus.Ok || device.Flush() != BlkStatus.Ok)
                failed++;
            device.Dispose();
        }
        Assert.Multiple(() =>
        {
            Assert.That(failed, Is.Zero, "bios failed");
            Assert.That(bus.Space.Cpus, Has.Count.EqualTo(before));
        });
    }

    [TestCase("detach")]
    [TestCase("destroy")]
    [TestCase("reconfigure")]
    public void AnUnbindRetiresTheQueueCpus(string how)
    {
        using var t = TestDevice.InMemory(queues: 3);
        var cpus = t.Device.QueueCpus;
        Assert.That(t.Device.Write(0, TestDevice.Pattern(Page, 2), BioFlags.Fua), Is.EqualTo(BlkStatus.Ok));
        Assert.That(t.Bus.Space.Cpus, Is.SupersetOf(cpus));
        Unbind(t, how);
        Assert.Multiple(() =>
        {
            Assert.That(t.Bus.Space.Cpus.Intersect(cpus), Is.Empty);
            Assert.That(cpus.Select(c => c.IsRetired), Is.All.True);
            Assert.That(cpus.Sum(c => c.Stats.NtStores), Is.EqualTo(1), "retired CPUs keep their counters");
        });
        // A detach after the namespace went, and a second one, find nothing left to do.
        Assert.DoesNotThrow(t.Device.Dispose);
        Assert.DoesNotThrow(t.Device.Dispose);
    }

    [Test]
    public void ADeviceAttachedToANamespaceAlreadyDestroyedKeepsNoCpu()
    {
        using var bus = new NvdimmBus(TestDevice.Catalog());
        var region = bus.AddMemory(new NativeMedia(4L << 20));
        var ns = region.Namespaces[0];
        region.DestroyNamespace(ns.Name, force: true);
        int before = bus.Space.Cpus.Count;
        var device = new PmemDriver(new PmemOptions { QueueCount = 2 }).AttachPmem(region, ns);
        Assert.Multiple(() =>
        {
            Assert.That(device.Read(0, new byte[Page]), Is.EqualTo(BlkStatus.IoError));
            Assert.That(device.Flush(), Is.EqualTo(BlkStatus.IoError));
            Assert.That(bus.Space.Cpus, Has.Count.EqualTo(before));
            Assert.That(device.QueueCpus.Select(c => c.IsRetired), Is.All.True);
        });
        Assert.DoesNotThrow(device.Dispose);
    }

    /// <summary>
    /// A flush (or a write's preflush) that passed the device's check and then waited for a queue
    /// through the unbind must not fence that queue's CPU, which the unbind retires once drained:
    /// it fails as a bio that waited for its queue does, instead of fencing for a device that is
    /// gone or throwing <see cref="ObjectDisposedException"/> from the retired CPU.
    /// </summary>
    [TestCase("detach", "flush")]
    [TestCase("detach", "preflush write")]
    [TestCase("reconfigure", "flush")]
    [TestCase("reconfigure", "preflush write")]
    [CancelAfter(60_000)]
    public void AFlushThatWaitedForItsQueueThroughAnUnbindFailsWithoutExecutingOnARetiredCpu(string how, string op)
    {
        using var t = TestDevice.InMemory(queues: 1);
        var region = t.Region;
        var cpus = t.Device.QueueCpus;
        // A write over poison clears it under its queue: the handler holds that bio there.
        region.InjectError(t.Device.Namespace, 0, 8);
        var gate = new PoisonClearGate(region);
        BlkStatus first = BlkStatus.Ok, second = BlkStatus.Ok;
        Exception? secondError = null;
        var a = new Thread(() => first = t.Device.Write(0, TestDevice.Pattern(Page, 1), BioFlags.Fua)) { IsBackground = true };
        a.Start();
        Assert.That(gate.WaitHeld(), Is.True);
        // Its check passed, it waits for the only queue, which the first bio holds.
        var b = new Thread(() =>
        {
            try
            {
                second = op == "flush" ? t.Device.Flush() : t.Device.Write(Page, TestDevice.Pattern(Page, 2), BioFlags.PreFlush);
            }
            catch (Exception e)
            {
                secondError = e;
            }
        }) { IsBackground = true };
        b.Start();
        Thread.Sleep(100);
        var unbind = new Thread(() => Unbind(t, how)) { IsBackground = true };
        unbind.Start();
        Thread.Sleep(100);  // the unbind waits for the queue too
        gate.Release();
        Assert.Multiple(() =>
        {
            Assert.That(a.Join(TimeSpan.FromSeconds(30)) && b.Join(TimeSpan.FromSeconds(30)), Is.True, "a bio is stuck");
            Assert.That(unbind.Join(TimeSpan.FromSeconds(30)), Is.True, "the unbind is stuck");
        });
        Assert.Multiple(() =>
        {
            Assert.That(first, Is.EqualTo(BlkStatus.Ok), "the bio already under way completes before the unbind");
            Assert.That(secondError, Is.Null, "the waiting flush executed on the retired CPU");
            Assert.That(second, Is.EqualTo(BlkStatus.IoError), "the flush that waited for its queue finds the device unbound");
            Assert.That(cpus.Select(c => c.IsRetired), Is.All.True);
            Assert.That(cpus.Single().Stats.Sfence, Is.EqualTo(1), "only the first bio's FUA fenced");
        });
    }

    /// <summary>
    /// A detach does not flush: writes since the last flush stay in flight on the retired queue
    /// CPUs, never fenced, until a power failure decides (the strict one drops them) or the region
    /// is written back; what was flushed before the detach is durable. The platform runs on.
    /// </summary>
    [TestCase(false)]
    [TestCase(true)]
    public void WritesNotFlushedBeforeADetachStayInFlightUntilAPowerFailure(bool flushFirst)
    {
        using var t = TestDevice.InMemory(queues: 2);
        var data = TestDevice.Pattern(Page, 3);
        Assert.That(t.Device.Write(0, data), Is.EqualTo(BlkStatus.Ok));
        if (flushFirst)
            Assert.That(t.Device.Flush(), Is.EqualTo(BlkStatus.Ok));
        t.Device.Dispose();
        Assert.That(t.Region.Region.InFlightLineCount, Is.EqualTo(flushFirst ? 0 : Page / 64));

        t.Bus.Space.Crash(CrashPolicy.Strict);
        Assert.That(t.Persisted(0, Page), Is.EqualTo(flushFirst ? data : new byte[Page]));

        using var device = new PmemDriver(new PmemOptions { QueueCount = 2 }).AttachPmem(t.Region, t.Device.Namespace);
        var fresh = TestDevice.Pattern(Page, 4);
        Assert.That(device.Write(Page, fresh, BioFlags.Fua), Is.EqualTo(BlkStatus.Ok));
        t.Bus.Space.Crash(CrashPolicy.Strict);
        Assert.That(t.Persisted(Page, Page), Is.EqualTo(fresh));
    }

    /// <summary>The counts of a detached device's queue CPUs stay in the device meter's totals.</summary>
    [Test]
    public void TheMeterKeepsTheCountsOfADetachedDevicesQueueCpus()
    {
        using var metrics = new DeviceMetrics();
        using var t = TestDevice.InMemory(queues: 2);
        metrics.Attach(t.Bus.Space);
        for (int i = 0; i < 8; i++)
            Assert.That(t.Device.Write(i * Page, TestDevice.Pattern(Page, i)), Is.EqualTo(BlkStatus.Ok));
        Assert.That(t.Device.Flush(), Is.EqualTo(BlkStatus.Ok));
        var before = DeviceMeterReading.Observe();
        t.Device.Dispose();
        var after = DeviceMeterReading.Observe();
        Assert.Multiple(() =>
        {
            // At least: another meter of the process may count more meanwhile, but none counts less.
            Assert.That(before["daxstack.device.ntstores"], Is.GreaterThanOrEqualTo(8));
            foreach (var (name, value) in before)
                Assert.That(after[name], Is.GreaterThanOrEqualTo(value), name);
        });
    }

    private static void Unbind(TestDevice t, string how)
    {
        var ns = t.Device.Namespace;
        switch (how)
        {
            case "detach":
                t.Device.Dispose();
                break;
            case "destroy":
                t.Region.DestroyNamespace(ns.Name, force: true);
                break;
            default:
                t.Region.ReconfigureNamespace(ns.Name, new NamespaceSpec { Mode = NamespaceMode.Raw }, force: true);
                break;
        }
    }
}
