using DaxStack.Device.Cost;

namespace DaxStack.Device.Tests.Cost;

/// <summary>
/// Model-based check of the cost model's range paths: random profiles (ingest-bound, slot-bound,
/// media-bound, with and without a write-combining buffer, one to six DIMMs), random mixes of
/// non-temporal stores, flushes, fences, loads and idle time from two CPUs, each done once as a
/// range and once line by line; every CPU and model counter must agree bit for bit after every
/// step. Long runs take the unit-by-unit path of the ingest-bound regime, short ones and other
/// regimes the line-by-line path; the reference is always one line at a time.
/// </summary>
public class RangeWriteBackEquivalenceTests
{
    private static IEnumerable<int> Seeds() => Enumerable.Range(1, 40);

    [TestCaseSource(nameof(Seeds))]
    public void RandomRangesCostExactlyWhatTheirLinesCostOneByOne(int seed)
    {
        var rng = new Random(seed);
        var profile = RandomProfile(rng);
        var (perLine, range) = (new CostModel(profile), new CostModel(profile));
        var a = new[] { new CpuCostState(), new CpuCostState() };
        var b = new[] { new CpuCostState(), new CpuCostState() };
        if (rng.Next(3) == 0)
        {
            // Start near 2^40 ns, where the additions of a long run cross a power of two and round.
            double start = 1099511627776.0 - rng.Next(1, 200_000) - rng.NextDouble();
            foreach (var cpu in a.Concat(b))
                cpu.Clock.Advance(start);
        }
        for (int step = 0; step < 60; step++)
        {
            int c = rng.Next(5) == 0 ? 1 : 0;
            long first = rng.Next(1 << 12) * 64L;
            int lines = rng.Next(4) switch { 0 => 1 + rng.Next(8), 1 => 1 + rng.Next(200), _ => 1 + rng.Next(3000) };
            switch (rng.Next(7))
            {
                case 0:
                case 1:
                case 2:
                    for (int l = 0; l < lines; l++)
                        perLine.NtStore(a[c], first + l * 64L, 64);
                    range.NtStore(b[c], first, lines * 64);
                    break;
                case 3:
                case 4:
                    var kind = (FlushKind)rng.Next(3);
                    bool dirty = rng.Next(6) != 0;
                    for (int l = 0; l < lines; l++)
                        perLine.Flush(a[c], kind, first + l * 64L, dirty);
                    range.Flush(b[c], kind, first, lines, dirty);
                    break;
                case 5:
                    perLine.Fence(a[c], FenceKind.Sfence);
                    range.Fence(b[c], FenceKind.Sfence);
                    break;
                default:
                    // Idle time or a load: the CPU's clock moves on while the DIMMs drain.
                    double idle = rng.Next(3) == 0 ? rng.NextDouble() * 100_000 : rng.NextDouble() * 500;
                    a[c].Clock.Advance(idle);
                    b[c].Clock.Advance(idle);
                    perLine.Load(a[c], first, 64, cacheHit: false);
                    range.Load(b[c], first, 64, cacheHit: false);
                    break;
            }
            AssertSameState(perLine, a, range, b, $"seed {seed} step {step} ({profile})");
        }
    }

    [Test]
    public void TheOptaneProfilesKeepEveryCounterExactOverLongStreams()
    {
        foreach (var profile in new[] { CostProfiles.OptaneAdr, CostProfiles.OptaneAdr with { Dimms = 6 }, CostProfiles.OptaneEadr })
        {
            var (perLine, range) = (new CostModel(profile), new CostModel(profile));
            var a = new[] { new CpuCostState(), new CpuCostState() };
            var b = new[] { new CpuCostState(), new CpuCostState() };
            // Back-to-back 2 MiB and 4 KiB persists, as the benchmarks make them: the write-combining
            // buffer fills and the media sets the pace.
            for (int i = 0; i < 24; i++)
            {
                int lines = i % 3 == 0 ? 32768 : 64;
                long first = (i * 64L * 1024) % (8L << 20);
                for (int l = 0; l < lines; l++)
                    perLine.NtStore(a[0], first + l * 64L, 64);
                range.NtStore(b[0], first, lines * 64);
                perLine.Fence(a[0], FenceKind.Sfence);
                range.Fence(b[0], FenceKind.Sfence);
                AssertSameState(perLine, a, range, b, $"{profile.Name} x{profile.Dimms} persist {i}");
            }
        }
    }

    // Each clwb's issue outpaces the DIMM's landings: a CPU that starts behind catches up within the run.
    [TestCase(30.0, 5.0, 20.0)]
    [TestCase(30.0, 5.0, 29.0)]
    // Ingest-bound or media-bound throughout, and the paces tied.
    [TestCase(5.0, 30.0, 20.0)]
    [TestCase(5.0, 5.0, 5.0)]
    public void AFlushRunAfterABacklogCostsWhatItsLinesCost(double issueNs, double ingestNs, double mediaNsPerLine)
    {
        var profile = CostProfiles.OptaneAdr with
        {
            Name = "backlog", FlushIssueNs = issueNs, DimmWriteIngestNs = ingestNs, WriteBackSlots = 64,
            ClwbWriteLatencyNs = 100, WriteCombiningBytes = 0, MediaGranularity = 64,
            WriteBandwidthClwbGBps = 64 / mediaNsPerLine, WriteBandwidthNtGBps = 64 / mediaNsPerLine,
        };
        var (perLine, range) = (new CostModel(profile), new CostModel(profile));
        var a = new[] { new CpuCostState() };
        var b = new[] { new CpuCostState() };
        // A backlog first: the DIMM's landings run far ahead of the CPU's clock.
        for (int l = 0; l < 4000; l++)
            perLine.NtStore(a[0], l * 64L, 64);
        range.NtStore(b[0], 0, 4000 * 64);
        AssertSameState(perLine, a, range, b, "backlog");
        for (int l = 0; l < 5000; l++)
            perLine.Flush(a[0], FlushKind.Clwb, (8000 + l) * 64L, dirty: true);
        range.Flush(b[0], FlushKind.Clwb, 8000 * 64L, 5000, dirty: true);
        AssertSameState(perLine, a, range, b, "flush run");
        perLine.Fence(a[0], FenceKind.Sfence);
        range.Fence(b[0], FenceKind.Sfence);
        AssertSameState(perLine, a, range, b, "fence");
    }

    [TestCase(6)]
    [TestCase(63)]      // the first line that may be timed unit by unit is the first of the second batch of 64
    [TestCase(64)]
    public void AnIngestBoundStreamCostsWhatItsLinesCost(int slots)
    {
        // Media far faster than ingest: every line lands when the previous line's ingest ends.
        var profile = CostProfiles.OptaneAdr with { Name = "ingest-bound", WriteBackSlots = slots, WriteBandwidthNtGBps = 40 };
        var (perLine, range) = (new CostModel(profile), new CostModel(profile));
        var a = new[] { new CpuCostState() };
        var b = new[] { new CpuCostState() };
        for (int i = 0; i < 3; i++)
        {
            long first = i * 3000 * 64L;
            for (int l = 0; l < 3000; l++)
                perLine.NtStore(a[0], first + l * 64L, 64);
            range.NtStore(b[0], first, 3000 * 64);
            AssertSameState(perLine, a, range, b, $"stream {i}");
            // A single line afterwards reads the ring entries the stream left.
            perLine.Flush(a[0], FlushKind.Clwb, 1 << 30, dirty: true);
            range.Flush(b[0], FlushKind.Clwb, 1 << 30, dirty: true);
            AssertSameState(perLine, a, range, b, $"after stream {i}");
        }
    }

    private static CostProfile RandomProfile(Random rng)
    {
        int granularity = rng.Next(2) == 0 ? 64 : 256;
        int interleave = rng.Next(2) == 0 ? 256 : 4096;
        return CostProfiles.OptaneAdr with
        {
            Name = "random",
            Dimms = new[] { 1, 1, 2, 3, 6 }[rng.Next(5)],
            InterleaveBytes = interleave,
            MediaGranularity = granularity,
            WriteCombiningBytes = new[] { 0, 4096, 16384 }[rng.Next(3)],
            // 63 slots put the first line that may be timed unit by unit at a batch's first line.
            WriteBackSlots = rng.Next(3) == 0 ? new[] { 63, 64, 32 }[rng.Next(3)] : 1 + rng.Next(16),
            // Whole, binary-fraction and arbitrary nanoseconds: the ingest-bound regime's
            // conditions (slots x ingest against latency, ingest against issue) on both sides.
            DimmWriteIngestNs = rng.Next(3) switch { 0 => 24, 1 => rng.Next(1, 200) / 8.0, _ => rng.NextDouble() * 40 },
            NtWriteLatencyNs = rng.Next(3) == 0 ? 90 : rng.NextDouble() * 300,
            ClwbWriteLatencyNs = rng.Next(3) == 0 ? 62 : rng.NextDouble() * 300,
            StoreNs = rng.Next(2) == 0 ? 1 : rng.NextDouble() * 4,
            FlushIssueNs = rng.Next(2) == 0 ? 1 : rng.NextDouble() * 30,
            WriteBandwidthNtGBps = 0.5 + rng.NextDouble() * 4,
            WriteBandwidthClwbGBps = 0.5 + rng.NextDouble() * 4,
        };
    }

    private static void AssertSameState(CostModel expectedModel, CpuCostState[] expected, CostModel actualModel, CpuCostState[] actual, string what) =>
        Assert.Multiple(() =>
        {
            for (int i = 0; i < expected.Length; i++)
            {
                Assert.That(actual[i].Clock.Nanoseconds, Is.EqualTo(expected[i].Clock.Nanoseconds), $"{what}: CPU {i} clock");
                Assert.That(actual[i].WriteBackDoneAt, Is.EqualTo(expected[i].WriteBackDoneAt), $"{what}: CPU {i} write-backs done");
                Assert.That(actual[i].OutstandingWriteBacks, Is.EqualTo(expected[i].OutstandingWriteBacks), $"{what}: CPU {i} outstanding");
            }
            Assert.That(actualModel.MediaBytesWritten, Is.EqualTo(expectedModel.MediaBytesWritten), $"{what}: media bytes");
            Assert.That(actualModel.BytesRequested, Is.EqualTo(expectedModel.BytesRequested), $"{what}: bytes requested");
        });
}
