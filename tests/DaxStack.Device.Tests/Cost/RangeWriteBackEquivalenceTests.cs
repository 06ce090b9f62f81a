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

    private static IEnumerable<int> LongRunSeeds() => Enumerable.Range(1, 30);

    // Long runs on one or two DIMMs (stripes of 1 MiB), where a run usually allocates every unit
    // it touches and the media usually sets the pace: runs that start mid-unit, repeat or overlap
    // the one before (units still buffered), cross powers of two of the clock, or come near 2^40 ns.
    [TestCaseSource(nameof(LongRunSeeds))]
    public void RandomLongRunsWhereTheMediaSetsThePaceCostWhatTheirLinesCost(int seed)
    {
        var rng = new Random(seed);
        int granularity = new[] { 64, 256, 1024 }[rng.Next(3)];
        int lines = granularity / 64;
        double unitNs = granularity / (0.5 + rng.NextDouble() * 4);
        var profile = CostProfiles.OptaneAdr with
        {
            Name = "long-runs",
            Dimms = rng.Next(3) == 0 ? 2 : 1,
            InterleaveBytes = 1 << 20,
            MediaGranularity = granularity,
            WriteCombiningBytes = granularity * new[] { 0, 1, 2, 5, 64, 67 }[rng.Next(6)],
            WriteBackSlots = rng.Next(2) == 0 ? 6 : 1 + rng.Next(64),
            // Ingest mostly faster than the media per unit (up to 1.3 times the break-even), as a
            // whole, binary-fraction or arbitrary number of nanoseconds.
            DimmWriteIngestNs = rng.Next(3) switch
            {
                0 => Math.Floor(unitNs / lines),
                1 => Math.Floor(unitNs / lines * 1.3 * rng.NextDouble() * 8) / 8,
                _ => unitNs / lines * 1.3 * rng.NextDouble(),
            },
            NtWriteLatencyNs = rng.Next(2) == 0 ? 90 : rng.NextDouble() * 300,
            ClwbWriteLatencyNs = rng.Next(2) == 0 ? 62 : rng.NextDouble() * 300,
            StoreNs = rng.Next(2) == 0 ? 1 : rng.NextDouble() * 4,
            FlushIssueNs = rng.Next(2) == 0 ? 1 : rng.NextDouble() * 8,
            WriteBandwidthNtGBps = granularity / unitNs,
            WriteBandwidthClwbGBps = 0.5 + rng.NextDouble() * 4,
        };
        var (perLine, range) = (new CostModel(profile), new CostModel(profile));
        var a = new[] { new CpuCostState() };
        var b = new[] { new CpuCostState() };
        double start = rng.Next(3) switch
        {
            0 => 0,
            1 => Math.ScaleB(1, 16 + rng.Next(24)) - rng.Next(1, 400_000) - rng.NextDouble(),
            _ => 1099511627776.0 - rng.Next(1, 3_000_000) - rng.NextDouble(),
        };
        a[0].Clock.Advance(start);
        b[0].Clock.Advance(start);
        long previous = 0;
        int previousLines = 0;
        for (int step = 0; step < 24; step++)
        {
            int n = 300 + rng.Next(12_000);
            long first = rng.Next(4) switch
            {
                0 => previous,                                                  // the same lines again
                1 => previous + (long)rng.Next(Math.Max(1, previousLines)) * 64,  // overlapping the end of the last run
                2 => previous + previousLines * 64L,                            // right after it
                _ => rng.Next(1 << 20) * 64L,
            };
            (previous, previousLines) = (first, n);
            switch (rng.Next(5))
            {
                case 0:
                    for (int l = 0; l < n; l++)
                        perLine.Flush(a[0], FlushKind.Clwb, first + l * 64L, dirty: true);
                    range.Flush(b[0], FlushKind.Clwb, first, n, dirty: true);
                    break;
                default:
                    for (int l = 0; l < n; l++)
                        perLine.NtStore(a[0], first + l * 64L, 64);
                    range.NtStore(b[0], first, n * 64);
                    break;
            }
            AssertSameState(perLine, a, range, b, $"seed {seed} step {step} ({profile})");
            if (rng.Next(2) == 0)
            {
                perLine.Fence(a[0], FenceKind.Sfence);
                range.Fence(b[0], FenceKind.Sfence);
            }
        }
    }

    private static IEnumerable<int> MixedPaceSeeds() => Enumerable.Range(1, 60);

    // Long clwb and ntstore runs back to back without fences, whose media paces lie on either side
    // of the DIMM's ingest per unit: each run starts on a media queue the other kind left behind.
    [TestCaseSource(nameof(MixedPaceSeeds))]
    public void LongRunsOfDifferentMediaPacesCostWhatTheirLinesCost(int seed)
    {
        var rng = new Random(seed);
        int granularity = new[] { 64, 256 }[rng.Next(2)];
        double ingest = 24 * 64.0 / granularity;
        double perUnit = ingest * granularity / 64;
        var profile = CostProfiles.OptaneAdr with
        {
            Name = "mixed-pace",
            MediaGranularity = granularity,
            WriteCombiningBytes = granularity * new[] { 0, 1, 3, 64 }[rng.Next(4)],
            WriteBackSlots = 1 + rng.Next(64),
            DimmWriteIngestNs = ingest,
            NtWriteLatencyNs = rng.NextDouble() * 200,
            ClwbWriteLatencyNs = rng.NextDouble() * 200,
            WriteBandwidthNtGBps = granularity / (perUnit * (0.5 + rng.NextDouble())),
            WriteBandwidthClwbGBps = granularity / (perUnit * (0.5 + 2 * rng.NextDouble())),
        };
        var (perLine, range) = (new CostModel(profile), new CostModel(profile));
        var a = new[] { new CpuCostState() };
        var b = new[] { new CpuCostState() };
        long first = 0;
        for (int step = 0; step < 16; step++)
        {
            int n = 270 + rng.Next(rng.Next(2) == 0 ? 600 : 6000);
            if (rng.Next(2) == 0)
            {
                for (int l = 0; l < n; l++)
                    perLine.Flush(a[0], FlushKind.Clwb, first + l * 64L, dirty: true);
                range.Flush(b[0], FlushKind.Clwb, first, n, dirty: true);
            }
            else
            {
                for (int l = 0; l < n; l++)
                    perLine.NtStore(a[0], first + l * 64L, 64);
                range.NtStore(b[0], first, n * 64);
            }
            AssertSameState(perLine, a, range, b, $"seed {seed} step {step} ({profile})");
            first += n * 64L + rng.Next(3) * 64;
            if (rng.Next(8) == 0)
            {
                double idle = rng.NextDouble() * 20_000;
                a[0].Clock.Advance(idle);
                b[0].Clock.Advance(idle);
            }
        }
    }

    // Back-to-back long persists with the media the bottleneck (2.3 GB/s against 24 ns of ingest
    // per line: 27.8 ns of media per line), for buffers of no unit, one, a few and many, from a
    // clock that crosses 2^30 ns within the first runs.
    [TestCase(0, 256, 6)]
    [TestCase(1, 256, 6)]
    [TestCase(1, 64, 64)]
    [TestCase(4, 64, 4)]
    [TestCase(64, 256, 6)]
    [TestCase(256, 64, 16)]
    [TestCase(16, 1024, 6)]
    [TestCase(4, 65536, 6)]     // 1024 lines a unit: each unit's landing sums 1024 ingest times
    public void AMediaBoundStreamCostsWhatItsLinesCost(int bufferUnits, int granularity, int slots)
    {
        var profile = CostProfiles.OptaneAdr with
        {
            Name = "media-bound", MediaGranularity = granularity, WriteCombiningBytes = bufferUnits * granularity, WriteBackSlots = slots,
            InterleaveBytes = Math.Max(4096, granularity),
        };
        var (perLine, range) = (new CostModel(profile), new CostModel(profile));
        var a = new[] { new CpuCostState() };
        var b = new[] { new CpuCostState() };
        a[0].Clock.Advance(1073741824.0 - 150_000.25);
        b[0].Clock.Advance(1073741824.0 - 150_000.25);
        for (int i = 0; i < 8; i++)
        {
            // Mid-unit starts on odd runs; each run lands just past the one before.
            long first = i * 40_000 * 64L + (i % 2) * 64;
            for (int l = 0; l < 40_000; l++)
                perLine.NtStore(a[0], first + l * 64L, 64);
            range.NtStore(b[0], first, 40_000 * 64);
            AssertSameState(perLine, a, range, b, $"run {i}");
            perLine.Fence(a[0], FenceKind.Sfence);
            range.Fence(b[0], FenceKind.Sfence);
            AssertSameState(perLine, a, range, b, $"fence {i}");
        }
    }

    private static IEnumerable<int> ShortRunSeeds() => Enumerable.Range(1, 40);

    // Short runs (a page or a few) back to back into a window larger than the buffer, with and
    // without fences between them, as a persisting writer makes them: the media queue fills and,
    // once a unit waits for room, the rest of each run is media-bound and timed in one step. Runs
    // that start mid-unit or overlap the last one (units still buffered) take it only in part or
    // not at all.
    [TestCaseSource(nameof(ShortRunSeeds))]
    public void ShortRunsOnAFullMediaQueueCostWhatTheirLinesCost(int seed)
    {
        var rng = new Random(seed);
        int granularity = new[] { 128, 256, 256, 1024 }[rng.Next(4)];
        int lines = granularity / 64;
        double ingest = rng.Next(3) switch { 0 => 24, 1 => rng.Next(8, 200) / 8.0, _ => 5 + rng.NextDouble() * 30 };
        var profile = CostProfiles.OptaneAdr with
        {
            Name = "short-runs",
            Dimms = rng.Next(3) == 0 ? 2 : 1,
            InterleaveBytes = rng.Next(2) == 0 ? 4096 : 1 << 16,
            MediaGranularity = granularity,
            WriteCombiningBytes = granularity * new[] { 2, 5, 16, 64 }[rng.Next(4)],
            WriteBackSlots = rng.Next(2) == 0 ? 6 : 1 + rng.Next(64),
            DimmWriteIngestNs = ingest,
            NtWriteLatencyNs = rng.Next(2) == 0 ? 90 : rng.NextDouble() * 300,
            ClwbWriteLatencyNs = rng.Next(2) == 0 ? 62 : rng.NextDouble() * 300,
            StoreNs = rng.Next(2) == 0 ? 1 : rng.NextDouble() * 4,
            FlushIssueNs = rng.Next(2) == 0 ? 1 : rng.NextDouble() * 8,
            // The media per unit from a little below the ingest of its lines to twice it.
            WriteBandwidthNtGBps = granularity / (ingest * lines * (0.9 + rng.NextDouble() * 1.1)),
            WriteBandwidthClwbGBps = granularity / (ingest * lines * (0.9 + rng.NextDouble() * 1.1)),
        };
        var (perLine, range) = (new CostModel(profile), new CostModel(profile));
        var a = new[] { new CpuCostState(), new CpuCostState() };
        var b = new[] { new CpuCostState(), new CpuCostState() };
        double start = rng.Next(3) switch
        {
            0 => 0,
            1 => Math.ScaleB(1, 16 + rng.Next(24)) - rng.Next(1, 100_000) - rng.NextDouble(),
            _ => 1099511627776.0 - rng.Next(1, 300_000) - rng.NextDouble(),
        };
        foreach (var cpu in a.Concat(b))
            cpu.Clock.Advance(start);
        long window = (long)profile.WriteCombiningBytes * 8;
        long next = 0;
        for (int step = 0; step < 300; step++)
        {
            int c = rng.Next(8) == 0 ? 1 : 0;
            int n = rng.Next(4) switch { 0 => 64, 1 => 128, 2 => 1 + rng.Next(64), _ => 64 + rng.Next(200) };
            long first = rng.Next(6) switch
            {
                0 => next - rng.Next(64) * 64L,      // overlapping the last run
                1 => next + rng.Next(lines) * 64L,   // mid-unit
                _ => next,
            };
            first = Math.Max(0, first) % window;
            next = first + n * 64L;
            if (rng.Next(2) == 0)
            {
                for (int l = 0; l < n; l++)
                    perLine.NtStore(a[c], first + l * 64L, 64);
                range.NtStore(b[c], first, n * 64);
            }
            else
            {
                for (int l = 0; l < n; l++)
                    perLine.Flush(a[c], FlushKind.Clwb, first + l * 64L, dirty: true);
                range.Flush(b[c], FlushKind.Clwb, first, n, dirty: true);
            }
            AssertSameState(perLine, a, range, b, $"seed {seed} step {step} ({profile})");
            switch (rng.Next(10))
            {
                case < 5:
                    perLine.Fence(a[c], FenceKind.Sfence);
                    range.Fence(b[c], FenceKind.Sfence);
                    break;
                case 5:
                    double idle = rng.NextDouble() * 3000;
                    a[c].Clock.Advance(idle);
                    b[c].Clock.Advance(idle);
                    break;
            }
            AssertSameState(perLine, a, range, b, $"seed {seed} after step {step} ({profile})");
        }
    }

    // Single lines to distinct units, more than the media queue holds, fill it with units the
    // media writes a unit time apart: non-temporal ones (4.5 ingest times of media each), then
    // clwbs ('clwbIngests' each, less than a run's units need to come in when below 4). A
    // non-temporal run that starts while that backlog lasts waits for room at its first units,
    // those queued after non-temporal singles, and stops waiting where the clwbs' units begin.
    [TestCase(3.0, 200, 56)]
    [TestCase(3.9, 200, 56)]
    [TestCase(2.5, 200, 60)]
    [TestCase(3.0, 200, 0)]     // all non-temporal: every unit of the run waits
    [TestCase(4.1, 200, 56)]    // the clwbs' units as far apart as a run's: each of them waits
    [TestCase(3.0, 20, 20)]     // fewer singles than the queue holds: no room to wait for
    public void ARunAfterABacklogOfSingleLinesWaitsForTheRoomEachUnitNeeds(double clwbIngests, int ntSingles, int clwbSingles)
    {
        var profile = CostProfiles.OptaneAdr with
        {
            Name = "singles", DimmWriteIngestNs = 24,
            WriteBandwidthNtGBps = 256 / (24 * 4.5), WriteBandwidthClwbGBps = 256 / (24 * clwbIngests),
        };
        var (perLine, range) = (new CostModel(profile), new CostModel(profile));
        var a = new[] { new CpuCostState() };
        var b = new[] { new CpuCostState() };
        for (int round = 0; round < 4; round++)
        {
            for (int u = 0; u < ntSingles + clwbSingles; u++)
            {
                long line = (100_000 + round * 1000 + u * 7) * 256L;
                if (u < ntSingles)
                {
                    perLine.NtStore(a[0], line, 64);
                    range.NtStore(b[0], line, 64);
                }
                else
                {
                    perLine.Flush(a[0], FlushKind.Clwb, line, dirty: true);
                    range.Flush(b[0], FlushKind.Clwb, line, 1, dirty: true);
                }
            }
            AssertSameState(perLine, a, range, b, $"round {round} singles");
            long first = round * 64 * 64L;
            for (int l = 0; l < 64; l++)
                perLine.NtStore(a[0], first + l * 64L, 64);
            range.NtStore(b[0], first, 64 * 64);
            AssertSameState(perLine, a, range, b, $"round {round}");
            perLine.Fence(a[0], FenceKind.Sfence);
            range.Fence(b[0], FenceKind.Sfence);
            AssertSameState(perLine, a, range, b, $"round {round} fenced");
        }
    }

    // The 64 units of a 16 KiB buffer written first one line each, oldest first: 'held' at FIFO
    // position 'position' (the others far away, many sharing one slot of the buffer's direct
    // table), then a long run from unit 1000. A held unit is still buffered when the run reaches
    // it only if the run's writes before it have not evicted it (index in the run at most its
    // position): then it merges, otherwise every unit of the run allocates.
    [TestCase(1003, 3)]     // reached after 3 evictions: still held, merges
    [TestCase(1003, 2)]     // evicted just before the run reaches it
    [TestCase(1000, 0)]     // the run's first unit, held
    [TestCase(1063, 5)]
    [TestCase(1099, 63)]    // the run's last unit, the newest held
    [TestCase(1100, 63)]    // just past the run
    [TestCase(999, 0)]      // just before it
    public void ALongRunOverUnitsStillBufferedCostsWhatItsLinesCost(int held, int position)
    {
        var profile = CostProfiles.OptaneAdr;
        var (perLine, range) = (new CostModel(profile), new CostModel(profile));
        var a = new[] { new CpuCostState() };
        var b = new[] { new CpuCostState() };
        for (int p = 0; p < 64; p++)
        {
            long unit = p == position ? held : 5000 + 256L * p;
            perLine.NtStore(a[0], unit * 256, 64);
            range.NtStore(b[0], unit * 256, 64);
        }
        AssertSameState(perLine, a, range, b, "buffer filled");
        for (int l = 0; l < 400; l++)
            perLine.NtStore(a[0], 1000 * 256 + l * 64L, 64);
        range.NtStore(b[0], 1000 * 256, 400 * 64);
        AssertSameState(perLine, a, range, b, "run");
        // What the buffer holds now: one line in every unit written so far, in the order they were first written.
        for (int p = 0; p < 64; p++)
        {
            long unit = p == position ? held : 5000 + 256L * p;
            perLine.NtStore(a[0], unit * 256 + 64, 64);
            range.NtStore(b[0], unit * 256 + 64, 64);
        }
        for (long unit = 1000; unit < 1100; unit++)
        {
            perLine.NtStore(a[0], unit * 256 + 128, 64);
            range.NtStore(b[0], unit * 256 + 128, 64);
        }
        AssertSameState(perLine, a, range, b, "after");
    }

    // A run of clean flushes is charged its issue costs in one step: across powers of two, with
    // an issue cost that lies halfway between two doubles of the clock's spacing (rounded to
    // even, which from a clock that is an odd multiple of the spacing goes another way the first
    // time than after), below half the spacing (the clock never moves), or from 0.
    [TestCase(20, -3000.5, 1, -34, false)]      // 1 + 2^-34: halfway at clocks in [2^19, 2^20)
    [TestCase(20, -3000.5, 1, -34, true)]
    [TestCase(20, -3000.5, 3, -34, true)]
    [TestCase(20, -3000.5, 1, -33, true)]
    [TestCase(20, -3000.5, 0.1, 0, false)]
    [TestCase(10, -24, 0, -44, false)]          // 2^-44 at clocks in [2^9, 2^10): halfway
    [TestCase(10, -24, 0, -44, true)]
    [TestCase(10, -24, 0, -45, true)]           // below half the spacing
    [TestCase(0, -1, 0.3, 0, false)]
    [TestCase(4, -13, 7.25, 0, false)]
    [TestCase(40, -100, 0.7, 0, false)]
    public void ACleanFlushRunCostsItsIssueCostsOneByOneAcrossPowersOfTwo(int power, double belowPower, double issue, int extraBit, bool oddClock)
    {
        double issueNs = issue + (extraBit == 0 ? 0 : Math.ScaleB(1, extraBit));
        var profile = CostProfiles.OptaneAdr with { Name = "clean", FlushIssueNs = issueNs };
        var (perLine, range) = (new CostModel(profile), new CostModel(profile));
        var a = new[] { new CpuCostState() };
        var b = new[] { new CpuCostState() };
        // One spacing of the binade below 2^power more: an odd multiple of it.
        double start = Math.ScaleB(1, power) + belowPower + (oddClock ? Math.ScaleB(1, power - 53) : 0);
        a[0].Clock.Advance(start);
        b[0].Clock.Advance(start);
        for (int run = 0; run < 3; run++)
        {
            for (int l = 0; l < 100_000; l++)
                perLine.Flush(a[0], FlushKind.Clwb, l * 64L, dirty: false);
            range.Flush(b[0], FlushKind.Clwb, 0, 100_000, dirty: false);
            AssertSameState(perLine, a, range, b, $"run {run}");
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
