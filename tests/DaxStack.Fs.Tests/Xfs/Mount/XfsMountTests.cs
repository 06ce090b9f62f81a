using System.Diagnostics.Metrics;
using DaxStack.Device.Crash;
using DaxStack.Device.Errors;
using DaxStack.Driver.Block;
using DaxStack.Fs.Tests.Interop;
using DaxStack.Fs.Tests.Xfs.Alloc;
using DaxStack.Fs.Xfs.Log;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Tests.Xfs.Mount;

/// <summary>The mount path: log recovery, the journal as committer, fsync-style forces, unmount, read-only devices, damaged logs, the mount lock and the journal's metrics.</summary>
public class XfsMountTests
{
    [Test]
    public void AFreshImageMountsWithTheJournalAndReplaysNothing()
    {
        using var fs = MountedFs.Create();
        Assert.Multiple(() =>
        {
            Assert.That(fs.Mount.Log, Is.Not.Null);
            Assert.That(fs.Mount.Committer, Is.SameAs(fs.Mount.Log));
            Assert.That(fs.Mount.ReplayedTransactions, Is.Zero);
        });
    }

    [Test]
    public void ACommittedTransactionIsLostInAStrictCrashUntilItsSequenceIsForced()
    {
        using var fs = MountedFs.Create();
        var (lost, lostSeq) = fs.AllocateInode();
        Assert.That(lostSeq, Is.Positive);
        fs.CrashAndRemount(CrashPolicy.Strict);
        Assert.That(fs.IsAllocated(lost), Is.False, "an unforced commit does not survive");

        var (kept, seq) = fs.AllocateInode();
        var (after, _) = fs.AllocateInode();
        fs.Mount.ForceLog(seq);
        fs.CrashAndRemount(CrashPolicy.Strict);
        Assert.Multiple(() =>
        {
            Assert.That(fs.Mount.ReplayedTransactions, Is.EqualTo(1));
            Assert.That(fs.IsAllocated(kept), Is.True, "forced up to its sequence");
            Assert.That(fs.IsAllocated(after), Is.False, "committed after the forced sequence");
        });
        XfsSpaceAudit.Run(fs.Device.Device);
    }

    [Test]
    public void AForceFlushesTheDeviceOnceAndNotAtAllWhenAlreadyForced()
    {
        CountingDevice? counting = null;
        using var fs = MountedFs.Create(via: d => counting = new CountingDevice(d));
        var (_, s1) = fs.AllocateInode();
        var (_, s2) = fs.AllocateInode();
        int flushes = counting!.Flushes;
        fs.Mount.ForceLog(s2);
        Assert.That(counting.Flushes - flushes, Is.EqualTo(1), "one flush for the force");
        flushes = counting.Flushes;
        int writes = counting.Writes;
        fs.Mount.ForceLog(s1);
        fs.Mount.ForceLog(s2);
        fs.Mount.ForceLogAll();
        Assert.Multiple(() =>
        {
            Assert.That(counting.Flushes, Is.EqualTo(flushes), "already durable: no flush");
            Assert.That(counting.Writes, Is.EqualTo(writes), "already durable: no log write");
            Assert.That(fs.Mount.ForcedSequence, Is.EqualTo(s2));
        });
    }

    [Test]
    public void UnmountLeavesACleanLogThatXfsRepairAcceptsAndLaterTransactionsFail()
    {
        string dir = Directory.CreateTempSubdirectory("daxstack-mount-").FullName;
        try
        {
            string image = FsTestDevice.SparseImage(dir, "fs.img", 64L << 20);
            ulong kept;
            using (var fs = MountedFs.CreateOnImage(image))
            {
                var inodes = Enumerable.Range(0, 70).Select(_ => fs.AllocateInode().Ino).ToList();
                foreach (ulong ino in inodes)
                    fs.FreeInode(ino);
                (kept, _) = fs.AllocateInode();
                fs.FreeInode(kept);
                fs.Mount.Unmount();
                Assert.Multiple(() =>
                {
                    Assert.That(XlogReader.Read(fs.Device.Device, XlogLocation.FromGeometry(fs.Mount.Geometry, fs.Mount.Superblock.Uuid)).IsClean, Is.True);
                    Assert.That(fs.Mount.IsUnmounted, Is.True);
                    var e = Assert.Throws<XfsException>(() => XfsTransaction.Begin(fs.Mount));
                    Assert.That(e!.Errno, Is.EqualTo(Errno.EIO));
                });
                fs.Mount.Unmount();
                // Power fails after unmount: nothing may be lost, nothing replayed.
                fs.CrashAndRemount(CrashPolicy.Strict);
                Assert.That(fs.Mount.ReplayedTransactions, Is.Zero);
                XfsSpaceAudit.Run(fs.Device.Device);
                fs.Mount.Unmount();
            }
            XfsProgs.AssertRepairPasses(image, "after unmount");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void AReadOnlyDeviceWithADirtyLogRefusesTheMountWithEROFSAndWithACleanLogMountsReadOnly()
    {
        string dir = Directory.CreateTempSubdirectory("daxstack-mount-").FullName;
        try
        {
            string image = ImageWithADirtyLog(dir);
            using (var ro = FsTestDevice.Image(image, readOnly: true))
            {
                var e = Assert.Throws<XfsException>(() => XfsMount.Mount(ro.Device));
                Assert.That(e!.Errno, Is.EqualTo(Errno.EROFS));
                Assert.That(e.Message, Does.Contain("log needs recovery"));
            }
            using (var fs = MountedFs.Open(image))
            {
                Assert.That(fs.Mount.ReplayedTransactions, Is.EqualTo(1));
                fs.Mount.Unmount();
            }
            var before = File.ReadAllBytes(image);
            using (var ro = FsTestDevice.Image(image, readOnly: true))
            {
                var mp = XfsMount.Mount(ro.Device);
                Assert.That(mp.IsReadOnly, Is.True);
                var e = Assert.Throws<XfsException>(() => XfsTransaction.Begin(mp, 1));
                Assert.That(e!.Errno, Is.EqualTo(Errno.EROFS));
                mp.Unmount();
            }
            Assert.That(File.ReadAllBytes(image).AsSpan().SequenceEqual(before), Is.True, "a read-only device was written");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void AReadOnlyMountOfAWritableDeviceReplaysADirtyLogThenRefusesTransactionsAndUnmountsClean()
    {
        string dir = Directory.CreateTempSubdirectory("daxstack-mount-").FullName;
        try
        {
            string image = ImageWithADirtyLog(dir);
            using (var dev = FsTestDevice.Image(image))
            {
                var mp = XfsMount.Mount(dev.Device, new XfsMountOptions { ReadOnly = true });
                Assert.Multiple(() =>
                {
                    Assert.That(mp.ReplayedTransactions, Is.EqualTo(1));
                    Assert.That(mp.IsReadOnly, Is.True);
                    Assert.That(Assert.Throws<XfsException>(() => XfsTransaction.Begin(mp, 1))!.Errno, Is.EqualTo(Errno.EROFS));
                });
                mp.Unmount();
            }
            using (var fs = MountedFs.Open(image))
            {
                Assert.That(fs.Mount.ReplayedTransactions, Is.Zero, "the read-only unmount left a clean log");
                fs.Mount.Unmount();
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // An image whose log holds one forced, not yet checkpointed transaction (an inode allocation).
    private static string ImageWithADirtyLog(string dir)
    {
        string image = FsTestDevice.SparseImage(dir, "fs.img", 64L << 20);
        using var fs = MountedFs.CreateOnImage(image);
        var (_, seq) = fs.AllocateInode();
        fs.Mount.ForceLog(seq);
        return image;
    }

    private static byte[] ReadAll(IBlockDeviceOperations device)
    {
        var all = new byte[device.Limits.Capacity];
        Assert.That(device.Read(0, all), Is.EqualTo(BlkStatus.Ok));
        return all;
    }

    [Test]
    public void ABadRecordInTheMiddleOfTheLogFailsTheMountNamingItAndChangesNothing()
    {
        using var fs = MountedFs.Create();
        // Twenty forces: twenty records, each flushed.
        for (int i = 0; i < 20; i++)
            fs.Mount.ForceLog(fs.AllocateInode().Sequence);
        var location = XlogLocation.FromGeometry(fs.Mount.Geometry, fs.Mount.Superblock.Uuid);
        var before = XlogReader.Read(fs.Device.Device, location);
        Assert.That(before.RecordCount, Is.GreaterThanOrEqualTo(20));
        // Flip a byte in the data of the third transaction's record.
        ulong victim = before.Transactions[2].CommitLsn;
        long at = location.BlockOffset((uint)victim + 1) + 100;
        var b = new byte[512];
        fs.Device.Device.Read(at & ~511L, b);
        b[at & 511] ^= 0x5a;
        fs.Device.Device.Write(at & ~511L, b);
        fs.Device.Device.Flush();
        fs.Device.Bus.Space.Crash(CrashPolicy.Strict);
        var image = ReadAll(fs.Device.Device);

        var e = Assert.Throws<XfsCorruptionException>(() => fs.Remount());
        Assert.Multiple(() =>
        {
            Assert.That(e!.Structure, Is.EqualTo($"log record at block {(uint)victim}"));
            Assert.That(ReadAll(fs.Device.Device), Is.EqualTo(image), "nothing replayed, nothing zeroed");
        });
    }

    [Test]
    public void ALogRecordWithAnImpossibleLengthInTheMiddleFailsTheMount()
    {
        using var fs = MountedFs.Create();
        for (int i = 0; i < 20; i++)
            fs.Mount.ForceLog(fs.AllocateInode().Sequence);
        var location = XlogLocation.FromGeometry(fs.Mount.Geometry, fs.Mount.Superblock.Uuid);
        uint victim = (uint)XlogReader.Read(fs.Device.Device, location).Transactions[5].CommitLsn;
        var header = new byte[512];
        fs.Device.Device.Read(location.BlockOffset(victim), header);
        // h_len (offset 36) far past what a record may hold.
        Be.Put32(header, 36, 0x7fff_fe00);
        fs.Device.Device.Write(location.BlockOffset(victim), header);
        fs.Device.Device.Flush();
        fs.Device.Bus.Space.Crash(CrashPolicy.Strict);
        var e = Assert.Throws<XfsCorruptionException>(() => fs.Remount());
        Assert.That(e!.Message, Does.StartWith($"log record at block {victim}:"));
    }

    [Test]
    public void TransactionsAndForcesFromSeveralThreadsAreSerialisedByTheMountLock()
    {
        using var fs = MountedFs.Create();
        var inodes = new System.Collections.Concurrent.ConcurrentBag<ulong>();
        var threads = Enumerable.Range(0, 4).Select(t => new Thread(() =>
        {
            for (int i = 0; i < 40; i++)
            {
                var (ino, seq) = fs.AllocateInode();
                inodes.Add(ino);
                if (i % 5 == t)
                    fs.Mount.ForceLog(seq);
                if (i % 7 == 0)
                    fs.Mount.PushLog();
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => Assert.That(t.Join(TimeSpan.FromMinutes(2)), Is.True, "a thread hung"));
        fs.Mount.ForceLogAll();
        fs.CrashAndRemount(CrashPolicy.Strict);
        Assert.Multiple(() =>
        {
            Assert.That(inodes.Distinct().Count(), Is.EqualTo(160));
            Assert.That(inodes.All(fs.IsAllocated), Is.True);
        });
        XfsSpaceAudit.Run(fs.Device.Device);
    }

    [Test]
    public void TheJournalCountsCommitsForcesCheckpointsAndLogBytesOnTheFsMeter()
    {
        var totals = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (i, l) =>
        {
            if (i.Meter.Name == XfsLogMetrics.MeterName)
                l.EnableMeasurementEvents(i);
        };
        listener.SetMeasurementEventCallback<long>((i, v, _, _) =>
        {
            lock (totals)
                totals[i.Name] = totals.GetValueOrDefault(i.Name) + v;
        });
        listener.Start();
        using var fs = MountedFs.Create();
        for (int i = 0; i < 3; i++)
            fs.Mount.ForceLog(fs.AllocateInode().Sequence);
        fs.Mount.PushLog();
        listener.Dispose();
        Assert.Multiple(() =>
        {
            Assert.That(totals.GetValueOrDefault("daxstack.fs.xfs.log.commits"), Is.GreaterThanOrEqualTo(3));
            Assert.That(totals.GetValueOrDefault("daxstack.fs.xfs.log.forces"), Is.GreaterThanOrEqualTo(3));
            Assert.That(totals.GetValueOrDefault("daxstack.fs.xfs.log.checkpoints"), Is.GreaterThanOrEqualTo(1));
            Assert.That(totals.GetValueOrDefault("daxstack.fs.xfs.log.bytes_written"), Is.GreaterThanOrEqualTo(3 * 1024));
            Assert.That(fs.Mount.Log!.LogBytesWritten, Is.GreaterThanOrEqualTo(3 * 1024));
            Assert.That(fs.Mount.Log.Checkpoints, Is.EqualTo(1));
        });
    }
}
