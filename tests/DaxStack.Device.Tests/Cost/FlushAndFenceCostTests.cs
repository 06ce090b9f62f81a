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

    [TestCase(FlushKind.Clwb, 64)]
    [TestCase(FlushKind.Clflushopt, 64)]
    [TestCase(FlushKind.Clwb, 256)]
    [TestCase(FlushKind.Clwb, 8192)]
    public void FlushingAgainWhatANotYetFencedFlushWroteBackCostsOnlyTheIssue(FlushKind kind, int length)
    {
        // The second flush finds the lines clean in the cache: nothing more goes to the DIMM, and
        // the fence waits for the first write-backs only.
        foreach (var profile in new[] { Optane, CostProfiles.Dram })
        {
            long lines = length / 64;
            // The reference: one flush, then the time the second flush's instructions take to issue.
            using var once = new DeviceFixture(profile);
            once.Cpu.Store(once.Pa(0), new byte[length]);
            once.Cpu.Flush(kind, once.Pa(0), length);
            once.Cpu.Clock.Advance(lines * profile.FlushIssueNs);
            once.Cpu.Sfence();
            using var twice = new DeviceFixture(profile);
            twice.Cpu.Store(twice.Pa(0), new byte[length]);
            twice.Cpu.Flush(kind, twice.Pa(0), length);
            twice.Cpu.Flush(kind, twice.Pa(0), length);
            twice.Cpu.Sfence();
            Assert.Multiple(() =>
            {
                Assert.That(twice.Cpu.Clock.Nanoseconds, Is.EqualTo(once.Cpu.Clock.Nanoseconds), profile.Name);
                Assert.That(twice.Region.Cost.MediaBytesWritten, Is.EqualTo(once.Region.Cost.MediaBytesWritten), profile.Name);
                Assert.That(twice.Persisted(0, length), Is.EqualTo(twice.Load(0, length)), "the fence still persists every store");
            });
        }
    }

    [Test]
    public void AStoreBetweenTwoFlushesMakesTheSecondWriteBackAgain()
    {
        using var d = new DeviceFixture(CostProfiles.Dram);
        d.Cpu.Store(d.Pa(0), new byte[64]);
        d.Cpu.Clwb(d.Pa(0));
        d.Cpu.Store(d.Pa(8), new byte[] { 1 });
        d.Cpu.Clwb(d.Pa(0));
        d.Cpu.Sfence();
        Assert.That(d.Region.Cost.MediaBytesWritten, Is.EqualTo(128), "two 64-byte write-backs (DRAM: no write-combining buffer)");
        Assert.That(d.Persisted(8, 1), Is.EqualTo(new byte[] { 1 }));
    }

    /// <summary>
    /// Audit: clflush of a line that an earlier clwb/clflushopt, not yet fenced, already wrote
    /// back (no store since) was charged a whole write-back again (and, being serialising, waited
    /// for it to land), though the line is clean in the cache and clflush only invalidates it.
    /// </summary>
    [TestCase(FlushKind.Clwb, 64)]
    [TestCase(FlushKind.Clflushopt, 64)]
    [TestCase(FlushKind.Clwb, 256)]
    [TestCase(FlushKind.Clwb, 8192)]
    public void ClflushOfWhatANotYetFencedFlushWroteBackCostsOnlyItsIssue(FlushKind first, int length)
    {
        foreach (var profile in new[] { Optane, CostProfiles.Dram })
        {
            long lines = length / 64;
            var data = DeviceFixture.Fill(length, 0x5A);
            // The reference: one write-back of the lines, then the time the clflushes take to issue.
            using var once = new DeviceFixture(profile);
            once.Cpu.Store(once.Pa(0), data);
            once.Cpu.Flush(first, once.Pa(0), length);
            once.Cpu.Clock.Advance(lines * profile.FlushIssueNs);
            once.Cpu.Sfence();
            using var twice = new DeviceFixture(profile);
            twice.Cpu.Store(twice.Pa(0), data);
            twice.Cpu.Flush(first, twice.Pa(0), length);
            twice.Cpu.Flush(FlushKind.Clflush, twice.Pa(0), length);
            Assert.That(twice.Persisted(0, length), Is.EqualTo(data), "clflush persists the lines when it retires");
            twice.Cpu.Sfence();
            Assert.Multiple(() =>
            {
                Assert.That(twice.Cpu.Clock.Nanoseconds, Is.EqualTo(once.Cpu.Clock.Nanoseconds), profile.Name);
                Assert.That(twice.Region.Cost.MediaBytesWritten, Is.EqualTo(once.Region.Cost.MediaBytesWritten), profile.Name);
                Assert.That(twice.Cpu.Stats.Clflush, Is.EqualTo(lines));
            });
        }
    }

    [Test]
    public void ClflushOfALineAnotherCpuWroteBackWithoutAFenceCostsOnlyItsIssue()
    {
        using var d = new DeviceFixture(CostProfiles.Dram);
        var other = d.Space.CreateCpu();
        other.Store(d.Pa(0), new byte[64]);
        other.Clwb(d.Pa(0));
        d.Cpu.Clflush(d.Pa(0));
        Assert.Multiple(() =>
        {
            Assert.That(d.Cpu.Clock.Nanoseconds, Is.EqualTo(CostProfiles.Dram.FlushIssueNs));
            Assert.That(d.Region.Cost.MediaBytesWritten, Is.EqualTo(64), "the clwb's write-back only");
            Assert.That(d.Region.InFlightLineCount, Is.Zero);
        });
    }

    [Test]
    public void AStoreBetweenAClwbAndAClflushMakesTheClflushWriteBackAgain()
    {
        var dram = CostProfiles.Dram;
        using var d = new DeviceFixture(dram);
        d.Cpu.Store(d.Pa(0), new byte[64]);
        d.Cpu.Clwb(d.Pa(0));
        d.Cpu.Store(d.Pa(8), new byte[] { 1 });
        double beforeClflush = d.Cpu.Clock.Nanoseconds;
        d.Cpu.Clflush(d.Pa(0));
        Assert.Multiple(() =>
        {
            Assert.That(d.Region.Cost.MediaBytesWritten, Is.EqualTo(128), "two 64-byte write-backs (DRAM: no write-combining buffer)");
            Assert.That(d.Cpu.Clock.Nanoseconds - beforeClflush, Is.GreaterThanOrEqualTo(dram.ClwbWriteLatencyNs), "clflush waits for its own write-back");
            Assert.That(d.Persisted(8, 1), Is.EqualTo(new byte[] { 1 }));
        });
    }

    [Test]
    public void OfARangeOnlyTheLinesStoredToSinceTheirLastWriteBackAreWrittenBackAgain()
    {
        using var d = new DeviceFixture(CostProfiles.Dram);
        d.Cpu.Store(d.Pa(0), new byte[4096]);
        d.Cpu.Flush(FlushKind.Clwb, d.Pa(0), 4096);
        d.Cpu.Store(d.Pa(1024), new byte[] { 7 });     // line 16
        d.Cpu.Store(d.Pa(4095), new byte[] { 9 });     // line 63
        d.Cpu.Flush(FlushKind.Clwb, d.Pa(0), 4096);
        d.Cpu.Sfence();
        Assert.Multiple(() =>
        {
            Assert.That(d.Region.Cost.MediaBytesWritten, Is.EqualTo(4096 + 2 * 64));
            Assert.That(d.Persisted(0, 4096), Is.EqualTo(d.Load(0, 4096)));
        });
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
