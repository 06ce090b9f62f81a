using DaxStack.Device.Crash;
using DaxStack.Device.Errors;
using DaxStack.Device.Namespaces;
using DaxStack.Driver.Block;
using DaxStack.Driver.Pmem;

namespace DaxStack.Driver.Tests.Dax;

/// <summary>
/// ZeroPageRange and RecoveryWrite in flight when their namespace is destroyed: the destroy waits
/// for the one under way (as for a bio), and one still waiting for its submission queue, or
/// starting after the destroy, fails and writes nothing into the range. Bounded in time.
/// </summary>
public class PmemDaxUnbindRaceTests
{
    private const int Page = 4096;

    // What a racing operation returned: 0 or an errno for ZeroPageRange, bytes written for RecoveryWrite.
    private delegate long DaxCall(PmemDevice device, int page);

    private sealed record RaceOutcome(long First, long Second, long Later, bool DestroyReturnedEarly, byte[] Page0, byte[] Page1, byte[] Page1Before);

    // On a device with one submission queue and poison on page 0: 'call' on page 0 clears the poison
    // under its queue, where the poison handler holds it; the same call on page 1 then waits for
    // that queue; the namespace is destroyed meanwhile, and a new one made over the range. Returns
    // what each call returned, one made after the destroy, and the new namespace's durable pages.
    private static RaceOutcome Race(DaxCall call)
    {
        using var t = TestDevice.InMemory(size: 1 << 20, queues: 1);
        var region = t.Region;
        var ns = t.Device.Namespace;
        var page1Before = TestDevice.Pattern(Page, 7);
        Assert.That(t.Device.Write(Page, page1Before, BioFlags.Fua), Is.EqualTo(BlkStatus.Ok));
        region.InjectError(ns, 0, Page / 512);
        var gate = new PoisonClearGate(region);
        long first = -1, second = -1;
        var a = new Thread(() =>
        {
            first = call(t.Device, 0);
            t.Bus.Space.CurrentCpu.Sfence();    // the caller's fence that makes a recovery write durable
        }) { IsBackground = true };
        a.Start();
        Assert.That(gate.WaitHeld(), Is.True, "the first call did not reach the poison");
        // A second call, for the only queue, which the first holds.
        var b = new Thread(() =>
        {
            second = call(t.Device, 1);
            t.Bus.Space.CurrentCpu.Sfence();    // so that anything it wrote would be durable, and seen
        }) { IsBackground = true };
        b.Start();
        Thread.Sleep(100);

        var destroy = new Thread(() => region.DestroyNamespace(ns.Name, force: true)) { IsBackground = true };
        destroy.Start();
        bool returnedEarly = destroy.Join(TimeSpan.FromMilliseconds(300));
        gate.Release();
        Assert.Multiple(() =>
        {
            Assert.That(a.Join(TimeSpan.FromSeconds(30)) && b.Join(TimeSpan.FromSeconds(30)), Is.True, "a call is stuck");
            Assert.That(destroy.Join(TimeSpan.FromSeconds(30)), Is.True, "the destroy is stuck");
        });
        long later = call(t.Device, 1);

        var made = region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Fsdax, Size = 1 << 20, Align = Page });
        Assert.That(made.PhysicalAddress, Is.EqualTo(ns.PhysicalAddress), "the new namespace is over the old range");
        t.Bus.Space.Crash(CrashPolicy.Strict);
        var page0 = new byte[Page];
        var page1 = new byte[Page];
        region.Region.ReadPersisted(made.Offset, page0);
        region.Region.ReadPersisted(made.Offset + Page, page1);
        return new RaceOutcome(first, second, later, returnedEarly, page0, page1, page1Before);
    }

    [Test]
    [CancelAfter(60_000)]
    public void DestroyWaitsForAZeroPageRangeInFlightAndOneThatWaitedOrCameLaterFails()
    {
        var r = Race((device, page) => (long)device.ZeroPageRange(page, 1));
        Assert.Multiple(() =>
        {
            Assert.That(r.DestroyReturnedEarly, Is.False, "the destroy returned while a zero-page-range of the old device was in flight");
            Assert.That((Errno)r.First, Is.EqualTo((Errno)0), "the one already under way completes before the destroy");
            Assert.That((Errno)r.Second, Is.EqualTo(Errno.ENXIO), "the one that waited for its queue finds the device unbound");
            Assert.That((Errno)r.Later, Is.EqualTo(Errno.ENXIO), "one after the destroy");
            Assert.That(r.Page0, Is.All.Zero, "the completed one zeroed its page durably");
            Assert.That(r.Page1, Is.EqualTo(r.Page1Before), "nothing of the refused ones landed");
        });
    }

    [Test]
    [CancelAfter(60_000)]
    public void DestroyWaitsForARecoveryWriteInFlightAndOneThatWaitedOrCameLaterWritesNothing()
    {
        var data = new[] { TestDevice.Pattern(Page, 1), TestDevice.Pattern(Page, 2) };
        var r = Race((device, page) => device.RecoveryWrite(page * (long)Page, data[page]));
        Assert.Multiple(() =>
        {
            Assert.That(r.DestroyReturnedEarly, Is.False, "the destroy returned while a recovery write of the old device was in flight");
            Assert.That(r.First, Is.EqualTo(Page), "the one already under way completes before the destroy");
            Assert.That(r.Second, Is.Zero, "the one that waited for its queue finds the device unbound");
            Assert.That(r.Later, Is.Zero, "one after the destroy");
            Assert.That(r.Page0, Is.EqualTo(data[0]), "the completed one wrote its page");
            Assert.That(r.Page1, Is.EqualTo(r.Page1Before), "nothing of the refused ones landed");
        });
    }
}
