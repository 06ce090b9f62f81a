using DaxStack.Device.Cost;

namespace DaxStack.Device.Tests.Cost;

/// <summary>
/// The cost model charges ranges (a non-temporal store of many lines, a flush of a run of lines)
/// in one call; what it charges must be, bit for bit, what the same instructions one line at a
/// time are charged, whatever the profile, the interleave and the clock's magnitude.
/// </summary>
public class RangeWriteBackCostTests
{
    private static readonly CostProfile[] Profiles =
    [
        CostProfiles.OptaneAdr,
        CostProfiles.OptaneAdr with { Dimms = 6 },
        CostProfiles.OptaneEadr,
        CostProfiles.Dram,
        CostProfiles.OptaneAdr with { Name = "no-buffer", WriteCombiningBytes = 0, WriteBackSlots = 2 },
    ];

    private static IEnumerable<TestCaseData> ProfilesAndKinds() =>
        from p in Profiles
        from k in new[] { FlushKind.Clwb, FlushKind.Clflushopt, FlushKind.Clflush }
        select new TestCaseData(p, k).SetArgDisplayNames($"{p.Name}x{p.Dimms}", k.ToString());

    [TestCaseSource(nameof(ProfilesAndKinds))]
    public void FlushingARunOfLinesCostsExactlyWhatFlushingThemOneByOneCosts(CostProfile profile, FlushKind kind)
    {
        var (perLine, run) = (new CostModel(profile), new CostModel(profile));
        var (a, b) = (new CpuCostState(), new CpuCostState());
        var rng = new Random(12);
        for (int i = 0; i < 400; i++)
        {
            long first = rng.Next(1 << 14) * 64L;
            int lines = 1 + rng.Next(rng.Next(2) == 0 ? 8 : 600);
            bool dirty = rng.Next(5) != 0;
            perLine.Store(a, first, lines * 64);
            run.Store(b, first, lines * 64);
            for (int l = 0; l < lines; l++)
                perLine.Flush(a, kind, first + l * 64L, dirty);
            run.Flush(b, kind, first, lines, dirty);
            if (rng.Next(4) == 0)
            {
                perLine.Fence(a, FenceKind.Sfence);
                run.Fence(b, FenceKind.Sfence);
            }
            AssertSameCost(perLine, a, run, b);
        }
    }

    [TestCaseSource(nameof(Profiles))]
    public void ANonTemporalStoreOfManyLinesCostsExactlyWhatItsLinesStoredOneByOneCost(CostProfile profile)
    {
        var (perLine, range) = (new CostModel(profile), new CostModel(profile));
        var (a, b) = (new CpuCostState(), new CpuCostState());
        var rng = new Random(7);
        for (int i = 0; i < 200; i++)
        {
            long first = rng.Next(1 << 14) * 64L;
            int lines = 1 + rng.Next(1000);
            for (int l = 0; l < lines; l++)
                perLine.NtStore(a, first + l * 64L, 64);
            range.NtStore(b, first, lines * 64);
            perLine.Fence(a, FenceKind.Sfence);
            range.Fence(b, FenceKind.Sfence);
            AssertSameCost(perLine, a, range, b);
        }
    }

    [Test]
    public void TwoCpusSharingTheDimmsChargeARangeAsTheyChargeItsLines()
    {
        var (perLine, range) = (new CostModel(CostProfiles.OptaneAdr), new CostModel(CostProfiles.OptaneAdr));
        var a = new[] { new CpuCostState(), new CpuCostState() };
        var b = new[] { new CpuCostState(), new CpuCostState() };
        for (int i = 0; i < 200; i++)
        {
            // The second CPU is always far behind: its write-backs lag the DIMM's time.
            int c = i % 2;
            long first = (i * 37 % 256) * 64L;
            int lines = 1 + i % 70;
            for (int l = 0; l < lines; l++)
                perLine.NtStore(a[c], first + l * 64L, 64);
            range.NtStore(b[c], first, lines * 64);
            AssertSameCost(perLine, a[c], range, b[c]);
        }
    }

    [TestCase(1000.0)]
    [TestCase(1099511627775.75)]    // 2^40 - 0.25: the run's additions cross a power of two and round
    public void ACleanRangeCostsItsIssueForEveryLineAddedOneAtATime(double start)
    {
        var model = new CostModel(CostProfiles.OptaneAdr with { FlushIssueNs = 1.5 });
        var cpu = new CpuCostState();
        cpu.Clock.Advance(start);
        model.Flush(cpu, FlushKind.Clwb, 0, 100_000, dirty: false);
        double expected = start;
        for (int i = 0; i < 100_000; i++)
            expected += 1.5;
        Assert.That(cpu.Clock.Nanoseconds, Is.EqualTo(expected));
    }

    [Test]
    public void UnitsThatShareABufferIndexSlotStayBufferedUntilTheyAreTheOldest()
    {
        // Units whose numbers are equal modulo 256 compete for one slot of the buffer's index.
        // Written once each, 200 of them leave the last 64 (the 16 KiB XPBuffer) buffered:
        // rewriting those merges, and the one before them is a media write again.
        var model = new CostModel(CostProfiles.OptaneAdr);
        var cpu = new CpuCostState();
        const long stride = 256 * 256;
        for (long u = 0; u < 200; u++)
            model.NtStore(cpu, u * stride, 64);
        long written = model.MediaBytesWritten;
        for (int pass = 0; pass < 3; pass++)
            for (long u = 136; u < 200; u++)
                model.NtStore(cpu, u * stride + 64, 64);
        long afterRewrites = model.MediaBytesWritten;
        model.NtStore(cpu, 135 * stride, 64);
        Assert.Multiple(() =>
        {
            Assert.That(written, Is.EqualTo(200 * 256));
            Assert.That(afterRewrites, Is.EqualTo(written));
            Assert.That(model.MediaBytesWritten, Is.EqualTo(written + 256));
        });
    }

    private static void AssertSameCost(CostModel expectedModel, CpuCostState expected, CostModel actualModel, CpuCostState actual) =>
        Assert.Multiple(() =>
        {
            Assert.That(actual.Clock.Nanoseconds, Is.EqualTo(expected.Clock.Nanoseconds));
            Assert.That(actual.WriteBackDoneAt, Is.EqualTo(expected.WriteBackDoneAt));
            Assert.That(actual.OutstandingWriteBacks, Is.EqualTo(expected.OutstandingWriteBacks));
            Assert.That(actualModel.MediaBytesWritten, Is.EqualTo(expectedModel.MediaBytesWritten));
            Assert.That(actualModel.BytesRequested, Is.EqualTo(expectedModel.BytesRequested));
        });
}
