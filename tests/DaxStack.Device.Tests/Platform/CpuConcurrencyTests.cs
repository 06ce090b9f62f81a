using DaxStack.Device.Cost;
using DaxStack.Device.Crash;
using DaxStack.Device.Media;
using DaxStack.Device.Platform;

namespace DaxStack.Device.Tests.Platform;

/// <summary>
/// Several CPUs, each on its own thread, storing, writing back and fencing on one region, then a
/// power failure: what each CPU fenced survives it, what it did not is in flight (and counted
/// exactly), and nothing is left outstanding afterwards. Every test is bounded in time.
/// </summary>
public class CpuConcurrencyTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private static void RunAll(IEnumerable<Action> work)
    {
        var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        var threads = work.Select(w => new Thread(() =>
        {
            try { w(); }
            catch (Exception e) { errors.Enqueue(e); }
        }) { IsBackground = true }).ToList();
        foreach (var t in threads)
            t.Start();
        foreach (var t in threads)
            Assert.That(t.Join(Bound), Is.True, "a thread is stuck (deadlock?)");
        Assert.That(errors, Is.Empty);
    }

    [TestCase("strict")]
    [TestCase("all")]
    [TestCase("random")]
    [CancelAfter(120_000)]
    public void LinesEachCpuFencedSurviveACrashAndNothingStaysOutstanding(string policyName)
    {
        using var d = new DeviceFixture();
        const int Cpus = 3, OwnLines = 256, Unfenced = 5, Shared = 32, Rounds = 4000;
        var cpus = Enumerable.Range(0, Cpus).Select(_ => d.Space.CreateCpu()).ToArray();
        // CPU 0 owns the lock's bias before the others arrive.
        cpus[0].Store(d.Pa(0), new byte[64]);
        long Own(int c, int l) => 64 * 1024L + c * 64 * 1024L + l * 64L;
        using var start = new Barrier(Cpus);
        RunAll(cpus.Select((cpu, c) => (Action)(() =>
        {
            var line = new byte[64];
            start.SignalAndWait();
            for (int r = 0; r < Rounds; r++)
            {
                // Its own lines, with a mix of write-back instructions; and lines every CPU shares.
                int l = r % OwnLines;
                Array.Fill(line, (byte)(r % 250 + 1));
                switch (r % 3)
                {
                    case 0: cpu.Store(d.Pa(Own(c, l)), line); cpu.Clwb(d.Pa(Own(c, l))); break;
                    case 1: cpu.Store(d.Pa(Own(c, l)), line); cpu.Clflushopt(d.Pa(Own(c, l))); break;
                    default: cpu.NtStore(d.Pa(Own(c, l)), line); break;
                }
                long s = (r * 7 + c) % Shared * 64L;
                Array.Fill(line, (byte)(c + 1));
                cpu.Store(d.Pa(s), line);
                cpu.Flush(Device.Cost.FlushKind.Clwb, d.Pa(s), 64);
                cpu.Sfence();
            }
            // Lines stored last and not fenced: only these may be lost.
            Array.Fill(line, (byte)0xEE);
            for (int l = 0; l < Unfenced; l++)
            {
                cpu.Store(d.Pa(Own(c, OwnLines + l)), line);
                if (l % 2 == 0)
                    cpu.Clwb(d.Pa(Own(c, OwnLines + l)));
            }
        })));

        Assert.That(d.Region.InFlightLineCount, Is.EqualTo(Cpus * Unfenced));
        var policy = policyName switch { "strict" => CrashPolicy.Strict, "all" => CrashPolicy.AllPersisted, _ => CrashPolicy.Random(7) };
        d.Space.Crash(policy);
        var wrong = new List<string>();
        for (int c = 0; c < Cpus; c++)
        {
            for (int l = 0; l < OwnLines; l++)
            {
                int lastRound = (Rounds - 1 - l) / OwnLines * OwnLines + l;
                if (d.Persisted(Own(c, l), 64).Any(b => b != (byte)(lastRound % 250 + 1)))
                    wrong.Add($"cpu {c} line {l}");
            }
            for (int l = 0; l < Unfenced; l++)
            {
                var p = d.Persisted(Own(c, OwnLines + l), 64);
                bool ok = policyName switch
                {
                    "strict" => p.All(b => b == 0),
                    "all" => p.All(b => b == 0xEE),
                    _ => Enumerable.Range(0, 8).All(w => p.AsSpan(w * 8, 8).ToArray() is var word && (word.All(b => b == 0) || word.All(b => b == 0xEE))),
                };
                if (!ok)
                    wrong.Add($"cpu {c} unfenced line {l}: {Convert.ToHexString(p)}");
            }
        }
        for (int s = 0; s < Shared; s++)
        {
            var p = d.Persisted(s * 64L, 64);
            if (p.Distinct().Count() != 1 || p[0] is < 1 or > Cpus)
                wrong.Add($"shared line {s}: {Convert.ToHexString(p)}");
        }
        Assert.Multiple(() =>
        {
            Assert.That(wrong, Is.Empty);
            Assert.That(d.Region.InFlightLineCount, Is.Zero);
            Assert.That(cpus.Select(c => c.CostState.OutstandingWriteBacks), Is.All.Zero);
        });
        // After the crash a fence has nothing left to complete, and new stores start from scratch.
        for (int c = 0; c < Cpus; c++)
        {
            cpus[c].Store(d.Pa(Own(c, 0)), d.Load(Own(c, 0), 64));
            cpus[c].Sfence();
        }
        Assert.That(d.Region.InFlightLineCount, Is.EqualTo(Cpus));
    }

    // A power failure while CPUs execute: each instruction falls wholly before or wholly after it.
    // A line a CPU stores, writes back and fences after the failure is persistent after its fence.
    [Test]
    [CancelAfter(120_000)]
    public void ACrashWhileCpusExecuteLeavesNoFencedLineInFlight()
    {
        using var d = new DeviceFixture(size: 16 << 20);
        const int Cpus = 2, Lines = 16 << 20 >> 6;
        var cpus = Enumerable.Range(0, Cpus).Select(_ => d.Space.CreateCpu()).ToArray();
        int running = Cpus, crashes = 0;
        // Each CPU stores every line of its own once (none is stored again, so none can be
        // persisted by a later write-back), while another thread fails the power again and again.
        RunAll(cpus.Select((cpu, c) => (Action)(() =>
        {
            var line = new byte[64];
            for (int l = c; l < Lines; l += Cpus)
            {
                Array.Fill(line, (byte)(l % 251 + 1));
                if (l % 2 == 0)
                {
                    cpu.Store(d.Pa(l * 64L), line);
                    cpu.Clwb(d.Pa(l * 64L));
                }
                else
                    cpu.NtStore(d.Pa(l * 64L), line);
                cpu.Sfence();
            }
            Interlocked.Decrement(ref running);
        })).Append(() =>
        {
            while (Volatile.Read(ref running) > 0)
            {
                if (crashes % 2 == 0)
                    d.Space.Crash(CrashPolicy.Strict);
                else
                    d.Region.Crash(CrashPolicy.Strict);
                crashes++;
            }
        }));
        TestContext.Out.WriteLine($"{crashes} crashes");
        Assert.That(d.Region.InFlightLineCount, Is.Zero, "a line stored and fenced after a crash was left in flight");
    }

    // The same, made certain: the CPU stores and writes a line back on its thread after the
    // failure has reset the persistence state and before the failure returns (held there by the
    // media's flush, the failure's last step); its fence then makes the line persistent.
    [TestCase(true)]
    [TestCase(false)]
    [CancelAfter(60_000)]
    public void AStoreAndWriteBackMadeAsTheCrashEndsArePersistentAfterTheirFence(bool wholeSpace)
    {
        using var media = new HeldFlushMedia(1 << 20);
        using var space = new PhysicalAddressSpace();
        var region = new NvdimmRegion("region0", media, CostProfiles.OptaneAdr);
        space.AddRegion(region);
        var cpu = space.CreateCpu();
        var before = Enumerable.Repeat((byte)1, 64).ToArray();
        var after = Enumerable.Repeat((byte)2, 64).ToArray();
        long x = region.BaseAddress, y = region.BaseAddress + 4096;
        // Before the failure: a write-back outstanding, which the failure resolves.
        cpu.Store(x, before);
        cpu.Clwb(x);

        media.Hold = true;
        var crash = new Thread(() =>
        {
            if (wholeSpace)
                space.Crash(CrashPolicy.Strict);
            else
                region.Crash(CrashPolicy.Strict);
        }) { IsBackground = true };
        crash.Start();
        Assert.That(media.Flushing.Wait(TimeSpan.FromSeconds(30)), Is.True, "the crash never flushed the media");
        // The power is back: the CPU runs on.
        cpu.Store(y, after);
        cpu.Clwb(y);
        media.Release.Set();
        Assert.That(crash.Join(TimeSpan.FromSeconds(30)), Is.True, "the crash did not return");
        Assert.That(cpu.CostState.OutstandingWriteBacks, Is.EqualTo(1), "the write-back issued after the crash is outstanding");
        cpu.Sfence();

        var persisted = new byte[64];
        region.ReadPersisted(4096, persisted);
        Assert.Multiple(() =>
        {
            Assert.That(persisted, Is.EqualTo(after), "the line stored, written back and fenced after the crash");
            Assert.That(region.InFlightLineCount, Is.Zero);
        });
    }

    // A power failure writes the image back after leaving the region's lock; a dispose on another
    // thread meanwhile must wait for that write-back before it releases the media (and a crash or
    // write-back after the dispose must not flush released media).
    [TestCase(true)]
    [TestCase(false)]
    [CancelAfter(60_000)]
    public void ADisposeWaitsForTheImageWriteBackOfACrashOrWriteBackInProgress(bool crash)
    {
        using var media = new HeldFlushMedia(1 << 20);
        using var space = new PhysicalAddressSpace();
        var region = new NvdimmRegion("region0", media, CostProfiles.OptaneAdr);
        space.AddRegion(region);
        var cpu = space.CreateCpu();
        cpu.Store(region.BaseAddress, new byte[64]);

        media.Hold = true;
        var flusher = new Thread(() =>
        {
            if (crash)
                region.Crash(CrashPolicy.Strict);
            else
                region.WriteBackAll();
        }) { IsBackground = true };
        flusher.Start();
        Assert.That(media.Flushing.Wait(TimeSpan.FromSeconds(30)), Is.True, "the image was never written back");
        var dispose = new Thread(region.Dispose) { IsBackground = true };
        dispose.Start();
        // The dispose must not release the media while the write-back runs: give it time to try.
        bool releasedEarly = media.Disposed.Wait(TimeSpan.FromMilliseconds(500));
        media.Release.Set();
        Assert.That(flusher.Join(TimeSpan.FromSeconds(30)), Is.True, "the write-back did not return");
        Assert.That(dispose.Join(TimeSpan.FromSeconds(30)), Is.True, "the dispose did not return");
        if (crash)
            region.Crash(CrashPolicy.Strict);
        else
            region.WriteBackAll();
        Assert.Multiple(() =>
        {
            Assert.That(releasedEarly, Is.False, "the media was released while the write-back ran");
            Assert.That(media.DisposedDuringFlush, Is.False);
            Assert.That(media.FlushedAfterDispose, Is.False, "a write-back after the dispose flushed released media");
        });
    }

    // Two regions, CPUs on their own threads writing back lines of both without fencing; one
    // region fails alone. Its lines and the CPUs' write-backs to it go; the other region's stay,
    // counted exactly, and each CPU's fence then persists them.
    [Test]
    [CancelAfter(60_000)]
    public void AFailureOfOneRegionKeepsEveryCpusWriteBacksToTheOtherExact()
    {
        using var space = new PhysicalAddressSpace();
        var r0 = new NvdimmRegion("region0", new NativeMedia(1 << 20), CostProfiles.OptaneAdr);
        var r1 = new NvdimmRegion("region1", new NativeMedia(1 << 20), CostProfiles.OptaneAdr);
        space.AddRegion(r0);
        space.AddRegion(r1);
        const int Cpus = 3, Lines = 40;
        var cpus = Enumerable.Range(0, Cpus).Select(_ => space.CreateCpu()).ToArray();
        var value = Enumerable.Repeat((byte)9, 64).ToArray();
        RunAll(cpus.Select((cpu, c) => (Action)(() =>
        {
            for (int l = 0; l < Lines; l++)
            {
                foreach (var r in new[] { r0, r1 })
                {
                    long pa = r.BaseAddress + (c * Lines + l) * 64L;
                    if (l % 2 == 0)
                    {
                        cpu.Store(pa, value);
                        cpu.Clwb(pa);
                    }
                    else
                        cpu.NtStore(pa, value);
                }
            }
        })));
        Assert.That(cpus.Select(c => c.CostState.OutstandingWriteBacks), Is.All.EqualTo(2 * Lines));

        r0.Crash(CrashPolicy.Strict);
        Assert.Multiple(() =>
        {
            Assert.That(r0.InFlightLineCount, Is.Zero);
            Assert.That(r1.InFlightLineCount, Is.EqualTo(Cpus * Lines));
            Assert.That(cpus.Select(c => c.CostState.OutstandingWriteBacks), Is.All.EqualTo(Lines));
        });
        RunAll(cpus.Select(cpu => (Action)cpu.Sfence));
        var persisted = new byte[Cpus * Lines * 64];
        r1.ReadPersisted(0, persisted);
        var lost = new byte[Cpus * Lines * 64];
        r0.ReadPersisted(0, lost);
        Assert.Multiple(() =>
        {
            Assert.That(r1.InFlightLineCount, Is.Zero);
            Assert.That(persisted, Is.All.EqualTo((byte)9));
            Assert.That(lost, Is.All.Zero);
            Assert.That(cpus.Select(c => c.CostState.OutstandingWriteBacks), Is.All.Zero);
        });
    }

    // A CPU that has had the region to itself (the lock biased to it) is in a hot loop of mixed
    // instructions when a second CPU joins (revoking the bias) and an inspector enumerates the
    // crash states: each CPU leaves at most one line unfenced at a time, every enumeration sees
    // that, and at the end every line holds its last value, persisted.
    [Test]
    [CancelAfter(120_000)]
    public void RevocationDuringTheOwnersHotLoopWithCrashEnumerationKeepsEveryLineExact()
    {
        using var d = new DeviceFixture();
        const int Rounds = 60_000, Lines = 256;
        var owner = d.Cpu;
        var second = d.Space.CreateCpu();
        int ownerRounds = 0;
        bool stop = false;
        long bad = 0, enumerations = 0;
        static void Step(DeviceFixture d, Cpu cpu, long baseOffset, int r, byte[] line)
        {
            long pa = d.Pa(baseOffset + r % Lines * 64L);
            Array.Fill(line, (byte)(r % 251 + 1));
            switch (r % 4)
            {
                case 0: cpu.Store(pa, line); cpu.Clwb(pa); cpu.Sfence(); break;
                case 1: cpu.NtStore(pa, line); cpu.Mfence(); break;
                case 2: cpu.Store(pa, line); cpu.Clflush(pa); break;
                default: cpu.Persist(pa, line); break;
            }
        }
        RunAll(new Action[]
        {
            () =>
            {
                var line = new byte[64];
                for (int r = 0; r < Rounds; r++)
                {
                    Step(d, owner, 0, r, line);
                    Volatile.Write(ref ownerRounds, r + 1);
                }
            },
            () =>
            {
                // Joins once the owner is well into its loop.
                var line = new byte[64];
                var spin = new SpinWait();
                while (Volatile.Read(ref ownerRounds) < Rounds / 4)
                    spin.SpinOnce();
                for (int r = 0; r < Rounds; r++)
                    Step(d, second, 64 * 1024, r, line);
                Volatile.Write(ref stop, true);
            },
            () =>
            {
                while (!Volatile.Read(ref stop))
                {
                    var space = new CrashStateSpace(d.Space.InFlightLines());
                    if (space.Lines.Count > 2 || space.CountPowerset() > 4)
                        Interlocked.Increment(ref bad);
                    enumerations++;
                }
            },
        });
        TestContext.Out.WriteLine($"{enumerations} enumerations");
        var wrong = new List<string>();
        foreach (long half in new[] { 0L, 64 * 1024L })
        {
            for (int l = 0; l < Lines; l++)
            {
                int last = (Rounds - 1 - l) / Lines * Lines + l;
                if (d.Persisted(half + l * 64L, 64).Any(b => b != (byte)(last % 251 + 1)))
                    wrong.Add($"line {l} of the half at {half}");
            }
        }
        Assert.Multiple(() =>
        {
            Assert.That(bad, Is.Zero);
            Assert.That(wrong, Is.Empty);
            Assert.That(d.Region.InFlightLineCount, Is.Zero);
            Assert.That(new[] { owner, second }.Select(c => c.CostState.OutstandingWriteBacks), Is.All.Zero);
        });
    }

    // Native memory whose Flush, once armed, tells the test it runs and waits for the test's go;
    // it records a release of the media while such a flush runs, and a flush after the release.
    private sealed unsafe class HeldFlushMedia(long length) : IMedia
    {
        private readonly NativeMedia _inner = new(length);
        private volatile bool _held;
        private volatile bool _disposed;

        public volatile bool Hold;
        public readonly ManualResetEventSlim Flushing = new();
        public readonly ManualResetEventSlim Release = new();
        public readonly ManualResetEventSlim Disposed = new();
        public volatile bool DisposedDuringFlush;
        public volatile bool FlushedAfterDispose;

        public long Length => _inner.Length;

        public byte* Pointer => _inner.Pointer;

        public bool IsPersistentStore => false;

        public void Flush()
        {
            if (_disposed)
                FlushedAfterDispose = true;
            if (!Hold)
                return;
            Hold = false;
            _held = true;
            Flushing.Set();
            Release.Wait(TimeSpan.FromSeconds(30));
            _held = false;
        }

        public void Dispose()
        {
            if (_held)
                DisposedDuringFlush = true;
            _disposed = true;
            _inner.Dispose();
            Disposed.Set();
        }
    }
}
