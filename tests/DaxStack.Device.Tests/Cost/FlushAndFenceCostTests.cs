using DaxStack.Device.Cost;

namespace DaxStack.Device.Tests.Cost;

/// <summary>
/// How flushes and fences are charged: clflushopt and clwb overlap until a fence, clflush
/// serialises, and on eADR flushes cost only their issue.
/// </summary>
public class FlushAndFenceCostTests
{
    private static readonly CostProfile Optane = CostProfiles.OptaneAdr;

    // Four dirty lines of one XPLine, then a flush of each.
    private static DeviceFixture FourDirtyLines(CostProfile profile)
    {
        var d = new DeviceFixture(profile);
        d.Cpu.Store(d.Pa(0), new byte[256]);
        return d;
    }

    [TestCase(FlushKind.Clwb)]
    [TestCase(FlushKind.Clflushopt)]
    public void WeaklyOrderedWriteBacksOverlapAndOnlyTheFenceWaitsForThem(FlushKind kind)
    {
        using var d = FourDirtyLines(Optane);
        d.Cpu.Flush(kind, d.Pa(0), 256);
        double afterFlushes = d.Cpu.Clock.Nanoseconds;
        d.Cpu.Sfence();
        Assert.Multiple(() =>
        {
            // Issue only: the write-backs are still travelling.
            Assert.That(afterFlushes, Is.EqualTo(4 * Optane.StoreNs + 4 * Optane.FlushIssueNs));
            // The fence waits for the last: one latency, then the DIMM takes a line per ingest time.
            Assert.That(d.Cpu.Clock.Nanoseconds, Is.EqualTo(4 * Optane.StoreNs + Optane.ClwbWriteLatencyNs + 3 * Optane.DimmWriteIngestNs));
        });
    }

    [Test]
    public void ClflushWaitsForEachWriteBackBeforeTheNextInstruction()
    {
        using var d = FourDirtyLines(Optane);
        d.Cpu.Flush(FlushKind.Clflush, d.Pa(0), 256);
        double afterFlushes = d.Cpu.Clock.Nanoseconds;
        d.Cpu.Sfence();
        Assert.Multiple(() =>
        {
            Assert.That(afterFlushes, Is.EqualTo(4 * Optane.StoreNs + 4 * Optane.ClwbWriteLatencyNs));
            Assert.That(d.Cpu.Clock.Nanoseconds - afterFlushes, Is.EqualTo(Optane.FenceNs), "nothing is left for the fence");
        });
    }

    [Test]
    public void ClflushOfFourLinesCostsMoreThanClwbOfFourLinesAndAFence()
    {
        using var serial = FourDirtyLines(Optane);
        serial.Cpu.Flush(FlushKind.Clflush, serial.Pa(0), 256);
        serial.Cpu.Sfence();
        using var overlapped = FourDirtyLines(Optane);
        overlapped.Cpu.Flush(FlushKind.Clwb, overlapped.Pa(0), 256);
        overlapped.Cpu.Sfence();
        Assert.That(serial.Cpu.Clock.Nanoseconds, Is.GreaterThan(overlapped.Cpu.Clock.Nanoseconds));
    }

    [Test]
    public void FlushingACleanLineCostsOnlyItsIssue()
    {
        using var d = new DeviceFixture(Optane);
        d.Cpu.Clwb(d.Pa(0));
        d.Cpu.Clflush(d.Pa(64));
        d.Cpu.Sfence();
        Assert.That(d.Cpu.Clock.Nanoseconds, Is.EqualTo(2 * Optane.FlushIssueNs + Optane.FenceNs));
    }

    [Test]
    public void AFenceWaitsOnlyForWriteBacksNotYetComplete()
    {
        using var d = new DeviceFixture(Optane);
        d.Cpu.NtStore(d.Pa(0), new byte[64]);
        d.Cpu.Clock.Advance(1000);   // the CPU does other work meanwhile
        double before = d.Cpu.Clock.Nanoseconds;
        d.Cpu.Sfence();
        Assert.That(d.Cpu.Clock.Nanoseconds - before, Is.EqualTo(Optane.FenceNs));
    }

    [TestCase(FlushKind.Clwb)]
    [TestCase(FlushKind.Clflushopt)]
    [TestCase(FlushKind.Clflush)]
    public void OnEadrFlushesCostOnlyTheirIssueAndTheFenceAFewNanoseconds(FlushKind kind)
    {
        var eadr = CostProfiles.OptaneEadr;
        using var d = new DeviceFixture(eadr);
        d.Cpu.Store(d.Pa(0), new byte[4096]);
        d.Cpu.Flush(kind, d.Pa(0), 4096);
        d.Cpu.Sfence();
        Assert.Multiple(() =>
        {
            Assert.That(d.Cpu.Clock.Nanoseconds, Is.EqualTo(64 * eadr.StoreNs + 64 * eadr.FlushIssueNs + eadr.FenceNs));
            Assert.That(eadr.FenceNs, Is.LessThanOrEqualTo(5));
            Assert.That(d.Region.Cost.MediaBytesWritten, Is.Zero, "nothing was written back");
        });
    }

    [Test]
    public void OnEadrNonTemporalStoresStillTravelToTheDimmBeforeTheFenceCompletes()
    {
        var eadr = CostProfiles.OptaneEadr;
        using var d = new DeviceFixture(eadr);
        d.Cpu.NtStore(d.Pa(0), new byte[64]);
        d.Cpu.Sfence();
        Assert.That(d.Cpu.Clock.Nanoseconds, Is.EqualTo(eadr.NtWriteLatencyNs));
    }
}
