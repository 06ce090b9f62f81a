using System.Buffers.Binary;
using System.Collections.Concurrent;
using DaxStack.Device.Crash;
using DaxStack.Device.Platform;
using DaxStack.Driver.Block;
using DaxStack.Driver.Dax;

namespace DaxStack.Driver.Tests.Block;

/// <summary>
/// Bios from many threads over fewer submission queues, on ranges of their own and on ranges
/// they share, with flush, FUA, preflush, discard and write-zeroes interleaved, and DAX windows
/// storing at the same time; then a power failure. What a flush or FUA made durable survives;
/// a line holds one whole write (or zeroes), never a mix. Bounded in time.
/// </summary>
public class PmemConcurrencyTests
{
    private const int Block = 4096;
    private const int PrivateBlocks = 8;
    private const int SharedBlocks = 8;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    // Runs each action on a thread of its own and waits for all of them, each within Bound (a
    // thread stuck past it fails the test); what an action throws goes to 'errors'.
    private static void RunOnThreads(IEnumerable<Action> work, ConcurrentQueue<string> errors)
    {
        var threads = work.Select(a => new Thread(() =>
        {
            try { a(); }
            catch (Exception e) { errors.Enqueue(e.ToString()); }
        }) { IsBackground = true }).ToList();
        foreach (var th in threads)
            th.Start();
        foreach (var th in threads)
            Assert.That(th.Join(Bound), Is.True, "a thread is stuck (deadlock?)");
    }

    private static byte[] Fill(uint value)
    {
        var b = new byte[Block];
        for (int i = 0; i < Block; i += 4)
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(i), value);
        return b;
    }

    private static uint Value(int writer, int round) => (uint)((writer + 1) << 20 | (round + 1));

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(4)]
    [CancelAfter(120_000)]
    public void WhatFlushAndFuaMadeDurableSurvivesConcurrentBiosAndDaxStores(int queues)
    {
        using var t = TestDevice.InMemory(size: 4 << 20, queues: queues);
        const int Writers = 4, Rounds = 600;
        long Private(int w, int b) => ((long)w * PrivateBlocks + b) * Block;
        long Shared(int b) => (Writers * PrivateBlocks + b) * (long)Block;
        long daxBase = (Writers * PrivateBlocks + SharedBlocks) * (long)Block;
        const int DaxPages = 16;
        // Per private block: every value written to it in order (0 for zeroes), and the index of
        // the first that may still be lost (everything before it was made durable or overwritten).
        var history = new List<uint>[Writers * PrivateBlocks];
        var durableFrom = new int[Writers * PrivateBlocks];
        for (int i = 0; i < history.Length; i++)
            history[i] = [0];
        var errors = new ConcurrentQueue<string>();

        var work = new List<Action>();
        for (int w = 0; w < Writers; w++)
        {
            int me = w;
            work.Add(() =>
            {
                var rng = new Random(me);
                for (int r = 0; r < Rounds; r++)
                {
                    int b = rng.Next(PrivateBlocks), slot = me * PrivateBlocks + b;
                    uint v = Value(me, r);
                    BlkStatus s;
                    switch (r % 6)
                    {
                        case 0:
                            s = t.Device.Write(Private(me, b), Fill(v), BioFlags.Fua);
                            history[slot].Add(v);
                            durableFrom[slot] = history[slot].Count - 1;
                            break;
                        case 1:
                            s = t.Device.Write(Private(me, b), Fill(v));
                            history[slot].Add(v);
                            if (s == BlkStatus.Ok)
                                s = t.Device.Flush();
                            durableFrom[slot] = history[slot].Count - 1;
                            break;
                        case 2:
                            // A preflush covers the writes completed before it, not its own data.
                            s = t.Device.Write(Private(me, b), Fill(v), BioFlags.PreFlush);
                            for (int k = 0; k < PrivateBlocks; k++)
                                durableFrom[me * PrivateBlocks + k] = history[me * PrivateBlocks + k].Count - 1;
                            history[slot].Add(v);
                            break;
                        case 3:
                            s = (r & 8) == 0 ? t.Device.Discard(Private(me, b), Block) : t.Device.WriteZeroes(Private(me, b), Block);
                            history[slot].Add(0);
                            break;
                        default:
                            s = t.Device.Write(Private(me, b), Fill(v));
                            history[slot].Add(v);
                            break;
                    }
                    if (s != BlkStatus.Ok)
                        errors.Enqueue($"writer {me} round {r}: {s}");
                    // A shared block: every writer, any op, no durability promised, only whole lines.
                    int sb = rng.Next(SharedBlocks);
                    s = (r % 4) switch
                    {
                        0 => t.Device.WriteZeroes(Shared(sb), Block),
                        1 => t.Device.Write(Shared(sb), Fill(v), BioFlags.Fua),
                        _ => t.Device.Write(Shared(sb), Fill(v)),
                    };
                    if (s != BlkStatus.Ok)
                        errors.Enqueue($"writer {me} round {r} shared: {s}");
                }
            });
        }
        // DAX: stores through a window on the caller's own CPU; each page persisted with
        // clwb + sfence, and the last round's stores left unfenced on half the pages.
        var daxValues = new uint[DaxPages];
        work.Add(() =>
        {
            if (t.Device.DirectAccess(daxBase / Block, DaxPages, DaxAccessMode.Access, out var extent) != 0)
            {
                errors.Enqueue("DirectAccess failed");
                return;
            }
            var window = extent.Window;
            for (int r = 0; r < Rounds; r++)
            {
                int p = r % DaxPages;
                uint v = Value(Writers, r);
                window.Store(p * (long)Block, Fill(v));
                window.WriteBack(p * (long)Block, Block);
                window.Sfence();
                daxValues[p] = v;
            }
            for (int p = 0; p < DaxPages; p += 2)
                window.Store(p * (long)Block, Fill(0xDEAD));
        });

        RunOnThreads(work, errors);
        Assert.That(errors, Is.Empty);

        t.Bus.Space.Crash(CrashPolicy.Strict);

        var wrong = new List<string>();
        for (int slot = 0; slot < history.Length; slot++)
        {
            var allowed = history[slot].Skip(durableFrom[slot]).ToHashSet();
            var p = t.Persisted(slot * (long)Block, Block);
            for (int l = 0; l < Block; l += 64)
            {
                var line = p.AsSpan(l, 64);
                uint v = BinaryPrimitives.ReadUInt32LittleEndian(line);
                if (!line.SequenceEqual(Fill(v).AsSpan(0, 64)) || !allowed.Contains(v))
                    wrong.Add($"private block {slot} line {l / 64}: {v:x} not one of the writes from the last durable one on");
            }
        }
        for (int b = 0; b < SharedBlocks; b++)
        {
            var p = t.Persisted(Shared(b), Block);
            for (int l = 0; l < Block; l += 64)
            {
                var line = p.AsSpan(l, 64);
                if (!line.SequenceEqual(Fill(BinaryPrimitives.ReadUInt32LittleEndian(line)).AsSpan(0, 64)))
                    wrong.Add($"shared block {b} line {l / 64} mixes writes");
            }
        }
        for (int p = 0; p < DaxPages; p++)
        {
            if (!t.Persisted(daxBase + p * (long)Block, Block).AsSpan().SequenceEqual(Fill(daxValues[p])))
                wrong.Add($"DAX page {p} lost its fenced value {daxValues[p]:x}");
        }
        var region = t.Region.Region;
        Assert.Multiple(() =>
        {
            Assert.That(wrong, Is.Empty);
            Assert.That(region.InFlightLineCount, Is.Zero);
            Assert.That(t.Device.QueueCpus.Select(c => c.CostState.OutstandingWriteBacks), Is.All.Zero);
        });
    }

    // Power failures while bios and DAX stores run: no bio fails, nothing throws or hangs, and a
    // flush once they are done leaves nothing in flight (a write-back issued after a failure is
    // one its queue's fence completes).
    [Test]
    [CancelAfter(120_000)]
    public void PowerFailuresDuringBiosAndDaxStoresLeaveNothingInFlightAfterAFlush()
    {
        using var t = TestDevice.InMemory(size: 4 << 20, queues: 2);
        const int Writers = 3, Rounds = 3000;
        var errors = new ConcurrentQueue<string>();
        int running = Writers + 1, crashes = 0;
        var work = new List<Action>();
        for (int w = 0; w < Writers; w++)
        {
            int me = w;
            work.Add(() =>
            {
                var data = Fill((uint)me + 1);
                for (int r = 0; r < Rounds; r++)
                {
                    long off = (me * 64 + r % 64) * (long)Block;
                    var s = (r % 5) switch
                    {
                        0 => t.Device.Write(off, data, BioFlags.Fua),
                        1 => t.Device.WriteZeroes(off, Block),
                        2 => t.Device.Flush(),
                        _ => t.Device.Write(off, data),
                    };
                    if (s != BlkStatus.Ok)
                        errors.Enqueue($"writer {me} round {r}: {s}");
                }
                Interlocked.Decrement(ref running);
            });
        }
        work.Add(() =>
        {
            if (t.Device.DirectAccess(Writers * 64, 64, DaxAccessMode.Access, out var extent) != 0)
                errors.Enqueue("DirectAccess failed");
            else
            {
                var data = Fill(0xDA);
                for (int r = 0; r < Rounds; r++)
                {
                    long off = r % 64 * (long)Block;
                    extent.Window.Store(off, data);
                    extent.Window.WriteBack(off, Block);
                    extent.Window.Sfence();
                }
            }
            Interlocked.Decrement(ref running);
        });
        work.Add(() =>
        {
            while (Volatile.Read(ref running) > 0)
            {
                t.Bus.Space.Crash(crashes % 3 == 0 ? CrashPolicy.Random(crashes) : CrashPolicy.Strict);
                crashes++;
            }
        });
        RunOnThreads(work, errors);
        TestContext.Out.WriteLine($"{crashes} power failures");
        Assert.That(errors, Is.Empty);
        Assert.That(t.Device.Flush(), Is.EqualTo(BlkStatus.Ok));
        Assert.That(t.Region.Region.InFlightLineCount, Is.Zero);
    }
}
