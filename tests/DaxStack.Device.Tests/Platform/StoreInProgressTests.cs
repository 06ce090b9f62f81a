using DaxStack.Device.Crash;
using DaxStack.Device.Persistence;
using DaxStack.Device.Platform;
using DaxStack.Tests.Shared;

namespace DaxStack.Device.Tests.Platform;

/// <summary>
/// <see cref="Cpu.NtStoreFrom"/> runs its source (and saves the old content of the pages it
/// covers) outside the region's lock, one chunk at a time: stores of that kind into other pages,
/// by other CPUs, go on meanwhile; every other use of the region (loads, stores, flushes, fences,
/// a crash, inspection, another such store into the same pages) waits until the chunk has ended,
/// so none of them sees it half copied. These tests hold a source inside its copy and look at what
/// proceeds and what waits. Every wait is bounded: a regression fails instead of hanging.
/// </summary>
public class StoreInProgressTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    // How long an operation that must wait is given to (wrongly) finish. A correct run never
    // finishes it in that time whatever the machine's load, so this bound cannot make the test flaky.
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(150);

    [Test]
    public void AnotherCpusStoreIntoOtherPagesRunsWhileASourceCopies()
    {
        using var d = new DeviceFixture();
        using var held = HeldStore.Start(d, d.Cpu, 0, 16384, newByte: 0xa1);
        var other = d.Space.CreateCpu();

        int n = HangGuard.Run(() => other.NtStoreFrom(d.Pa(65536), 8192, new BufferStoreSource(DeviceFixture.Fill(8192, 0xb2))), Bound);

        Assert.That(n, Is.EqualTo(8192));
        Assert.That(held.Finished, Is.False, "the first store is still in its source");
        held.Release();
        other.Sfence();
        d.Cpu.Sfence();
        Assert.That(d.Persisted(65536, 8192), Is.All.EqualTo(0xb2));
        Assert.That(d.Persisted(0, 16384), Is.All.EqualTo(0xa1));
    }

    public enum Entry { Load, LoadTo, StoreElsewhere, NtStoreElsewhere, ClwbElsewhere, Sfence, NtStoreFromSameLines, Inspect, ReadPersisted, Crash }

    [Test]
    public void EveryOtherEntryWaitsUntilTheChunkInProgressEnds([Values] Entry entry)
    {
        using var d = new DeviceFixture();
        // Old content, persistent: the held store replaces it with 0xa1 and stays unfenced.
        d.Cpu.Persist(d.Pa(0), DeviceFixture.Fill(16384, 0x0a));
        var other = d.Space.CreateCpu();
        // So that the other CPU's fence has a write-back to complete on this region.
        other.NtStore(d.Pa(131072), DeviceFixture.Fill(64, 0x33));
        using var held = HeldStore.Start(d, d.Cpu, 0, 16384, newByte: 0xa1);

        byte[]? seen = null;
        Action op = entry switch
        {
            Entry.Load => () => seen = Load(other, d.Pa(0), 16384),
            Entry.LoadTo => () =>
            {
                var sink = new BufferLoadSink(16384);
                other.LoadTo(d.Pa(0), 16384, sink);
                seen = sink.Taken;
            },
            Entry.StoreElsewhere => () => other.Store(d.Pa(65536), DeviceFixture.Fill(64, 0x44)),
            Entry.NtStoreElsewhere => () => other.NtStore(d.Pa(65536), DeviceFixture.Fill(64, 0x44)),
            Entry.ClwbElsewhere => () => other.Clwb(d.Pa(131072)),
            Entry.Sfence => other.Sfence,
            // Lines the held store covers.
            Entry.NtStoreFromSameLines => () => other.NtStoreFrom(d.Pa(4096), 64, new BufferStoreSource(DeviceFixture.Fill(64, 0x55))),
            Entry.Inspect => () => seen = Content(d.Region.InFlightLines(), d.Region.BaseAddress, 16384),
            Entry.ReadPersisted => () =>
            {
                var b = new byte[16384];
                d.Region.ReadPersisted(0, b);
                seen = b;
            },
            Entry.Crash => () => d.Region.Crash(CrashPolicy.Strict),
            _ => throw new ArgumentOutOfRangeException(nameof(entry)),
        };
        var done = new ManualResetEventSlim();
        Exception? failure = null;
        var t = new Thread(() =>
        {
            try
            {
                op();
            }
            catch (Exception e)
            {
                failure = e;
            }
            done.Set();
        }) { IsBackground = true };
        t.Start();

        bool early = done.Wait(Settle);
        held.Release();
        Assert.That(t.Join(Bound), "the entry finishes once the chunk has ended");
        Assert.That(failure, Is.Null);
        Assert.That(early, Is.False, $"{entry} ran while the chunk was half copied");
        switch (entry)
        {
            case Entry.Load or Entry.LoadTo:
                Assert.That(seen, Is.All.EqualTo(0xa1), "the load saw the whole store");
                break;
            case Entry.Inspect:
                // The in-flight lines of the store, with their stores' content: all of it new.
                Assert.That(seen, Is.All.EqualTo(0xa1));
                break;
            case Entry.ReadPersisted:
                Assert.That(seen, Is.All.EqualTo(0x0a), "the store is not persistent (no fence yet)");
                break;
            case Entry.Crash:
                // The crash came after the store, which no fence made persistent: all of it reverts,
                // to old content saved before the source wrote a byte.
                Assert.That(d.Load(0, 16384), Is.All.EqualTo(0x0a));
                break;
        }
        if (entry != Entry.Crash)
        {
            d.Cpu.Sfence();
            Assert.That(d.Persisted(0, 16384), Is.All.EqualTo(0xa1));
        }
    }

    [Test]
    public void AChunkInProgressKeepsItsPagesWhileAnotherCpuStoresEnoughToEvict()
    {
        // More unfenced data than the model keeps in flight: the tracker writes pages back on its
        // own. The pages of a chunk whose source is still copying are not among them: their old
        // content is being saved (or has just been) into their slots, which must not change hands.
        long evictAfter = NvdimmRegion.MaxInFlightLines * 64;
        int big = (int)(evictAfter + (8 << 20));
        using var d = new DeviceFixture(size: big + (2 << 20));
        using var held = HeldStore.Start(d, d.Cpu, 0, 256 << 10, newByte: 0xa1);
        var other = d.Space.CreateCpu();

        int n = HangGuard.Run(() => other.NtStoreFrom(d.Pa(1 << 20), big, new BufferStoreSource(DeviceFixture.Fill(big, 0xb2))), Bound);

        Assert.That(n, Is.EqualTo(big));
        held.Release();
        // (Inspection waits for the held chunk: only now.)
        Assert.That(d.Region.EvictedLineCount, Is.GreaterThan(0), "the other store made the tracker evict");
        d.Region.Crash(CrashPolicy.Strict);
        Assert.That(d.Load(0, 256 << 10), Is.All.Zero, "the held chunk was never fenced: it reverts whole");
        // The other store's pages: written back by eviction (new) or reverted (old, zero): no
        // page holds the held chunk's content or anything else.
        var back = new byte[big];
        d.Cpu.Load(d.Pa(1 << 20), back);
        int bad = -1;
        for (int line = 0; line < big && bad < 0; line += 64)
        {
            byte first = back[line];
            if (first is not (0 or 0xb2) || back.AsSpan(line, 64).IndexOfAnyExcept(first) >= 0)
                bad = line;
        }
        Assert.That(bad, Is.EqualTo(-1), () => $"the line at 0x{(1 << 20) + bad:x} holds {Convert.ToHexString(back, bad, 64)}");
    }

    [Test]
    public void AnEntryWaitingForTheChunksIsNotKeptOutByAStreamOfThem()
    {
        using var d = new DeviceFixture(size: 4 << 20);
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 2).Select(i => new Thread(() =>
        {
            var cpu = d.Space.CreateCpu();
            var data = DeviceFixture.Fill(256 << 10, (byte)(0x10 + i));
            // Each writer's next chunk begins as soon as its last ended: together they keep
            // chunks in progress nearly all the time.
            while (!stop.IsCancellationRequested)
                cpu.NtStoreFrom(d.Pa((i + 1) << 20), data.Length, new BufferStoreSource(data));
        }) { IsBackground = true }).ToList();
        writers.ForEach(w => w.Start());
        try
        {
            var other = d.Space.CreateCpu();
            HangGuard.Run(() =>
            {
                for (int i = 0; i < 200; i++)
                {
                    other.Persist(d.Pa(0), DeviceFixture.Fill(64, (byte)i));
                    Load(other, d.Pa(0), 64);
                }
                return 0;
            }, Bound);
            Assert.That(d.Persisted(0, 64), Is.All.EqualTo(199));
        }
        finally
        {
            stop.Cancel();
            writers.ForEach(w => Assert.That(w.Join(Bound), "a writer is stuck"));
        }
    }

    [Test]
    public void ASourceThatThrowsWhileAnotherChunkIsInProgressLeavesBothStoredAndTheRegionUsable()
    {
        using var d = new DeviceFixture();
        using var held = HeldStore.Start(d, d.Cpu, 0, 8192, newByte: 0xa1);
        var other = d.Space.CreateCpu();
        var failing = new BufferStoreSource(DeviceFixture.Fill(100, 0xc3), throwWhenShort: true);

        HangGuard.Run(() => Assert.Throws<IOException>(() => other.NtStoreFrom(d.Pa(65536), 4096, failing)), Bound);

        held.Release();
        // The failed chunk counts as stored (its first 100 bytes new, the rest as it was) and is
        // in flight until its CPU's fence, like any failed source's; the other store is untouched.
        Assert.That(d.Region.InFlightLineCount, Is.EqualTo(8192 / 64 + 4096 / 64));
        other.Sfence();
        d.Cpu.Sfence();
        Assert.That(d.Region.InFlightLineCount, Is.Zero);
        Assert.That(d.Persisted(65536, 100), Is.All.EqualTo(0xc3));
        Assert.That(d.Persisted(65536 + 100, 4096 - 100), Is.All.Zero);
        Assert.That(d.Persisted(0, 8192), Is.All.EqualTo(0xa1));
    }

    [Test]
    [CancelAfter(240_000)]
    public void ChunksOfSeveralCpusOnFreshPagesAllRevertToTheirOldContentAtACrash()
    {
        // Each round starts from an empty tracker, whose tables grow while two CPUs store into
        // new pages at once: one CPU's old content may be being saved, outside the lock, while the
        // other's record makes the tables grow. Every page must still revert to its own old content.
        const int Rounds = 60, PerCpu = 2 << 20;
        for (int round = 0; round < Rounds; round++)
        {
            using var d = new DeviceFixture(size: 2 * PerCpu);
            var old = new byte[2 * PerCpu];
            for (int page = 0; page < old.Length / 4096; page++)
                old.AsSpan(page * 4096, 4096).Fill((byte)(page * 7 + 1));
            d.Cpu.Persist(d.Pa(0), old);
            using var go = new Barrier(2);
            var failures = new Exception?[2];
            var threads = Enumerable.Range(0, 2).Select(i => new Thread(() =>
            {
                try
                {
                    var cpu = d.Space.CreateCpu();
                    var data = DeviceFixture.Fill(PerCpu, 0xee);
                    go.SignalAndWait();
                    cpu.NtStoreFrom(d.Pa(i * PerCpu), PerCpu, new BufferStoreSource(data));
                }
                catch (Exception e)
                {
                    failures[i] = e;
                }
            }) { IsBackground = true }).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => Assert.That(t.Join(Bound), "a store is stuck"));
            Assert.That(failures, Is.All.Null);

            d.Region.Crash(CrashPolicy.Strict);

            var back = d.Load(0, old.Length);
            int bad = back.AsSpan().CommonPrefixLength(old);
            Assert.That(bad, Is.EqualTo(old.Length), () => $"round {round}: the byte at 0x{bad:x} is 0x{back[bad]:x2}, not its old 0x{old[bad]:x2}");
        }
    }

    private static byte[] Load(Cpu cpu, long pa, int length)
    {
        var b = new byte[length];
        cpu.Load(pa, b);
        return b;
    }

    // The newest content of the in-flight lines of [0, length), in address order.
    private static byte[] Content(IReadOnlyList<InFlightLine> lines, long baseAddress, int length)
    {
        var b = new byte[length];
        foreach (var l in lines.Where(l => l.PhysicalAddress - baseAddress < length))
            l.CurrentContent().CopyTo(b, (int)(l.PhysicalAddress - baseAddress));
        return b;
    }

    /// <summary>
    /// An NtStoreFrom on a thread of its own whose source, once called, writes half its chunk,
    /// then waits until <see cref="Release"/> to write the rest.
    /// </summary>
    private sealed class HeldStore : IDisposable
    {
        private readonly ManualResetEventSlim _inside = new();
        private readonly ManualResetEventSlim _release = new();
        private readonly Thread _thread;
        private Exception? _failure;

        private HeldStore(DeviceFixture d, Cpu cpu, long offset, int length, byte newByte)
        {
            var source = new Source(this, newByte);
            _thread = new Thread(() =>
            {
                try
                {
                    cpu.NtStoreFrom(d.Pa(offset), length, source);
                }
                catch (Exception e)
                {
                    _failure = e;
                }
                Finished = true;
            }) { IsBackground = true };
        }

        public bool Finished { get; private set; }

        public static HeldStore Start(DeviceFixture d, Cpu cpu, long offset, int length, byte newByte)
        {
            var h = new HeldStore(d, cpu, offset, length, newByte);
            h._thread.Start();
            Assert.That(h._inside.Wait(Bound), "the held store reached its source");
            return h;
        }

        public void Release()
        {
            _release.Set();
            Assert.That(_thread.Join(Bound), "the held store finished");
            Assert.That(_failure, Is.Null);
        }

        public void Dispose()
        {
            _release.Set();
            _thread.Join(Bound);
        }

        private sealed class Source(HeldStore h, byte value) : IStoreSource
        {
            private bool _held;

            public int CopyTo(Span<byte> destination)
            {
                int half = destination.Length / 2;
                destination[..half].Fill(value);
                if (!_held)
                {
                    _held = true;
                    h._inside.Set();
                    h._release.Wait(Bound);
                }
                destination[half..].Fill(value);
                return destination.Length;
            }
        }
    }
}
