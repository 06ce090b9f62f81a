using DaxStack.Device.Crash;
using DaxStack.Fs.Tests.Interop;
using DaxStack.Fs.Tests.Xfs.Alloc;
using DaxStack.Fs.Xfs;
using DaxStack.Fs.Xfs.Cil;
using DaxStack.Fs.Xfs.Log;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Tests.Xfs.Cil;

/// <summary>Delayed logging: commits stay in memory, forces make them durable, checkpoints write them home, recovery replays them.</summary>
public class XfsCilTests
{
    private static (uint Count, uint Free) Agi0(FsTestDevice dev)
    {
        var agi = XfsSpaceAudit.Run(dev.Device)[0].Agi;
        return (agi.Count, agi.FreeCount);
    }

    [Test]
    public void ACommitWritesNothingToTheMedia()
    {
        using var fs = CilTestFs.Create();
        long writes = fs.Mount.Buffers.DeviceWrites;
        var before = Agi0(fs.Device);
        for (int i = 0; i < 10; i++)
            fs.AllocateInode(fs.Mount.Superblock.RootIno);
        Assert.Multiple(() =>
        {
            Assert.That(fs.Mount.Buffers.DeviceWrites, Is.EqualTo(writes), "no buffer went home");
            Assert.That(fs.Cil.Forces, Is.Zero, "the log was not forced");
            Assert.That(fs.Cil.CommittedSequence, Is.EqualTo(10));
            Assert.That(fs.Cil.ForcedSequence, Is.Zero);
            Assert.That(Agi0(fs.Device), Is.EqualTo(before), "the media still holds the old AGI");
        });
    }

    [Test]
    public void AnUnforcedCommitIsGoneAfterAStrictCrash()
    {
        using var fs = CilTestFs.Create();
        ulong ino = fs.AllocateInode(fs.Mount.Superblock.RootIno);
        fs.CrashAndRecover(CrashPolicy.Strict);
        Assert.Multiple(() =>
        {
            Assert.That(fs.IsAllocated(ino), Is.False);
            Assert.That(fs.Replayed, Is.Zero);
            Assert.That((fs.Mount.Superblock.ICount, fs.Mount.Superblock.IFree), Is.EqualTo((64UL, 61UL)));
        });
        XfsSpaceAudit.Run(fs.Device.Device);
    }

    [Test]
    public void AForcedCommitSurvivesAStrictCrashThoughNeverWrittenHome()
    {
        using var fs = CilTestFs.Create();
        var before = Agi0(fs.Device);
        ulong ino = fs.AllocateInode(fs.Mount.Superblock.RootIno);
        fs.Cil.Force(fs.Cil.LastCommitSequence);
        Assert.That(Agi0(fs.Device), Is.EqualTo(before), "the AGI is not home yet: only the log has it");
        fs.CrashAndRecover(CrashPolicy.Strict);
        Assert.Multiple(() =>
        {
            Assert.That(fs.Replayed, Is.EqualTo(1));
            Assert.That(fs.IsAllocated(ino), Is.True);
            Assert.That(Agi0(fs.Device), Is.EqualTo((before.Count, before.Free - 1)));
        });
        XfsSpaceAudit.Run(fs.Device.Device);
    }

    [Test]
    public void ACrashBetweenForceAndCheckpointKeepsTheForcedAndDropsTheRest()
    {
        using var fs = CilTestFs.Create();
        ulong root = fs.Mount.Superblock.RootIno;
        ulong a = fs.AllocateInode(root);
        fs.Cil.ForceAll();
        // b changes the same AGI and inobt block as a, but is not forced: the checkpoint writes
        // those buffers as a left them.
        ulong b = fs.AllocateInode(root);
        fs.Cil.WriteHome();
        Assert.That(fs.Cil.PinnedBuffers, Is.Positive, "b's buffers stay pinned");
        Assert.That(Agi0(fs.Device).Free, Is.EqualTo(60u), "a is home, b is not");
        fs.CrashAndRecover(CrashPolicy.Strict);
        Assert.Multiple(() =>
        {
            Assert.That(fs.IsAllocated(a), Is.True);
            Assert.That(fs.IsAllocated(b), Is.False);
        });
        XfsSpaceAudit.Run(fs.Device.Device);
    }

    [Test]
    public void TheCilForcesItselfWhenOverBudgetButNotOncePerTransaction()
    {
        using var fs = CilTestFs.Create(budget: 16 * 1024);
        ulong root = fs.Mount.Superblock.RootIno;
        var inodes = new List<ulong>();
        for (int i = 0; i < 300; i++)
            inodes.Add(fs.AllocateInode(root));
        long forced = fs.Cil.ForcedSequence;
        Assert.Multiple(() =>
        {
            Assert.That(fs.Cil.Forces, Is.InRange(1, 299), "forced by the budget, in batches");
            Assert.That(forced, Is.InRange(1L, 299L));
            Assert.That(fs.Cil.PendingBytes, Is.LessThanOrEqualTo(fs.Budget));
        });
        fs.CrashAndRecover(CrashPolicy.Strict);
        for (int i = 0; i < inodes.Count; i++)
            Assert.That(fs.IsAllocated(inodes[i]), Is.EqualTo(i < forced), $"inode {i} (forced up to {forced})");
        XfsSpaceAudit.Run(fs.Device.Device);
    }

    [Test]
    public void ALogThatFillsIsCheckpointedAndTheTailMoves()
    {
        using var fs = CilTestFs.Create(budget: 8 * 1024);
        ulong root = fs.Mount.Superblock.RootIno;
        var live = new List<ulong>();
        // Until the log has filled and wrapped, then on for a while.
        int after = 3000;
        for (int i = 0; after > 0; i++)
        {
            Assert.That(i, Is.LessThan(100000), "the log never filled");
            if (fs.Cil.LogFullCheckpoints > 0)
                after--;
            if (live.Count > 100 && i % 2 == 0)
            {
                fs.FreeInode(live[^1]);
                live.RemoveAt(live.Count - 1);
            }
            else
            {
                live.Add(fs.AllocateInode(root));
            }
        }
        fs.Cil.ForceAll();
        Assert.That(XlogReader.Read(fs.Device.Device, fs.LogLocation).HeadCycle, Is.GreaterThanOrEqualTo(2u), "the log wrapped");
        fs.CrashAndRecover(CrashPolicy.Strict);
        Assert.That(live.All(fs.IsAllocated), Is.True);
        Assert.That((long)fs.Mount.Superblock.ICount - (long)fs.Mount.Superblock.IFree, Is.EqualTo(live.Count + 3));
        XfsSpaceAudit.Run(fs.Device.Device);
    }

    [Test]
    public void AfterRecoveryAndACleanCheckpointXfsRepairAcceptsTheImage()
    {
        string dir = Directory.CreateTempSubdirectory("daxstack-cil-").FullName;
        try
        {
            string image = FsTestDevice.SparseImage(dir, "fs.img", 64L << 20);
            using (var fs = CilTestFs.CreateOnImage(image))
            {
                ulong root = fs.Mount.Superblock.RootIno;
                // Forced: a new chunk allocated and freed again (inodes in use with mode 0
                // would rightly upset xfs_repair); unforced: more allocations, lost at the crash.
                var inodes = Enumerable.Range(0, 70).Select(_ => fs.AllocateInode(root)).ToList();
                foreach (ulong ino in inodes)
                    fs.FreeInode(ino);
                fs.Cil.ForceAll();
                fs.AllocateInode(root);
                fs.CrashAndRecover(CrashPolicy.Strict);
                Assert.That(fs.Replayed, Is.Positive);
                XfsSpaceAudit.Run(fs.Device.Device);
            }
            XfsProgs.AssertRepairPasses(image, "after log recovery");
            using (var fs = CilTestFs.Open(image))
            {
                Assert.That(fs.Replayed, Is.Zero, "recovery left a clean log");
                ulong root = fs.Mount.Superblock.RootIno;
                foreach (ulong ino in Enumerable.Range(0, 70).Select(_ => fs.AllocateInode(root)).ToList())
                    fs.FreeInode(ino);
                fs.Cil.Unmount();
                Assert.That(fs.Cil.PinnedBuffers, Is.Zero);
            }
            XfsProgs.AssertRepairPasses(image, "after a clean unmount");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
