using DaxStack.Device.Crash;
using DaxStack.Driver.Block;
using DaxStack.Fs.Tests.Interop;
using DaxStack.Fs.Tests.Xfs.Alloc;
using DaxStack.Fs.Tests.Xfs.Cil;
using DaxStack.Fs.Xfs.Alloc;
using DaxStack.Fs.Xfs.Btree;
using DaxStack.Fs.Xfs.Ialloc;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Tests.Xfs.Mount;

/// <summary>
/// Power failures at every log write and flush of an alloc/free/ialloc/ifree workload with
/// forces at random points, under the Strict and Random crash policies, then
/// <see cref="XfsMount.Mount"/>: the recovered filesystem is exactly the state after some prefix
/// of the transactions that holds every forced one, no extent is half allocated, the space
/// accounting is exact, and xfs_repair -n accepts a sample of the recovered images.
/// </summary>
[NonParallelizable]
public class XfsMountCrashTests
{
    private sealed record State(HashSet<ulong> Inodes, HashSet<XfsAgExtent> Extents);

    private sealed record Outcome(List<State> States, List<long> Sequences, long Forced, HashSet<ulong> KnownInodes, HashSet<XfsAgExtent> KnownExtents, int Requests);

    /// <summary>Explored crash states, over every test of this fixture (reported at the end).</summary>
    private static int _explored;

    // Runs the workload through a device that loses power after `cut` writes and flushes.
    private static Outcome Run(MountedFs fs, int seed, int steps, int cut)
    {
        var rng = new Random(seed);
        var device = new PowerCutDevice(fs.Device.Device, cut);
        var counting = new CountingDevice(device);
        fs.Remount(counting);
        var mp = fs.Mount;
        var inodes = new HashSet<ulong>();
        var extents = new HashSet<XfsAgExtent>();
        var states = new List<State> { new([], []) };
        var seqs = new List<long> { 0 };
        var knownInodes = new HashSet<ulong>();
        var knownExtents = new HashSet<XfsAgExtent>();
        void Record(long seq)
        {
            states.Add(new([.. inodes], [.. extents]));
            seqs.Add(seq);
        }
        try
        {
            for (int step = 0; step < steps; step++)
            {
                int kind = rng.Next(4);
                if (kind == 0 || (kind == 1 && extents.Count == 0))
                {
                    using var tp = XfsTransaction.Begin(mp, 16);
                    var e = XfsAlloc.Allocate(tp, XfsAllocRequest.Near((uint)rng.Next(2), (uint)rng.Next(100, 7000), 1, (uint)rng.Next(1, 9)));
                    knownExtents.Add(e);
                    extents.Add(e);
                    Record(0);
                    tp.Commit();
                    seqs[^1] = tp.CommitSequence;
                }
                else if (kind == 1)
                {
                    var e = extents.ElementAt(rng.Next(extents.Count));
                    using var tp = XfsTransaction.Begin(mp);
                    XfsAlloc.Free(tp, e.AgNo, e.AgBno, e.Length);
                    extents.Remove(e);
                    Record(0);
                    tp.Commit();
                    seqs[^1] = tp.CommitSequence;
                }
                else if (kind == 2 || inodes.Count == 0)
                {
                    using var tp = XfsTransaction.Begin(mp, XfsIalloc.AllocateReservation(mp));
                    ulong ino = XfsIalloc.Allocate(tp, mp.Superblock.RootIno);
                    knownInodes.Add(ino);
                    inodes.Add(ino);
                    Record(0);
                    tp.Commit();
                    seqs[^1] = tp.CommitSequence;
                }
                else
                {
                    ulong ino = inodes.ElementAt(rng.Next(inodes.Count));
                    using var tp = XfsTransaction.Begin(mp, XfsIalloc.FreeReservation(mp));
                    XfsIalloc.Free(tp, ino);
                    inodes.Remove(ino);
                    Record(0);
                    tp.Commit();
                    seqs[^1] = tp.CommitSequence;
                }
                int action = rng.Next(8);
                if (action == 0)
                    mp.ForceLogAll();
                else if (action == 1)
                    mp.ForceLog(seqs[rng.Next(Math.Max(1, seqs.Count - 3), seqs.Count)]);
                else if (action == 2)
                    mp.PushLog();
            }
        }
        catch (XfsException) when (device.Cut)
        {
        }
        return new Outcome(states, seqs, mp.ForcedSequence, knownInodes, knownExtents, counting.Writes + counting.Flushes);
    }

    // Which of the workload's states the recovered filesystem is; fails on a half-applied transaction or a lost forced one.
    private static State Check(MountedFs fs, Outcome o, string what)
    {
        var inodes = o.KnownInodes.Where(fs.IsAllocated).ToHashSet();
        var freeSpace = FreeExtents(fs.Mount);
        bool IsFree(uint agno, uint bno) => freeSpace[(int)agno].Any(f => f.StartBlock <= bno && bno < (ulong)f.StartBlock + f.BlockCount);
        // Every block any extent of the workload ever covered, and whether it is free now.
        var blocks = o.KnownExtents.SelectMany(e => Enumerable.Range((int)e.AgBno, (int)e.Length).Select(b => (e.AgNo, (uint)b))).ToHashSet();
        var allocated = blocks.Where(b => !IsFree(b.AgNo, b.Item2)).ToHashSet();
        bool Matches(State s) => s.Inodes.SetEquals(inodes)
            && s.Extents.SelectMany(e => Enumerable.Range((int)e.AgBno, (int)e.Length).Select(b => (e.AgNo, (uint)b))).ToHashSet().SetEquals(allocated);
        int forcedStep = o.Sequences.FindLastIndex(s => s > 0 && s <= o.Forced);
        int match = o.States.FindLastIndex(Matches);
        if (match < 0)
        {
            var last = o.States[^1];
            Assert.Fail($"{what}: the recovered filesystem is the state after no prefix of the transactions (forced step {forcedStep} of {o.States.Count - 1}; "
                + $"inodes recovered {inodes.Count} vs last {last.Inodes.Count}: {string.Join(",", inodes.Except(last.Inodes))} / {string.Join(",", last.Inodes.Except(inodes))}; allocated blocks {allocated.Count})");
        }
        Assert.That(match, Is.GreaterThanOrEqualTo(forcedStep), $"{what}: forced transaction {forcedStep} is missing");
        var extents = o.States[match].Extents;
        var owned = new OwnedExtents();
        foreach (var e in extents)
            owned.Add(e);
        XfsSpaceAudit.Run(fs.Device.Device, owned.In);
        var sb = fs.Mount.Superblock;
        Assert.That((long)sb.ICount - (long)sb.IFree, Is.EqualTo(inodes.Count + 3), $"{what}: inodes in use");
        _explored++;
        return o.States[match];
    }

    // Per AG, the free extents the bnobt holds.
    private static List<List<XfsAllocRecord>> FreeExtents(XfsMount mp)
    {
        var result = new List<List<XfsAllocRecord>>();
        using var tp = XfsTransaction.Begin(mp);
        for (uint agno = 0; agno < mp.Geometry.AgCount; agno++)
        {
            var list = new List<XfsAllocRecord>();
            var cur = new XfsBtreeCursor<XfsAllocRecord>(tp, agno, XfsAllocBtreeOps.Bno);
            if (cur.LookupGe(new XfsAllocRecord(0, 0)))
            {
                do
                    list.Add(cur.GetRecord());
                while (cur.Increment());
            }
            result.Add(list);
        }
        return result;
    }

    [Test]
    public void ACrashAtEveryLogWriteAndFlushRecoversAForcedPrefix([Values(1, 2, 3)] int seed, [Values("strict", "random")] string policy)
    {
        const int steps = 30;
        int requests;
        using (var fs = MountedFs.Create())
            requests = Run(fs, seed, steps, int.MaxValue).Requests;
        Assert.That(requests, Is.GreaterThan(10), "the workload wrote to the log");
        for (int cut = 0; cut <= requests; cut++)
        {
            using var fs = MountedFs.Create();
            var o = Run(fs, seed, steps, cut);
            fs.Device.Bus.Space.Crash(policy == "strict" ? CrashPolicy.Strict : CrashPolicy.Random(seed * 1000 + cut));
            fs.Remount();
            Check(fs, o, $"seed {seed}, {policy}, cut after {cut} of {requests} requests");
        }
        TestContext.Out.WriteLine($"seed {seed} {policy}: {requests + 1} crash points; {_explored} crash states explored so far");
    }

    [Test]
    public void XfsRepairAcceptsImagesRecoveredFromCrashesAtSampledPoints([Values(4, 5)] int seed)
    {
        string dir = Directory.CreateTempSubdirectory("daxstack-crash-").FullName;
        try
        {
            var rng = new Random(seed);
            for (int sample = 0; sample < 3; sample++)
            {
                string image = FsTestDevice.SparseImage(dir, $"fs{sample}.img", 64L << 20);
                int cut = rng.Next(5, 120);
                using (var fs = MountedFs.CreateOnImage(image))
                {
                    var o = Run(fs, seed * 10 + sample, 40, cut);
                    fs.Device.Bus.Space.Crash(sample % 2 == 0 ? CrashPolicy.Strict : CrashPolicy.Random(cut));
                    fs.Remount();
                    var state = Check(fs, o, $"seed {seed} sample {sample} cut {cut}");
                    // Inodes in use with mode 0 and blocks owned by nothing are the test's, not
                    // the filesystem's: give them back before xfs_repair looks.
                    foreach (ulong ino in state.Inodes)
                    {
                        using var tp = XfsTransaction.Begin(fs.Mount, XfsIalloc.FreeReservation(fs.Mount));
                        XfsIalloc.Free(tp, ino);
                        tp.Commit();
                    }
                    foreach (var e in state.Extents)
                    {
                        using var tp = XfsTransaction.Begin(fs.Mount);
                        XfsAlloc.Free(tp, e.AgNo, e.AgBno, e.Length);
                        tp.Commit();
                    }
                    fs.Mount.Unmount();
                }
                XfsProgs.AssertRepairPasses(image, $"seed {seed} sample {sample} (cut {cut})");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
