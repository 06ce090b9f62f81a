using DaxStack.Device.Crash;
using DaxStack.Device.Namespaces;
using DaxStack.Driver.Block;
using DaxStack.Driver.Pmem;

namespace DaxStack.Driver.Tests.Block;

/// <summary>
/// Bios in flight when their namespace is reconfigured: the change waits for them (as
/// del_gendisk drains the queue), and a bio still waiting for its queue then fails, so nothing
/// of the old device lands over what a device of the new namespace writes. Bounded in time.
/// </summary>
public class PmemUnbindRaceTests
{
    [Test]
    [CancelAfter(60_000)]
    public void BiosInFlightWhenTheNamespaceIsReconfiguredDoNotLandOverTheNewDevicesWrites()
    {
        using var t = TestDevice.InMemory(queues: 1);
        var region = t.Region;
        var ns = t.Device.Namespace;
        // A write over poison clears it under its queue: the handler holds that bio there.
        region.InjectError(ns, 0, 8);
        var gate = new PoisonClearGate(region);
        var stale = TestDevice.Pattern(4096, 1);
        var waiting = TestDevice.Pattern(4096, 3);
        var fresh = TestDevice.Pattern(4096, 2);
        BlkStatus first = BlkStatus.Ok, second = BlkStatus.Ok;
        var a = new Thread(() => first = t.Device.Write(0, stale, BioFlags.Fua)) { IsBackground = true };
        a.Start();
        Assert.That(gate.WaitHeld(), Is.True);
        // A second bio, for the only queue, which the first holds.
        var b = new Thread(() => second = t.Device.Write(4096, waiting, BioFlags.Fua)) { IsBackground = true };
        b.Start();
        Thread.Sleep(100);

        NvdimmNamespace? newNs = null;
        var reconfigure = new Thread(() => newNs = region.ReconfigureNamespace(ns.Name, new NamespaceSpec { Mode = NamespaceMode.Raw }, force: true)) { IsBackground = true };
        reconfigure.Start();
        bool returnedEarly = reconfigure.Join(TimeSpan.FromMilliseconds(300));
        gate.Release();
        Assert.Multiple(() =>
        {
            Assert.That(returnedEarly, Is.False, "the reconfiguration returned while a bio of the old device was in flight");
            Assert.That(a.Join(TimeSpan.FromSeconds(30)) && b.Join(TimeSpan.FromSeconds(30)), Is.True, "a bio is stuck");
            Assert.That(reconfigure.Join(TimeSpan.FromSeconds(30)), Is.True, "the reconfiguration is stuck");
        });
        var device = new PmemDriver().AttachPmem(region, newNs!);
        Assert.That(device.Write(0, fresh, BioFlags.Fua), Is.EqualTo(BlkStatus.Ok));
        t.Bus.Space.Crash(CrashPolicy.Strict);

        var block0 = new byte[4096];
        var block1 = new byte[4096];
        region.Region.ReadPersisted(newNs!.Offset, block0);
        region.Region.ReadPersisted(newNs.Offset + 4096, block1);
        Assert.Multiple(() =>
        {
            Assert.That(first, Is.EqualTo(BlkStatus.Ok), "the bio already under way completes before the change");
            Assert.That(second, Is.EqualTo(BlkStatus.IoError), "the bio that waited for its queue finds the device unbound");
            Assert.That(block0, Is.EqualTo(fresh), "the new device's write is the last");
            Assert.That(block1, Is.All.Zero, "nothing of the refused bio landed");
        });
    }
}
