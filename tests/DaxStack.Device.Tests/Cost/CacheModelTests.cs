using DaxStack.Device.Cost;
using DaxStack.Device.Crash;
using DaxStack.Device.Hosting;
using DaxStack.Device.Persistence;

namespace DaxStack.Device.Tests.Cost;

/// <summary>
/// The modeled last-level cache (<see cref="CostProfile.CacheBytes"/>): which loads hit, what each
/// instruction does to the cached lines, and what a hit and a miss cost, through the CPU's
/// instructions; and, against a reference model of a direct-mapped cache, random instruction
/// sequences on a cache small enough to conflict.
/// </summary>
public class CacheModelTests
{
    private static readonly string[] Profiles = ["optane-adr", "optane-eadr", "dram"];

    private static DeviceFixture Fixture(string name, long size = 1 << 20) => new(CostProfiles.Find(name), size);

    private static double LoadCost(DeviceFixture d, long offset, int length)
    {
        double before = d.Cpu.Clock.Nanoseconds;
        d.Load(offset, length);
        return d.Cpu.Clock.Nanoseconds - before;
    }

    [TestCaseSource(nameof(Profiles))]
    public void ALineLoadedAgainHitsTheCache(string name)
    {
        using var d = Fixture(name);
        var p = d.Region.Cost.Profile;
        double first = LoadCost(d, 8192, 64);
        double again = LoadCost(d, 8192, 64);
        Assert.Multiple(() =>
        {
            Assert.That(first, Is.EqualTo(p.ReadLatencyRandomNs));
            Assert.That(again, Is.EqualTo(p.CacheHitNs));
            Assert.That(d.Cpu.Stats.CacheMissLines, Is.EqualTo(1));
            Assert.That(d.Cpu.Stats.CacheHitLines, Is.EqualTo(1));
        });
    }

    [TestCaseSource(nameof(Profiles))]
    public void AStoreBringsItsLinesIn(string name)
    {
        using var d = Fixture(name);
        d.Cpu.Store(d.Pa(4096 + 10), new byte[100]); // lines 64 and 65
        Assert.Multiple(() =>
        {
            Assert.That(LoadCost(d, 4096, 128), Is.EqualTo(2 * d.Region.Cost.Profile.CacheHitNs));
            Assert.That(d.Cpu.Stats.CacheHitLines, Is.EqualTo(2));
        });
    }

    [TestCaseSource(nameof(Profiles))]
    public void ClwbKeepsTheLineCachedAfterItIsPersistent(string name)
    {
        using var d = Fixture(name);
        d.Cpu.Store(d.Pa(0), new byte[64]);
        d.Cpu.Clwb(d.Pa(0));
        d.Cpu.Sfence();
        Assert.That(LoadCost(d, 0, 64), Is.EqualTo(d.Region.Cost.Profile.CacheHitNs));
    }

    [TestCaseSource(nameof(Profiles))]
    public void ClflushAndClflushoptEvictTheLine(string name)
    {
        using var d = Fixture(name);
        var p = d.Region.Cost.Profile;
        d.Cpu.Store(d.Pa(0), new byte[64]);
        d.Cpu.Store(d.Pa(4096), new byte[64]);
        d.Cpu.Clflush(d.Pa(0));
        d.Cpu.Clflushopt(d.Pa(4096));
        d.Cpu.Sfence();
        Assert.Multiple(() =>
        {
            Assert.That(LoadCost(d, 0, 64), Is.EqualTo(p.ReadLatencyRandomNs));
            Assert.That(LoadCost(d, 4096, 64), Is.EqualTo(p.ReadLatencyRandomNs));
        });
    }

    [TestCaseSource(nameof(Profiles))]
    public void ACleanLineFlushedIsEvictedToo(string name)
    {
        using var d = Fixture(name);
        d.Load(0, 64);
        d.Cpu.Flush(FlushKind.Clflushopt, d.Pa(0), 64);
        Assert.That(LoadCost(d, 0, 64), Is.EqualTo(d.Region.Cost.Profile.ReadLatencyRandomNs));
    }

    [TestCaseSource(nameof(Profiles))]
    public void ANonTemporalStoreInvalidatesTheCachedCopy(string name)
    {
        using var d = Fixture(name);
        d.Load(0, 4096);
        d.Cpu.NtStore(d.Pa(64), new byte[128]); // lines 1 and 2
        d.Cpu.Sfence();
        double before = d.Cpu.Stats.CacheMissLines;
        d.Load(0, 4096);
        Assert.That(d.Cpu.Stats.CacheMissLines - before, Is.EqualTo(2));
    }

    [TestCaseSource(nameof(Profiles))]
    public void APowerFailureEmptiesTheCache(string name)
    {
        using var d = Fixture(name);
        d.Load(0, 64);
        d.Space.Crash(CrashPolicy.Strict);
        Assert.That(LoadCost(d, 0, 64), Is.EqualTo(d.Region.Cost.Profile.ReadLatencyRandomNs));
    }

    [TestCaseSource(nameof(Profiles))]
    public void ALoadOfSomeCachedLinesChargesTheOthersAsALoadOfThatMany(string name)
    {
        using var d = Fixture(name);
        var p = d.Region.Cost.Profile;
        d.Load(64 * 10, 64 * 6); // lines 10-15 cached
        d.Load(1 << 19, 64);      // the next load is not sequential
        double cost = LoadCost(d, 0, 4096);
        int dimmsUsed = Math.Min(Math.Max(4096 / p.InterleaveBytes, 1), p.Dimms);
        double expected = 6 * p.CacheHitNs + p.ReadLatencyRandomNs + 57 * 64 / (p.ReadBandwidthGBps * dimmsUsed);
        Assert.That(cost, Is.EqualTo(expected).Within(1e-9));
    }

    [Test]
    public void APageThatMapsToTheSameSectorTakesItsPlaceWithAllItsLines()
    {
        var p = CostProfiles.OptaneAdr with { Name = "small-cache", CacheBytes = 8192 };
        using var d = new DeviceFixture(p, size: 1 << 20);
        d.Load(0, 256);            // page 0, lines 0-3: sector 0
        d.Load(4096 + 128, 64);    // page 1: sector 1
        d.Load(8192 + 4000, 64);   // page 2, one line: sector 0 again
        Assert.Multiple(() =>
        {
            Assert.That(d.Region.Cost.CacheLines, Is.EqualTo(128));
            Assert.That(LoadCost(d, 0, 256), Is.EqualTo(p.ReadLatencyRandomNs + 3 * 64 / p.ReadBandwidthGBps).Within(1e-9));
            Assert.That(LoadCost(d, 4096 + 128, 64), Is.EqualTo(p.CacheHitNs), "another sector is not disturbed");
        });
    }

    [Test]
    public void ALoadLongerThanTheCacheKeepsOnlyItsLastLines()
    {
        var p = CostProfiles.OptaneAdr with { Name = "small-cache", CacheBytes = 4096 };
        using var d = new DeviceFixture(p, size: 1 << 20);
        d.Load(0, 3 * 4096);   // 192 lines, three pages, through one sector
        long missesBefore = d.Cpu.Stats.CacheMissLines;
        d.Load(0, 3 * 4096);   // the first 128 lines were displaced; so are the last 64, by the first
        Assert.Multiple(() =>
        {
            Assert.That(missesBefore, Is.EqualTo(192));
            Assert.That(d.Cpu.Stats.CacheMissLines - missesBefore, Is.EqualTo(192));
            Assert.That(d.Cpu.Stats.CacheHitLines, Is.Zero);
        });
        d.Load(2 * 4096, 4096);
        Assert.That(d.Cpu.Stats.CacheHitLines, Is.EqualTo(64), "the last 64 lines of the second load stayed");
    }

    [Test]
    public void ARegionSmallerThanTheCacheKeepsEveryLineItTouches()
    {
        using var d = new DeviceFixture(CostProfiles.OptaneAdr, size: 1 << 20);
        d.Load(0, 1 << 19);
        d.Load(1 << 19, 1 << 19);
        d.Load(0, 1 << 20);
        Assert.Multiple(() =>
        {
            Assert.That(d.Region.Cost.CacheLines, Is.EqualTo((1 << 20) / 64));
            Assert.That(d.Cpu.Stats.CacheHitLines, Is.EqualTo((1 << 20) / 64));
        });
    }

    [Test]
    public void WithoutACacheEveryLoadGoesToTheMedia()
    {
        var p = CostProfiles.OptaneAdr with { Name = "no-cache", CacheBytes = 0 };
        using var d = new DeviceFixture(p);
        d.Cpu.Store(d.Pa(0), new byte[64]);
        d.Load(0, 64);
        Assert.Multiple(() =>
        {
            Assert.That(LoadCost(d, 0, 64), Is.EqualTo(p.ReadLatencyRandomNs));
            Assert.That(d.Cpu.Stats.CacheHitLines, Is.Zero);
            Assert.That(d.Region.Cost.CacheLines, Is.Zero);
        });
    }

    [TestCase(-1)]
    [TestCase(3000)]
    [TestCase(2048)]
    [TestCase(64)]
    [TestCase(512 << 20)]
    public void AnInvalidCacheSizeIsRejectedNamingTheSetting(int bytes)
    {
        var bad = CostProfiles.OptaneAdr with { CacheBytes = bytes };
        var e = Assert.Throws<ArgumentException>(() => new CostModel(bad));
        Assert.That(e!.Message, Does.Contain("CacheBytes"));
    }

    [Test]
    public void ACustomProfileSetsTheCacheSizeFromConfiguration()
    {
        var catalog = new CostProfileCatalog(new NvdimmOptions
        {
            Profiles = { ["tiny-llc"] = new CustomProfileOptions { Base = "optane-adr", Set = { ["CacheBytes"] = "8192" } } },
        });
        using var d = new DeviceFixture(catalog.Get("tiny-llc"), size: 1 << 20);
        Assert.That(d.Region.Cost.CacheLines, Is.EqualTo(128));
    }

    // A direct-mapped cache of 'sectors' 4 KiB sectors with a presence bit per line, line by line: the reference.
    private sealed class ReferenceCache(int sectors)
    {
        private readonly long[] _page = Enumerable.Repeat(-1L, sectors).ToArray();
        private readonly bool[,] _present = new bool[sectors, 64];

        public long Touch(long first, long count)
        {
            long hits = 0;
            for (long l = first; l < first + count; l++)
            {
                var (s, page, i) = Where(l);
                if (_page[s] == page && _present[s, i])
                    hits++;
                Bring(l);
            }
            return hits;
        }

        public void Fill(long first, long count)
        {
            for (long l = first; l < first + count; l++)
                Bring(l);
        }

        public void Evict(long first, long count)
        {
            for (long l = first; l < first + count; l++)
            {
                var (s, page, i) = Where(l);
                if (_page[s] == page)
                    _present[s, i] = false;
            }
        }

        public void Clear()
        {
            Array.Fill(_page, -1L);
            Array.Clear(_present);
        }

        private (int Sector, long Page, int Line) Where(long line) => ((int)(line / 64 % sectors), line / 64, (int)(line % 64));

        private void Bring(long line)
        {
            var (s, page, i) = Where(line);
            if (_page[s] != page)
            {
                _page[s] = page;
                for (int k = 0; k < 64; k++)
                    _present[s, k] = false;
            }
            _present[s, i] = true;
        }
    }

    [TestCase(1, 8)]
    [TestCase(2, 4)]
    [TestCase(3, 2)]
    [TestCase(4, 1)]
    public void RandomInstructionSequencesHitWhereADirectMappedSectorCacheLineByLineDoes(int seed, int sectors)
    {
        var p = CostProfiles.OptaneAdr with { Name = "fuzz", CacheBytes = sectors * 4096 };
        using var d = new DeviceFixture(p, size: 64 << 10);
        var reference = new ReferenceCache(sectors);
        var random = new Random(seed);
        const long regionLines = (64 << 10) / 64;
        for (int step = 0; step < 3000; step++)
        {
            // Ranges from a byte to three times the cache, anywhere in the region.
            int length = random.Next(4) == 0 ? random.Next(1, Math.Min(3 * sectors * 4096, 60 << 10) + 1) : random.Next(1, 300);
            long offset = random.NextInt64((64 << 10) - length + 1);
            long first = offset / 64, lines = (offset + length + 63) / 64 - first;
            Assert.That(first + lines, Is.LessThanOrEqualTo(regionLines));
            switch (random.Next(7))
            {
                case 0:
                case 1:
                    long before = d.Cpu.Stats.CacheHitLines;
                    d.Load(offset, length);
                    long expected = reference.Touch(first, lines);
                    Assert.That(d.Cpu.Stats.CacheHitLines - before, Is.EqualTo(expected), $"step {step}: load [{offset}, +{length})");
                    break;
                case 2:
                    d.Cpu.Store(d.Pa(offset), new byte[length]);
                    reference.Fill(first, lines);
                    break;
                case 3:
                    d.Cpu.NtStore(d.Pa(offset), new byte[length]);
                    reference.Evict(first, lines);
                    break;
                case 4:
                    var kind = (FlushKind)random.Next(3);
                    d.Cpu.Flush(kind, d.Pa(offset), length);
                    if (kind != FlushKind.Clwb)
                        reference.Evict(first, lines);
                    break;
                case 5:
                    d.Cpu.Sfence();
                    break;
                default:
                    if (random.Next(20) == 0)
                    {
                        d.Space.Crash(CrashPolicy.Strict);
                        reference.Clear();
                    }
                    break;
            }
        }
        // Every line once more: the state the sequence left, line by line.
        for (long line = 0; line < regionLines; line++)
        {
            long before = d.Cpu.Stats.CacheHitLines;
            d.Load(line * 64, 64);
            Assert.That(d.Cpu.Stats.CacheHitLines - before, Is.EqualTo(reference.Touch(line, 1)), $"line {line} at the end");
        }
    }
}
