using DaxStack.Device.Crash;
using DaxStack.Fs.Tests.Xfs.Alloc;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Tests.Xfs.Cil;

/// <summary>Power failures at any point of inode workloads and of recovery itself: forced transactions survive, none comes back partial.</summary>
public class XfsCilCrashTests
{
    private sealed record Workload(List<HashSet<ulong>> States, List<ulong> Known, long Forced, bool Cut);

    // Inode allocations and frees (each one transaction, so sequence k is the state after step k),
    // with forces and checkpoints at random points, through a device that loses power after
    // a random number of writes (when it does, the step that saw the error may or may not be in the log).
    private static Workload Run(CilTestFs fs, Random rng, int steps, int cutAfter)
    {
        var cut = new PowerCutDevice(fs.Device.Device, cutAfter);
        fs.Recover(cut);
        ulong root = fs.Mount.Superblock.RootIno;
        var live = new HashSet<ulong>();
        var states = new List<HashSet<ulong>> { new(live) };
        var known = new List<ulong>();
        try
        {
            for (int step = 1; step <= steps; step++)
            {
                if (live.Count > 0 && rng.Next(3) == 0)
                {
                    ulong victim = live.ElementAt(rng.Next(live.Count));
                    // Recorded first: if the step fails, its transaction may still have reached the log.
                    live.Remove(victim);
                    states.Add(new(live));
                    fs.FreeInode(victim);
                }
                else
                {
                    states.Add(new(live));
                    ulong ino = fs.AllocateInode(root);
                    live.Add(ino);
                    states[^1] = new(live);
                    known.Add(ino);
                }
                int action = rng.Next(10);
                if (action == 0)
                    fs.Cil.ForceAll();
                else if (action == 1)
                    fs.Cil.Force(fs.Cil.LastCommitSequence - rng.Next(3));
                else if (action == 2)
                    fs.Cil.WriteHome();
            }
        }
        catch (XfsException) when (cut.Cut)
        {
        }
        return new Workload(states, known, fs.Cil.ForcedSequence, cut.Cut);
    }

    private static void Check(CilTestFs fs, Workload w, string what)
    {
        XfsSpaceAudit.Run(fs.Device.Device);
        var recovered = w.Known.Where(fs.IsAllocated).ToHashSet();
        int match = -1;
        for (int k = w.States.Count - 1; k >= 0 && match < 0; k--)
        {
            if (w.States[k].SetEquals(recovered))
                match = k;
        }
        Assert.That(match, Is.GreaterThanOrEqualTo(0), $"{what}: the recovered inodes are the state after no prefix of the transactions");
        Assert.That(match, Is.GreaterThanOrEqualTo(w.Forced), $"{what}: a forced transaction is missing");
        var sb = fs.Mount.Superblock;
        Assert.That((long)sb.ICount - (long)sb.IFree, Is.EqualTo(recovered.Count + 3), $"{what}: inodes in use (root directory and realtime inodes too)");
    }

    [Test]
    public void ARandomCrashAnywhereInAWorkloadRecoversAForcedPrefix([Range(0, 59)] int seed)
    {
        var rng = new Random(seed);
        using var fs = CilTestFs.Create(budget: rng.Next(2, 64) * 1024);
        var w = Run(fs, rng, 150, rng.Next(1, 300));
        fs.CrashAndRecover(CrashPolicy.Random(seed));
        Check(fs, w, $"seed {seed}{(w.Cut ? " (power cut)" : "")}");
    }

    [Test]
    public void ACrashDuringRecoveryRecoversAgainToTheSameState([Range(0, 19)] int seed)
    {
        var rng = new Random(100 + seed);
        using var fs = CilTestFs.Create(budget: 1 << 20);
        var w = Run(fs, rng, 120, int.MaxValue);
        fs.Cil.ForceAll();
        var sb = fs.Mount.Superblock;
        var expected = (sb.ICount, sb.IFree, sb.FdBlocks);
        fs.Device.Bus.Space.Crash(CrashPolicy.Strict);
        // Recovery itself loses power, a few times, at random points.
        for (int attempt = 0; attempt < 3; attempt++)
        {
            var cut = new PowerCutDevice(fs.Device.Device, rng.Next(0, 40));
            try
            {
                fs.Recover(cut);
            }
            catch (XfsException) when (cut.Cut)
            {
            }
            fs.Device.Bus.Space.Crash(CrashPolicy.Random(seed * 7 + attempt));
        }
        fs.Recover();
        Check(fs, w with { Forced = w.States.Count - 1 }, $"seed {seed}");
        sb = fs.Mount.Superblock;
        Assert.That((sb.ICount, sb.IFree, sb.FdBlocks), Is.EqualTo(expected));
    }
}
