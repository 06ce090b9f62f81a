using System.Runtime.CompilerServices;
using DaxStack.Device.Errors;
using DaxStack.Device.Media;
using DaxStack.Device.Namespaces;
using DaxStack.Driver.Block;
using DaxStack.Driver.Dax;
using DaxStack.Driver.Hosting;
using DaxStack.Driver.Pmem;

namespace DaxStack.Driver.Tests.Block;

/// <summary>
/// A device's lifetime on its region: once it is unbound (its namespace destroyed or
/// reconfigured, or the driver detached from it with <see cref="PmemDevice.Dispose"/>) nothing of
/// the bus keeps it, so a long-running process that attaches and drops devices does not
/// accumulate them; a detached device refuses I/O as a deleted disk does, and its namespace stays.
/// </summary>
public class PmemDetachTests
{
    private const int Devices = 64;
    private const int Page = 4096;

    [Test]
    public void DevicesWhoseNamespaceWasReconfiguredAreCollectedOnceDropped()
    {
        using var bus = new NvdimmBus(TestDevice.Catalog());
        var region = bus.AddMemory(new NativeMedia(4L << 20));
        var driver = new PmemDriver(new PmemOptions { QueueCount = 1 });
        var dropped = new List<WeakReference>();
        for (int i = 0; i < Devices; i++)
        {
            dropped.Add(AttachAndWrite(driver, region, region.Namespaces[0], seed: i, detach: false));
            // Unbinds the device: the removal drains it, and it stops listening.
            region.ReconfigureNamespace(region.Namespaces[0].Name, new NamespaceSpec { Mode = NamespaceMode.Raw }, force: true);
        }
        Assert.That(Collected(dropped), Is.EqualTo(Devices), "devices of namespaces long gone are still reachable (from the region's NamespaceRemoved event)");
    }

    [Test]
    public void DetachedDevicesAreCollectedOnceDroppedWhileTheirNamespaceLivesOn()
    {
        using var bus = new NvdimmBus(TestDevice.Catalog());
        var region = bus.AddMemory(new NativeMedia(4L << 20));
        var driver = new PmemDriver(new PmemOptions { QueueCount = 1 });
        var ns = region.Namespaces[0];
        var dropped = new List<WeakReference>();
        for (int i = 0; i < Devices; i++)
            dropped.Add(AttachAndWrite(driver, region, ns, seed: i, detach: true));
        Assert.That(Collected(dropped), Is.EqualTo(Devices), "detached devices are still reachable (from the region's NamespaceRemoved event)");

        // The namespace outlived its devices: a new one reads what the last wrote, and a removal
        // now has no dropped device to call.
        using var device = driver.AttachPmem(region, ns);
        var block = new byte[Page];
        Assert.That(device.Read(0, block), Is.EqualTo(BlkStatus.Ok));
        Assert.That(block, Is.EqualTo(TestDevice.Pattern(Page, Devices - 1)));
        Assert.DoesNotThrow(() => region.ReconfigureNamespace(ns.Name, new NamespaceSpec { Mode = NamespaceMode.Raw }, force: true));
        Assert.That(device.Read(0, block), Is.EqualTo(BlkStatus.IoError), "the reconfiguration unbound the live device");
    }

    [Test]
    public void ADetachedDeviceRefusesBiosAndDaxAccessAsAnUnboundOne()
    {
        using var t = TestDevice.InMemory(queues: 2);
        var device = t.Device;
        Assert.That(device.DirectAccess(0, 1, DaxAccessMode.Access, out var extent), Is.EqualTo((Errno)0));
        var window = extent.Window;
        window.Store(0, new byte[] { 1, 2, 3 });

        device.Dispose();
        device.Dispose();   // once more: nothing left to do

        var block = new byte[Page];
        Assert.Multiple(() =>
        {
            Assert.That(device.Read(0, block), Is.EqualTo(BlkStatus.IoError));
            Assert.That(device.Write(0, block, BioFlags.Fua), Is.EqualTo(BlkStatus.IoError));
            Assert.That(device.Flush(), Is.EqualTo(BlkStatus.IoError));
            Assert.That(device.DirectAccess(0, 1, DaxAccessMode.Access, out _), Is.EqualTo(Errno.ENXIO));
            Assert.That(device.ZeroPageRange(0, 1), Is.EqualTo(Errno.ENXIO));
            Assert.That(device.RecoveryWrite(0, block), Is.Zero);
            Assert.That(window.IsDeviceGone, Is.True);
            Assert.Throws<DaxDeviceGoneException>(() => window.Store(0, new byte[] { 9 }));
            Assert.That(t.Region.Namespaces, Has.Count.EqualTo(1), "detaching leaves the namespace");
        });
    }

    [Test]
    [CancelAfter(60_000)]
    public void DetachingWaitsForABioInFlightAndOneThatWaitedForItsQueueFails()
    {
        using var t = TestDevice.InMemory(queues: 1);
        var region = t.Region;
        // A write over poison clears it under its queue: the handler holds that bio there.
        region.InjectError(t.Device.Namespace, 0, 8);
        var gate = new PoisonClearGate(region);
        BlkStatus first = BlkStatus.Ok, second = BlkStatus.Ok;
        var a = new Thread(() => first = t.Device.Write(0, TestDevice.Pattern(Page, 1), BioFlags.Fua)) { IsBackground = true };
        a.Start();
        Assert.That(gate.WaitHeld(), Is.True);
        var b = new Thread(() => second = t.Device.Write(Page, TestDevice.Pattern(Page, 2), BioFlags.Fua)) { IsBackground = true };
        b.Start();
        Thread.Sleep(100);

        var detach = new Thread(t.Device.Dispose) { IsBackground = true };
        detach.Start();
        bool returnedEarly = detach.Join(TimeSpan.FromMilliseconds(300));
        gate.Release();
        Assert.Multiple(() =>
        {
            Assert.That(returnedEarly, Is.False, "the detach returned while a bio was in flight");
            Assert.That(a.Join(TimeSpan.FromSeconds(30)) && b.Join(TimeSpan.FromSeconds(30)), Is.True, "a bio is stuck");
            Assert.That(detach.Join(TimeSpan.FromSeconds(30)), Is.True, "the detach is stuck");
        });
        Assert.Multiple(() =>
        {
            Assert.That(first, Is.EqualTo(BlkStatus.Ok), "the bio already under way completes before the detach");
            Assert.That(second, Is.EqualTo(BlkStatus.IoError), "the bio that waited for its queue finds the device detached");
            Assert.That(t.Persisted(Page, Page), Is.All.Zero, "nothing of the refused bio landed");
        });
    }

    // Attaches a device, uses it (a bio and a DAX window), optionally detaches it, and drops it.
    // Not inlined, so that no local of the caller keeps the device.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference AttachAndWrite(PmemDriver driver, BusRegion region, NvdimmNamespace ns, int seed, bool detach)
    {
        var device = driver.AttachPmem(region, ns);
        Assert.That(device.Write(0, TestDevice.Pattern(Page, seed), BioFlags.Fua), Is.EqualTo(BlkStatus.Ok));
        Assert.That(device.DirectAccess(0, 1, DaxAccessMode.Access, out _), Is.EqualTo((Errno)0));
        if (detach)
            device.Dispose();
        return new WeakReference(device);
    }

    // How many of the devices the collector frees, within a bounded number of full collections.
    private static int Collected(List<WeakReference> devices)
    {
        for (int attempt = 0; attempt < 20; attempt++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            if (devices.All(d => !d.IsAlive))
                break;
        }
        return devices.Count(d => !d.IsAlive);
    }
}
