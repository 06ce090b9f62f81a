using DaxStack.Device.Cost;
using DaxStack.Device.Media;
using DaxStack.Device.Platform;

namespace DaxStack.Device.Tests.Cost;

/// <summary>
/// A fence of a CPU with write-backs outstanding in several regions whose profiles differ: it
/// waits for the last write-back of every region, and its own cost does not depend on which
/// region the CPU happened to touch last.
/// </summary>
public class MultiRegionFenceCostTests
{
    // Two regions: a cheap fence (Optane's 2 ns) and a dear one.
    private static readonly CostProfile Cheap = CostProfiles.OptaneAdr;
    private static readonly CostProfile Dear = CostProfiles.Dram with { Name = "dear-fence", FenceNs = 40 };

    private sealed class TwoRegions : IDisposable
    {
        public readonly PhysicalAddressSpace Space = new();
        public readonly NvdimmRegion A = new("a", new NativeMedia(1 << 20), Cheap);
        public readonly NvdimmRegion B = new("b", new NativeMedia(1 << 20), Dear);
        public readonly Cpu Cpu;

        public TwoRegions()
        {
            Space.AddRegion(A);
            Space.AddRegion(B);
            Cpu = Space.CreateCpu();
        }

        // A dirty line of 'r' and its clwb.
        public void StoreAndClwb(NvdimmRegion r)
        {
            Cpu.Store(r.BaseAddress, new byte[64]);
            Cpu.Clwb(r.BaseAddress);
        }

        public void Dispose() => Space.Dispose();
    }

    /// <summary>
    /// Audit: the fence charged the fence cost of the region the CPU touched last: clwb in A then
    /// in B, the CPU busy long after both landed, and the fence cost B's 40 ns; in the other order
    /// A's 2 ns, for the same two outstanding write-backs.
    /// </summary>
    [Test]
    public void AFenceAfterFlushesInTwoRegionsCostsTheSameInEitherOrder()
    {
        double Run(bool aFirst)
        {
            using var p = new TwoRegions();
            p.StoreAndClwb(aFirst ? p.A : p.B);
            p.StoreAndClwb(aFirst ? p.B : p.A);
            p.Cpu.Clock.Advance(1000);      // both write-backs have landed
            double before = p.Cpu.Clock.Nanoseconds;
            p.Cpu.Sfence();
            return p.Cpu.Clock.Nanoseconds - before;
        }
        double aThenB = Run(aFirst: true), bThenA = Run(aFirst: false);
        Assert.Multiple(() =>
        {
            Assert.That(bThenA, Is.EqualTo(aThenB));
            Assert.That(aThenB, Is.EqualTo(Math.Max(Cheap.FenceNs, Dear.FenceNs)), "the larger fence cost of the regions it completes");
        });
    }

    [TestCase(FenceKind.Sfence, true)]
    [TestCase(FenceKind.Sfence, false)]
    [TestCase(FenceKind.Mfence, true)]
    [TestCase(FenceKind.Mfence, false)]
    public void AFenceWaitsForTheLastWriteBackOfEveryRegion(FenceKind kind, bool aFirst)
    {
        // A 4 KiB clwb in A (Optane: slow to land) and a line in B (DRAM: quick): whichever the
        // CPU flushed last, the fence ends when A's last line lands.
        using var p = new TwoRegions();
        p.Cpu.Store(p.A.BaseAddress, new byte[4096]);
        p.Cpu.Store(p.B.BaseAddress, new byte[64]);
        if (aFirst)
            p.Cpu.Flush(FlushKind.Clwb, p.A.BaseAddress, 4096);
        p.Cpu.Clwb(p.B.BaseAddress);
        if (!aFirst)
            p.Cpu.Flush(FlushKind.Clwb, p.A.BaseAddress, 4096);
        double issued = p.Cpu.Clock.Nanoseconds;
        if (kind == FenceKind.Sfence)
            p.Cpu.Sfence();
        else
            p.Cpu.Mfence();
        // 64 lines into one Optane DIMM: one write latency, then a line per ingest time.
        Assert.That(p.Cpu.Clock.Nanoseconds, Is.GreaterThanOrEqualTo(Cheap.ClwbWriteLatencyNs + 63 * Cheap.DimmWriteIngestNs));
        Assert.That(p.Cpu.Clock.Nanoseconds, Is.EqualTo(p.Cpu.CostState.WriteBackDoneAt), "the wait hides the fence's own cost");
        Assert.That(p.A.InFlightLineCount + p.B.InFlightLineCount, Is.Zero);
        Assert.That(issued, Is.LessThan(p.Cpu.Clock.Nanoseconds));
    }

    [Test]
    public void AFenceChargesTheFenceCostOfTheRegionsItWaitsForNotOfTheRegionTouchedLast()
    {
        using var p = new TwoRegions();
        p.StoreAndClwb(p.A);
        p.Cpu.Store(p.B.BaseAddress + 4096, new byte[8]);   // touches B, writes nothing back there
        p.Cpu.Clock.Advance(1000);
        double before = p.Cpu.Clock.Nanoseconds;
        p.Cpu.Sfence();
        Assert.That(p.Cpu.Clock.Nanoseconds - before, Is.EqualTo(Cheap.FenceNs), "only A's write-back is outstanding");

        p.Cpu.Store(p.A.BaseAddress + 4096, new byte[8]);
        p.Cpu.NtStore(p.B.BaseAddress + 8192, new byte[64]);
        p.Cpu.Load(p.A.BaseAddress, new byte[8]);              // the CPU ends in A
        p.Cpu.Clock.Advance(1000);
        before = p.Cpu.Clock.Nanoseconds;
        p.Cpu.Sfence();
        Assert.That(p.Cpu.Clock.Nanoseconds - before, Is.EqualTo(Dear.FenceNs), "only B's non-temporal store is outstanding");
    }

    [Test]
    public void AFenceWithNothingOutstandingCostsTheSameWhicheverRegionWasTouchedLast()
    {
        double Run(bool endInA)
        {
            using var p = new TwoRegions();
            p.Cpu.Store(endInA ? p.B.BaseAddress : p.A.BaseAddress, new byte[8]);
            p.Cpu.Store(endInA ? p.A.BaseAddress : p.B.BaseAddress, new byte[8]);
            double before = p.Cpu.Clock.Nanoseconds;
            p.Cpu.Sfence();
            return p.Cpu.Clock.Nanoseconds - before;
        }
        Assert.Multiple(() =>
        {
            Assert.That(Run(endInA: false), Is.EqualTo(Run(endInA: true)));
            Assert.That(Run(endInA: true), Is.EqualTo(Math.Min(Cheap.FenceNs, Dear.FenceNs)), "the bare instruction: it waits for no region");
        });
    }
}
