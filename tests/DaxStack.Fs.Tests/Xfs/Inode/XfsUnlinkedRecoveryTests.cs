using DaxStack.Device.Crash;
using DaxStack.Fs.Tests.Interop;
using DaxStack.Fs.Tests.Xfs.Bmap;
using DaxStack.Fs.Tests.Xfs.Cil;
using DaxStack.Fs.Tests.Xfs.Mount;
using DaxStack.Fs.Xfs.Files;
using DaxStack.Fs.Xfs.Inode;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Repair;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Tests.Xfs.Inode;

/// <summary>
/// Files unlinked while open when the power fails: the mount after the crash finds them on the
/// AGI unlinked lists and frees them and all their blocks, also when the power fails in the
/// middle of their inactivation, and the result is clean for our checker and for xfs_repair.
/// </summary>
[NonParallelizable]
public class XfsUnlinkedRecoveryTests
{
    private static int _explored;

    // Files named f0.. in the root with data of different shapes; returns them with their names.
    private static List<(string Name, XfsInode Ip)> CreateFiles(XfsMount mp, int count, int seed)
    {
        var rng = new Random(seed);
        var files = new List<(string, XfsInode)>();
        for (int i = 0; i < count; i++)
        {
            string name = $"f{i}";
            var ip = RootLinks.CreateFile(mp, name);
            switch (rng.Next(3))
            {
                case 0:
                    XfsFileIo.Write(ip, rng.Next(0, 10_000), UnlinkOps.Pattern(rng.Next(1, 200_000), seed + i));
                    break;
                case 1:
                    BmapTestOps.Fragment(mp, ip, rng.Next(20, 120));
                    break;
                default:
                    XfsFileIo.Write(ip, 0, UnlinkOps.Pattern(rng.Next(1, 5000), seed + i));
                    XfsFileIo.Write(ip, 1L << 24, UnlinkOps.Pattern(rng.Next(1, 5000), seed - i));
                    break;
            }
            files.Add((name, ip));
        }
        return files;
    }

    private static void AssertAllFree(MountedFs fs, IEnumerable<ulong> inodes, (ulong, ulong, ulong) counters, string what)
    {
        var mp = fs.Mount;
        Assert.Multiple(() =>
        {
            Assert.That(UnlinkOps.ListAll(mp), Is.Empty, $"{what}: unlinked lists");
            foreach (ulong ino in inodes)
                Assert.That(UnlinkOps.IsAllocated(mp, ino), Is.False, $"{what}: inode {ino}");
            Assert.That(UnlinkOps.Counters(mp), Is.EqualTo(counters), $"{what}: free blocks, inodes, free inodes");
        });
        mp.Unmount();
        var report = XfsChecker.Check(fs.Device.Device);
        Assert.That(report.IsClean, Is.True, $"{what}:\n{string.Join("\n", report.Problems)}");
    }

    [Test]
    public void FilesUnlinkedWhileOpenAreFreedByTheMountAfterACrash()
    {
        string dir = Directory.CreateTempSubdirectory("daxstack-iunlink-").FullName;
        try
        {
            string image = FsTestDevice.SparseImage(dir, "fs.img", 64L << 20);
            using var fs = MountedFs.CreateOnImage(image);
            var kept = RootLinks.CreateFile(fs.Mount, "kept");
            XfsFileIo.Write(kept, 0, UnlinkOps.Pattern(9000, 5));
            var counters = UnlinkOps.Counters(fs.Mount);
            var files = CreateFiles(fs.Mount, 6, 11);
            foreach (var (name, ip) in files)
                UnlinkOps.Unlink(fs.Mount, name, ip);
            fs.Mount.ForceLogAll();
            Assert.That(UnlinkOps.ListAll(fs.Mount), Has.Count.EqualTo(files.Count));
            fs.CrashAndRemount(CrashPolicy.Strict);
            Assert.That(fs.Mount.RecoveredUnlinkedInodes, Is.EqualTo(files.Count));
            // The file that kept its name is untouched.
            var back = new byte[9000];
            using (var tp = XfsTransaction.Begin(fs.Mount))
                kept = XfsInodeCache.For(fs.Mount).GetInUse(tp, kept.Ino);
            Assert.That(XfsFileIo.Read(kept, 0, back), Is.EqualTo(9000L));
            Assert.That(back, Is.EqualTo(UnlinkOps.Pattern(9000, 5)));
            AssertAllFree(fs, files.Select(f => f.Ip.Ino), counters, "after the crash");
            XfsProgs.AssertRepairPasses(image, "after mount-time unlinked recovery");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
    private sealed record Prepared(MountedFs Fs, List<ulong> Inodes, (ulong, ulong, ulong) Counters);

    // A filesystem whose files were unlinked while open and left on the lists by a clean unmount
    // (as if the system had gone down before the last close).
    private static Prepared Prepare(int seed, string? image)
    {
        // A CIL budget so small that every transaction reaches the log in writes of its own, each a crash point.
        var options = new XfsMountOptions { GenerationSeed = 1, LogBudgetBytes = 1 };
        var fs = image == null ? MountedFs.Create(options: options) : MountedFs.CreateOnImage(image, options);
        var counters = UnlinkOps.Counters(fs.Mount);
        var files = CreateFiles(fs.Mount, 4, seed);
        foreach (var (name, ip) in files)
            UnlinkOps.Unlink(fs.Mount, name, ip);
        fs.Mount.Unmount();
        return new Prepared(fs, [.. files.Select(f => f.Ip.Ino)], counters);
    }

    // Mounts through a device that loses power after `cut` writes and flushes and inactivates
    // the files: by the last close of each (the mount skipping its recovery pass), forcing the
    // log now and then, or by the mount's recovery pass itself. Then unmounts. Returns the
    // writes and flushes the run made.
    private static int Inactivate(Prepared p, int seed, int cut, bool byMount = false)
    {
        var device = new PowerCutDevice(p.Fs.Device.Device, cut);
        var counting = new CountingDevice(device);
        var rng = new Random(seed);
        try
        {
            var mp = XfsMount.Mount(counting, p.Fs.Options with { SkipUnlinkedRecovery = !byMount });
            if (byMount)
                Assert.That(mp.RecoveredUnlinkedInodes, Is.EqualTo(p.Inodes.Count));
            foreach (ulong ino in byMount ? [] : p.Inodes.OrderBy(_ => rng.Next()).ToList())
            {
                XfsInode ip;
                using (var tp = XfsTransaction.Begin(mp))
                    ip = XfsInodeCache.For(mp).GetInUse(tp, ino);
                XfsInactive.Inactivate(ip);
                int action = rng.Next(3);
                if (action == 0)
                    mp.ForceLogAll();
                else if (action == 1)
                    mp.PushLog();
            }
            mp.Unmount();
        }
        catch (XfsException) when (device.Cut)
        {
        }
        return counting.Writes + counting.Flushes;
    }

    [Test]
    public void ACrashAtEveryWriteOfTheInactivationsStillEndsWithEverythingFree([Values(1, 2, 3)] int seed, [Values(false, true)] bool duringMount)
    {
        int requests;
        var first = Prepare(seed, null);
        using (first.Fs)
            requests = Inactivate(first, seed, int.MaxValue, duringMount);
        Assert.That(requests, Is.GreaterThan(5), "the inactivations wrote to the log");
        for (int cut = 0; cut <= requests; cut++)
        {
            var p = Prepare(seed, null);
            using var fs = p.Fs;
            Inactivate(p, seed, cut, duringMount);
            var policy = cut % 2 == 0 ? CrashPolicy.Strict : CrashPolicy.Random(seed * 1000 + cut);
            fs.CrashAndRemount(policy);
            AssertAllFree(fs, p.Inodes, p.Counters, $"seed {seed}{(duringMount ? " (mount-time pass)" : "")}, cut after {cut} of {requests} requests");
            _explored++;
        }
        TestContext.Out.WriteLine($"seed {seed}{(duringMount ? " (mount-time pass)" : "")}: {requests + 1} crash points; {_explored} crash states explored so far");
    }

    [Test]
    public void XfsRepairAcceptsImagesRecoveredFromACrashDuringInactivation([Values(4, 5)] int seed)
    {
        string dir = Directory.CreateTempSubdirectory("daxstack-iunlink-").FullName;
        try
        {
            var rng = new Random(seed);
            int recovered = 0;
            for (int sample = 0; sample < 3; sample++)
            {
                string image = FsTestDevice.SparseImage(dir, $"fs{sample}.img", 64L << 20);
                // A cut in the first half of this workload's writes and flushes.
                var probe = Prepare(seed * 10 + sample, null);
                int requests;
                using (probe.Fs)
                    requests = Inactivate(probe, seed, int.MaxValue);
                int cut = rng.Next(0, requests / 2);
                var p = Prepare(seed * 10 + sample, image);
                using (var fs = p.Fs)
                {
                    Inactivate(p, seed, cut);
                    fs.CrashAndRemount(sample % 2 == 0 ? CrashPolicy.Strict : CrashPolicy.Random(cut));
                    recovered += fs.Mount.RecoveredUnlinkedInodes;
                    AssertAllFree(fs, p.Inodes, p.Counters, $"seed {seed} sample {sample} cut {cut}");
                }
                XfsProgs.AssertRepairPasses(image, $"seed {seed} sample {sample} (cut {cut})");
            }
            Assert.That(recovered, Is.Positive, "some crash left inodes for the mount to free");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
    [Test]
    public void AMountRefusesADamagedListNamingTheBucketUnlessTheRecoveryIsSkipped()
    {
        using var fs = MountedFs.Create();
        var ip = UnlinkOps.CreateInodes(fs.Mount, 1)[0];
        UnlinkOps.DropLink(fs.Mount, ip);
        uint agino = fs.Mount.Geometry.InoToAgino(ip.Ino);
        UnlinkOps.SetNextUnlinked(fs.Mount, ip, agino);
        fs.Mount.Unmount();
        var e = Assert.Throws<XfsCorruptionException>(() => fs.Remount());
        Assert.That(e!.Structure, Is.EqualTo($"agi 0 unlinked bucket {XfsIunlink.BucketOf(agino)}"));
        Assert.That(e.Message, Does.Contain("loops"));
        var mp = XfsMount.Mount(fs.Device.Device, fs.Options with { SkipUnlinkedRecovery = true });
        Assert.That(mp.RecoveredUnlinkedInodes, Is.Zero);
        using var tp = XfsTransaction.Begin(mp);
        Assert.That(XfsAgHeaders.ReadAgi(tp, 0).Unlinked[XfsIunlink.BucketOf(agino)], Is.EqualTo(agino));
    }

    [Test]
    public void AMountAfterACleanUnmountWithEmptyListsFreesNothing()
    {
        using var fs = MountedFs.Create();
        var ip = RootLinks.CreateFile(fs.Mount, "f");
        XfsFileIo.Write(ip, 0, UnlinkOps.Pattern(10_000, 9));
        var counters = UnlinkOps.Counters(fs.Mount);
        fs.Mount.Unmount();
        fs.Remount();
        Assert.That((fs.Mount.RecoveredUnlinkedInodes, UnlinkOps.Counters(fs.Mount), UnlinkOps.IsAllocated(fs.Mount, ip.Ino)), Is.EqualTo((0, counters, true)));
    }
}
