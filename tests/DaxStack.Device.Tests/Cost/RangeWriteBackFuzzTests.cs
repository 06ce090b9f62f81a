using DaxStack.Device.Cost;
using DaxStack.Device.Persistence;

namespace DaxStack.Device.Tests.Cost;

/// <summary>
/// Extends <see cref="RangeWriteBackEquivalenceTests"/>: up to four CPUs interleaving on shared
/// DIMMs, one or two regions (models) sharing each CPU's write-back slots, unaligned
/// non-temporal stores, runs crossing interleave stripes at odd offsets, eADR and the DRAM
/// profile, 1 or 64 slots, ingest slower than the media, zero latencies and issue costs,
/// extreme but valid settings (subnormal and 1e9 ns, 1e-6 GB/s), clocks at and past 2^40 ns.
/// Each range must cost, bit for bit, what its lines one by one cost.
/// </summary>
public class RangeWriteBackFuzzTests
{
    private static IEnumerable<int> Seeds() => Enumerable.Range(1, 40);

    [TestCaseSource(nameof(Seeds))]
    public void ManyCpusRegionsAndProfilesCostWhatTheirLinesCost(int seed)
    {
        var rng = new Random(seed * 7919);
        var profile = RandomProfile(rng);
        int regions = rng.Next(3) == 0 ? 2 : 1;
        int cpus = 1 + rng.Next(4);
        var perLine = Enumerable.Range(0, regions).Select(_ => new CostModel(profile)).ToArray();
        var range = Enumerable.Range(0, regions).Select(_ => new CostModel(profile)).ToArray();
        var a = Enumerable.Range(0, cpus).Select(_ => new CpuCostState()).ToArray();
        var b = Enumerable.Range(0, cpus).Select(_ => new CpuCostState()).ToArray();
        double start = rng.Next(4) switch
        {
            0 => 0,
            1 => Math.ScaleB(1, 10 + rng.Next(30)) - rng.Next(1, 100_000) - rng.NextDouble(),
            2 => 1099511627776.0 - rng.Next(1, 3_000_000) - rng.NextDouble(),
            _ => 1099511627776.0 + rng.Next(0, 3_000_000) * rng.NextDouble(),
        };
        for (int i = 0; i < cpus; i++)
        {
            double s = start + (rng.Next(2) == 0 ? 0 : rng.NextDouble() * 50_000);
            a[i].Clock.Advance(s);
            b[i].Clock.Advance(s);
        }
        for (int step = 0; step < 50; step++)
        {
            int c = rng.Next(cpus);
            int r = rng.Next(regions);
            long firstByte = rng.Next(1 << 14) * 64L + (rng.Next(3) == 0 ? rng.Next(64) : 0);
            int lines = rng.Next(4) switch { 0 => 1 + rng.Next(8), 1 => 1 + rng.Next(300), 2 => 1 + rng.Next(5000), _ => 1 + rng.Next(40000) };
            switch (rng.Next(8))
            {
                case 0:
                case 1:
                case 2:
                {
                    int length = lines * 64 - (rng.Next(2) == 0 ? 0 : rng.Next(64));
                    long end = firstByte + length;
                    for (long at = firstByte; at < end;)
                    {
                        long next = Math.Min(end, (at & ~63L) + 64);
                        perLine[r].NtStore(a[c], at, (int)(next - at));
                        at = next;
                    }
                    range[r].NtStore(b[c], firstByte, length);
                    break;
                }
                case 3:
                case 4:
                {
                    var kind = (FlushKind)rng.Next(3);
                    bool dirty = rng.Next(6) != 0;
                    long first = firstByte & ~63L;
                    for (int l = 0; l < lines; l++)
                        perLine[r].Flush(a[c], kind, first + l * 64L, dirty);
                    range[r].Flush(b[c], kind, first, lines, dirty);
                    break;
                }
                case 5:
                    perLine[r].Fence(a[c], FenceKind.Sfence);
                    range[r].Fence(b[c], FenceKind.Sfence);
                    break;
                default:
                    double idle = rng.Next(3) == 0 ? rng.NextDouble() * 100_000 : rng.NextDouble() * 500;
                    a[c].Clock.Advance(idle);
                    b[c].Clock.Advance(idle);
                    perLine[r].Load(a[c], firstByte, 64, cacheHit: false);
                    range[r].Load(b[c], firstByte, 64, cacheHit: false);
                    break;
            }
            for (int i = 0; i < regions; i++)
                AssertSameState(perLine[i], a, range[i], b, $"seed {seed} step {step} region {i} ({profile})");
        }
    }

    private static CostProfile RandomProfile(Random rng)
    {
        var baseProfile = new[] { CostProfiles.OptaneAdr, CostProfiles.OptaneEadr, CostProfiles.Dram }[rng.Next(3)];
        if (rng.Next(4) == 0)
            return baseProfile with { Name = "builtin", WriteBackSlots = new[] { 1, 64, 6 }[rng.Next(3)] };
        if (rng.Next(4) == 0)
        {
            double Pick() => rng.Next(7) switch { 0 => 0, 1 => double.Epsilon * rng.Next(1, 5), 2 => 1e-300, 3 => 1e9, 4 => Math.ScaleB(1, -rng.Next(1, 60)), 5 => 1e9 * rng.NextDouble(), _ => rng.NextDouble() * 100 };
            double Bw() => rng.Next(4) switch { 0 => 1e-6, 1 => 1e300, 2 => double.MaxValue, _ => 0.5 + rng.NextDouble() * 4 };
            int g = new[] { 64, 256, 4096, 1 << 20 }[rng.Next(4)];
            return baseProfile with
            {
                Name = "extreme", Dimms = new[] { 1, 2, 64 }[rng.Next(3)], InterleaveBytes = Math.Max(g, new[] { 256, 1 << 20 }[rng.Next(2)]),
                MediaGranularity = g, WriteCombiningBytes = g * new[] { 0, 1, 64 }[rng.Next(3)], WriteBackSlots = new[] { 1, 6, 64 }[rng.Next(3)],
                DimmWriteIngestNs = Pick(), NtWriteLatencyNs = Pick(), ClwbWriteLatencyNs = Pick(), StoreNs = Pick(), FlushIssueNs = Pick(), FenceNs = Pick(),
                WriteBandwidthNtGBps = Bw(), WriteBandwidthClwbGBps = Bw(),
            };
        }
        int granularity = new[] { 64, 128, 256, 1024 }[rng.Next(4)];
        int interleave = Math.Max(granularity, new[] { 256, 512, 4096, 1 << 16 }[rng.Next(4)]);
        return baseProfile with
        {
            Name = "random",
            Domain = rng.Next(5) == 0 ? PersistenceDomain.Eadr : PersistenceDomain.Adr,
            Dimms = new[] { 1, 2, 3, 5, 6, 64 }[rng.Next(6)],
            InterleaveBytes = interleave,
            MediaGranularity = granularity,
            WriteCombiningBytes = granularity * new[] { 0, 1, 2, 16, 64, 67 }[rng.Next(6)],
            WriteBackSlots = new[] { 1, 2, 6, 63, 64, 1 + rng.Next(64) }[rng.Next(6)],
            DimmWriteIngestNs = rng.Next(5) switch { 0 => 24, 1 => rng.Next(1, 200) / 8.0, 2 => 0, 3 => 200 + rng.NextDouble() * 500, _ => rng.NextDouble() * 40 },
            NtWriteLatencyNs = rng.Next(4) switch { 0 => 90, 1 => 0, _ => rng.NextDouble() * 300 },
            ClwbWriteLatencyNs = rng.Next(4) switch { 0 => 62, 1 => 0, _ => rng.NextDouble() * 300 },
            StoreNs = rng.Next(3) switch { 0 => 1, 1 => 0, _ => rng.NextDouble() * 4 },
            FlushIssueNs = rng.Next(3) switch { 0 => 1, 1 => 0, _ => rng.NextDouble() * 30 },
            WriteBandwidthNtGBps = rng.Next(4) == 0 ? 1000 : 0.5 + rng.NextDouble() * 4,
            WriteBandwidthClwbGBps = rng.Next(4) == 0 ? 1000 : 0.5 + rng.NextDouble() * 4,
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
