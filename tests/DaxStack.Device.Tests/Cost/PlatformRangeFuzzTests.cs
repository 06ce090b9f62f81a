using DaxStack.Device.Crash;
using DaxStack.Device.Cost;
using DaxStack.Device.Media;
using DaxStack.Device.Platform;

namespace DaxStack.Device.Tests.Cost;

/// <summary>
/// The CPU's range instructions (NtStore of many lines, Flush of a range of any kind) against the
/// same instructions line by line, through the public CPU interface on two regions and two CPUs:
/// clocks, write-backs, media bytes, bytes requested and lines in flight must agree. Fences are
/// made often enough that the line-by-line side stays below Cpu.MaxPendingRuns, past which its
/// oldest write-backs complete on their own (a documented difference from the range side).
/// </summary>
public class PlatformRangeFuzzTests
{
    private static IEnumerable<int> Seeds() => Enumerable.Range(1, 12);

    private sealed class Platform : IDisposable
    {
        public readonly PhysicalAddressSpace Space = new();
        public readonly NvdimmRegion[] Regions;
        public readonly Cpu[] Cpus;
        public Platform(CostProfile p, int regions, int cpus, long size)
        {
            Regions = Enumerable.Range(0, regions).Select(i => new NvdimmRegion("r" + i, new NativeMedia(size), p)).ToArray();
            foreach (var r in Regions) Space.AddRegion(r);
            Cpus = Enumerable.Range(0, cpus).Select(_ => Space.CreateCpu()).ToArray();
        }
        public void Dispose() => Space.Dispose();
    }

    // Page-sized persists back to back, as a persisting writer makes them, against the same lines
    // persisted one by one: the media queue fills and the tails of the runs are media-bound. A
    // power failure now and then empties the queue (zeros), from which it fills again.
    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public void PagePersistsAcrossPowerFailuresCostWhatTheirLinesCost(int seed)
    {
        var rng = new Random(seed);
        var profile = new[] { CostProfiles.OptaneAdr, CostProfiles.OptaneAdr with { Name = "x6", Dimms = 6 }, CostProfiles.OptaneEadr }[seed % 3];
        const long size = 1 << 20;
        using var a = new Platform(profile, 1, 1, size);
        using var b = new Platform(profile, 1, 1, size);
        var page = new byte[4096];
        rng.NextBytes(page);
        long pa = a.Regions[0].BaseAddress;
        for (int step = 0; step < 400; step++)
        {
            long off = (step % 64) * 4096L;
            int len = rng.Next(4) == 0 ? 64 * (1 + rng.Next(64)) : 4096;
            a.Cpus[0].Persist(pa + off, page.AsSpan(0, len));
            for (int l = 0; l < len; l += 64)
                b.Cpus[0].NtStore(pa + off + l, page.AsSpan(l, 64));
            b.Cpus[0].Sfence();
            if (rng.Next(50) == 0)
            {
                a.Space.Crash(CrashPolicy.Strict);
                b.Space.Crash(CrashPolicy.Strict);
            }
            Assert.Multiple(() =>
            {
                Assert.That(a.Cpus[0].Clock.Nanoseconds, Is.EqualTo(b.Cpus[0].Clock.Nanoseconds), $"seed {seed} step {step}: clock");
                Assert.That(a.Regions[0].Cost.MediaBytesWritten, Is.EqualTo(b.Regions[0].Cost.MediaBytesWritten), $"seed {seed} step {step}: media");
            });
        }
        Assert.That(a.Cpus[0].Clock.Nanoseconds, Is.GreaterThan(400 * 1000.0), "the persists were timed");
    }

    [TestCaseSource(nameof(Seeds))]
    public void RangesThroughTheCpuCostWhatTheirLinesCost(int seed)
    {
        var rng = new Random(seed);
        var profile = new[] { CostProfiles.OptaneAdr, CostProfiles.Dram, CostProfiles.OptaneAdr with { Name = "x", Dimms = 3, InterleaveBytes = 256, WriteBackSlots = 64 } }[rng.Next(3)];
        const long size = 4 << 20;
        using var a = new Platform(profile, 2, 2, size);
        using var b = new Platform(profile, 2, 2, size);
        var data = new byte[1 << 20];
        rng.NextBytes(data);
        var sinceFence = new long[2];
        for (int step = 0; step < 200; step++)
        {
            int c = rng.Next(2), r = rng.Next(2);
            // Per-line write-backs record one pending run each: stay below Cpu.MaxPendingRuns.
            if (sinceFence[c] > 1500)
            {
                a.Cpus[c].Sfence();
                b.Cpus[c].Sfence();
                sinceFence[c] = 0;
            }
            long off = rng.Next((int)(size / 64 - 20000)) * 64L + (rng.Next(3) == 0 ? rng.Next(64) : 0);
            int len = rng.Next(3) switch { 0 => 1 + rng.Next(64), 1 => 1 + rng.Next(2000), _ => 1 + rng.Next(90_000) };
            len = (int)Math.Min(len, size - off);
            sinceFence[c] += len / 64 + 2;
            long pa = a.Regions[r].BaseAddress + off;
            string what;
            switch (rng.Next(6))
            {
                case 0:
                case 1:
                    what = "store";
                    a.Cpus[c].Store(pa, data.AsSpan(0, len));
                    b.Cpus[c].Store(pa, data.AsSpan(0, len));
                    break;
                case 2:
                    what = "ntstore";
                    a.Cpus[c].NtStore(pa, data.AsSpan(0, len));
                    for (long at = pa, end = pa + len; at < end;)
                    {
                        long next = Math.Min(end, (at & ~63L) + 64);
                        b.Cpus[c].NtStore(at, data.AsSpan((int)(at - pa), (int)(next - at)));
                        at = next;
                    }
                    break;
                case 3:
                case 4:
                    var kind = (FlushKind)rng.Next(3);
                    what = "flush " + kind;
                    a.Cpus[c].Flush(kind, pa, len);
                    for (long line = pa & ~63L; line < pa + len; line += 64)
                    {
                        switch (kind)
                        {
                            case FlushKind.Clwb: b.Cpus[c].Clwb(line); break;
                            case FlushKind.Clflushopt: b.Cpus[c].Clflushopt(line); break;
                            default: b.Cpus[c].Clflush(line); break;
                        }
                    }
                    break;
                default:
                    what = "fence";
                    sinceFence[c] = 0;
                    a.Cpus[c].Sfence();
                    b.Cpus[c].Sfence();
                    break;
            }
            Assert.Multiple(() =>
            {
                for (int i = 0; i < 2; i++)
                {
                    Assert.That(b.Cpus[i].Clock.Nanoseconds, Is.EqualTo(a.Cpus[i].Clock.Nanoseconds), $"seed {seed} step {step} {what}: cpu {i} clock");
                    Assert.That(b.Cpus[i].CostState.WriteBackDoneAt, Is.EqualTo(a.Cpus[i].CostState.WriteBackDoneAt), $"seed {seed} step {step} {what}: cpu {i} done");
                    Assert.That(b.Cpus[i].CostState.OutstandingWriteBacks, Is.EqualTo(a.Cpus[i].CostState.OutstandingWriteBacks), $"seed {seed} step {step} {what}: cpu {i} outstanding");
                }
                for (int i = 0; i < 2; i++)
                {
                    Assert.That(b.Regions[i].Cost.MediaBytesWritten, Is.EqualTo(a.Regions[i].Cost.MediaBytesWritten), $"seed {seed} step {step} {what}: region {i} media");
                    Assert.That(b.Regions[i].InFlightLineCount, Is.EqualTo(a.Regions[i].InFlightLineCount), $"seed {seed} step {step} {what}: region {i} inflight");
                    Assert.That(b.Regions[i].Cost.BytesRequested, Is.EqualTo(a.Regions[i].Cost.BytesRequested), $"seed {seed} step {step} {what}: region {i} requested");
                }
            });
        }
    }
}
