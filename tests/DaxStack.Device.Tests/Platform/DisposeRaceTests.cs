using DaxStack.Device.Cost;
using DaxStack.Device.Platform;
using DaxStack.Tests.Shared;

namespace DaxStack.Device.Tests.Platform;

/// <summary>
/// Disposing a region while other threads execute instructions on it: the dispose waits for an
/// instruction in progress, and every instruction either completes on live media or throws
/// <see cref="ObjectDisposedException"/> without touching it (a touch of the released media would
/// crash the test process). Every wait is bounded, so a regression fails instead of hanging.
/// </summary>
public class DisposeRaceTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Test]
    [CancelAfter(60_000)]
    public void ADisposeWaitsForAnInstructionInProgressWhoseMediaStaysValidUntilItEnds()
    {
        using var d = new DeviceFixture();
        d.Cpu.Store(d.Pa(0), DeviceFixture.Fill(4096, 0x5a));
        var inSink = new ManualResetEventSlim();
        var release = new ManualResetEventSlim();
        var sink = new BlockingSink(inSink, release);
        int loaded = 0;
        var load = new Thread(() => loaded = d.Cpu.LoadTo(d.Pa(0), 4096, sink)) { IsBackground = true };
        load.Start();
        Assert.That(inSink.Wait(Bound), Is.True, "the load did not reach its sink");

        var dispose = new Thread(d.Region.Dispose) { IsBackground = true };
        dispose.Start();
        bool returnedEarly = dispose.Join(TimeSpan.FromMilliseconds(300));
        release.Set();
        Assert.Multiple(() =>
        {
            Assert.That(returnedEarly, Is.False, "the dispose returned (and released the media) while a load was reading it");
            Assert.That(load.Join(Bound), Is.True, "the load is stuck");
            Assert.That(dispose.Join(Bound), Is.True, "the dispose is stuck");
        });
        Assert.Multiple(() =>
        {
            Assert.That(loaded, Is.EqualTo(4096));
            Assert.That(sink.Taken, Is.All.EqualTo(0x5a), "the sink read the media as it was, not released memory");
            Assert.Throws<ObjectDisposedException>(() => d.Cpu.Load(d.Pa(0), new byte[8]));
        });
    }

    // Before the region's lock was closed by the dispose, three workers crashed the test process
    // (an instruction that had passed the region check entered after the dispose and stored into
    // the freed media) in about one run of 400 rounds out of three.
    [Test]
    [CancelAfter(240_000)]
    public void InstructionsRacingADisposeEitherCompleteOrThrowObjectDisposed([Values(1, 3)] int workers)
    {
        const int Rounds = 300;
        for (int round = 0; round < Rounds; round++)
        {
            var d = new DeviceFixture(CostProfiles.OptaneAdr);
            long executed = 0;
            var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
            var threads = new Thread[workers];
            for (int w = 0; w < workers; w++)
            {
                // The first worker runs on the CPU that took the lock's bias (the owner's path);
                // the others on CPUs of their own, which revoke it.
                var cpu = w == 0 ? d.Cpu : d.Space.CreateCpu();
                int seed = round * 31 + w;
                threads[w] = new Thread(() => Work(d, cpu, seed, ref executed, failures)) { IsBackground = true };
            }
            foreach (var t in threads)
                t.Start();
            // Let the workers get going, so that the dispose lands among their instructions.
            var deadline = DateTime.UtcNow + Bound;
            while (Interlocked.Read(ref executed) < 1000 + round * 100 && DateTime.UtcNow < deadline)
                Thread.Yield();

            var dispose = new Thread(d.Space.Dispose) { IsBackground = true };
            dispose.Start();
            Assert.That(dispose.Join(Bound), Is.True, $"round {round}: the dispose is stuck");
            foreach (var t in threads)
                Assert.That(t.Join(Bound), Is.True, $"round {round}: a worker is stuck");
            Assert.That(failures, Is.Empty, $"round {round}");
        }
    }

    // Executes every kind of instruction on the region until one throws ObjectDisposedException;
    // then checks that later ones throw it too (and that a fence, which completes nothing of a
    // disposed region, still works). Anything else is a failure.
    private static void Work(DeviceFixture d, Cpu cpu, int seed, ref long executed, System.Collections.Concurrent.ConcurrentQueue<string> failures)
    {
        var random = new Random(seed);
        var data = new byte[256];
        var buffer = new byte[256];
        random.NextBytes(data);
        var stop = DateTime.UtcNow + Bound;
        try
        {
            int after = -1;     // instructions executed since the first ObjectDisposedException
            for (long i = 0; after < 16 && DateTime.UtcNow < stop; i++)
            {
                long pa = d.Pa(random.Next(0, (1 << 20) / 64 - 4) * 64L);
                try
                {
                    Execute(cpu, (int)(i % 9), pa, data, buffer);
                    if (after >= 0)
                        failures.Enqueue($"instruction {i % 9} completed on the region after an instruction found it disposed");
                    Interlocked.Increment(ref executed);
                }
                catch (ObjectDisposedException)
                {
                    after++;
                    cpu.Sfence();
                }
            }
            if (after < 0)
                failures.Enqueue("the worker never saw the dispose");
        }
        catch (Exception e)
        {
            failures.Enqueue(e.ToString());
        }
    }

    private static void Execute(Cpu cpu, int kind, long pa, byte[] data, byte[] buffer)
    {
        switch (kind)
        {
            case 0:
                cpu.Store(pa, data.AsSpan(0, 64));
                cpu.Clwb(pa);
                cpu.Sfence();
                break;
            case 1: cpu.Load(pa, buffer); break;
            case 2: cpu.NtStore(pa, data); break;
            case 3: cpu.LoadTo(pa, 128, new BufferLoadSink()); break;
            case 4: cpu.NtStoreFrom(pa, 128, new BufferStoreSource(data)); break;
            case 5: cpu.Persist(pa, data.AsSpan(0, 100)); break;
            case 6: cpu.Flush(FlushKind.Clflushopt, pa, 256); break;
            case 7: cpu.Store(pa + 8, data.AsSpan(0, 8)); cpu.Clflush(pa); break;
            default: cpu.Mfence(); cpu.LoadUInt64(pa); break;
        }
    }

    // A load sink that holds the region's lock until released, then takes everything.
    private sealed class BlockingSink(ManualResetEventSlim entered, ManualResetEventSlim release) : ILoadSink
    {
        public byte[] Taken { get; private set; } = [];

        public int CopyFrom(ReadOnlySpan<byte> source)
        {
            entered.Set();
            release.Wait(Bound);
            Taken = source.ToArray();
            return source.Length;
        }
    }
}
