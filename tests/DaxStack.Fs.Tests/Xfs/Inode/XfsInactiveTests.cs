using DaxStack.Fs.Tests.Xfs.Bmap;
using DaxStack.Fs.Tests.Xfs.Trans;
using DaxStack.Fs.Xfs.Bmap;
using DaxStack.Fs.Xfs.Files;
using DaxStack.Fs.Xfs.Inode;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Reflink;
using DaxStack.Fs.Xfs.Repair;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Tests.Xfs.Inode;

/// <summary>Inactivation of unlinked inodes: every block and the inode itself come back, the list ends empty.</summary>
public class XfsInactiveTests
{
    [Test]
    public void InactivatingAnUnlinkedFileFreesItsBlocksAndTheInode()
    {
        using var fs = MetadataTestFs.Create();
        var mp = fs.Mount;
        var before = UnlinkOps.Counters(mp);
        var ip = RootLinks.CreateFile(mp, "data");
        XfsFileIo.Write(ip, 0, UnlinkOps.Pattern(100_000, 1));
        XfsFileIo.Write(ip, 1 << 20, UnlinkOps.Pattern(5000, 2));
        Assert.That(ip.Core.NBlocks, Is.EqualTo(27UL));
        UnlinkOps.Unlink(mp, "data", ip);
        // Still open: the data stays readable until the last reference goes.
        var back = new byte[5000];
        Assert.That(XfsFileIo.Read(ip, 1 << 20, back), Is.EqualTo(5000L));
        Assert.That(back, Is.EqualTo(UnlinkOps.Pattern(5000, 2)));
        Assert.That(XfsInactive.Inactivate(ip), Is.True);
        Assert.Multiple(() =>
        {
            Assert.That(ip.InUse, Is.False);
            Assert.That(UnlinkOps.IsAllocated(mp, ip.Ino), Is.False);
            Assert.That(UnlinkOps.ListAll(mp), Is.Empty);
            Assert.That(UnlinkOps.Counters(mp), Is.EqualTo(before));
        });
        Assert.That(XfsChecker.Check(fs.Device.Device).IsClean, Is.True);
    }

    [Test]
    public void AFileWithABmapBtreeIsFreedInBoundedTransactions()
    {
        using var fs = MetadataTestFs.Create();
        var mp = fs.Mount;
        var before = UnlinkOps.Counters(mp);
        var ip = RootLinks.CreateFile(mp, "frag");
        BmapTestOps.Fragment(mp, ip, 300);
        using (var tp = XfsTransaction.Begin(mp))
        {
            ip.Join(tp);
            ip.Core.Size = 600UL * 4096;
            ip.Log(tp);
            tp.Commit();
        }
        Assert.That(ip.DataFork.Format, Is.EqualTo(XfsDinodeFormat.Btree));
        UnlinkOps.Unlink(mp, "frag", ip);
        Assert.That(XfsInactive.Inactivate(ip), Is.True);
        Assert.Multiple(() =>
        {
            Assert.That(UnlinkOps.Counters(mp), Is.EqualTo(before));
            Assert.That(UnlinkOps.ListAll(mp), Is.Empty);
        });
        var report = XfsChecker.Check(fs.Device.Device);
        Assert.That(report.IsClean, Is.True, string.Join("\n", report.Problems));
    }

    [Test]
    public void InodesWithoutBlocksAreFreedInOneTransaction([Values(XfsDinode.TypeDirectory, XfsDinode.TypeSymlink, XfsDinode.TypeRegular, (ushort)0x2000)] ushort type)
    {
        using var fs = MetadataTestFs.Create();
        var mp = fs.Mount;
        var ip = UnlinkOps.CreateInodes(mp, 1, mode: (ushort)(type | 0x1A4))[0];
        UnlinkOps.DropLink(mp, ip);
        Assert.That(XfsInactive.Inactivate(ip), Is.True);
        Assert.That((ip.InUse, UnlinkOps.IsAllocated(mp, ip.Ino), UnlinkOps.ListAll(mp).Count), Is.EqualTo((false, false, 0)));
    }

    [Test]
    public void AnInodeThatStillHasLinksIsLeftAlone()
    {
        using var fs = MetadataTestFs.Create();
        var mp = fs.Mount;
        var ip = RootLinks.CreateFile(mp, "kept");
        XfsFileIo.Write(ip, 0, UnlinkOps.Pattern(8192, 3));
        var counters = UnlinkOps.Counters(mp);
        Assert.That(XfsInactive.Inactivate(ip), Is.False);
        Assert.That((ip.InUse, ip.Core.NBlocks, UnlinkOps.Counters(mp)), Is.EqualTo((true, 2UL, counters)));
    }

    [Test]
    public void AnUnlinkedInodeMissingFromItsListIsCorruptionAndKeepsItsInode()
    {
        using var fs = MetadataTestFs.Create();
        var mp = fs.Mount;
        var ip = UnlinkOps.CreateInodes(mp, 1)[0];
        using (var tp = XfsTransaction.Begin(mp))
        {
            ip.Join(tp);
            ip.Core.Nlink = 0;
            ip.Log(tp);
            tp.Commit();
        }
        var e = Assert.Throws<XfsCorruptionException>(() => XfsInactive.Inactivate(ip));
        Assert.That(e!.Message, Does.Contain("is not on the list"));
        Assert.That(UnlinkOps.IsAllocated(mp, ip.Ino), Is.True, "the failed transaction freed nothing");
    }

    [Test]
    public void ManyUnlinkedInodesAcrossBucketsAreAllFreed()
    {
        using var fs = MetadataTestFs.Create();
        var mp = fs.Mount;
        var before = UnlinkOps.Counters(mp);
        var files = UnlinkOps.CreateInodes(mp, 200);
        foreach (var ip in files)
            UnlinkOps.DropLink(mp, ip);
        Assert.That(UnlinkOps.ListAll(mp), Has.Count.EqualTo(200));
        // Out of list order, so most removals are from the middle of a bucket.
        foreach (var ip in files.OrderBy(ip => ip.Ino % 7))
            XfsInactive.Inactivate(ip);
        Assert.Multiple(() =>
        {
            Assert.That(UnlinkOps.ListAll(mp), Is.Empty);
            Assert.That(UnlinkOps.Counters(mp), Is.EqualTo(before));
        });
        var report = XfsChecker.Check(fs.Device.Device);
        Assert.That(report.IsClean, Is.True, string.Join("\n", report.Problems));
    }
    [Test]
    public void SharedBlocksOfAReflinkedFileStayWithTheOtherOwnerUntilItGoesToo()
    {
        using var fs = MetadataTestFs.Create();
        var mp = fs.Mount;
        var before = UnlinkOps.Counters(mp);
        var a = RootLinks.CreateFile(mp, "a");
        var b = RootLinks.CreateFile(mp, "b");
        XfsFileIo.Write(a, 0, UnlinkOps.Pattern(40_000, 4));
        var geo = mp.Geometry;
        // b shares a's blocks, as FICLONE leaves two files.
        using (var tp = XfsTransaction.Begin(mp, 64))
        {
            foreach (var e in a.DataFork.Extents.ToList())
            {
                XfsRefcount.Adjust(tp, geo.FsbToAgno(e.StartBlock), geo.FsbToAgbno(e.StartBlock), e.BlockCount, +1);
                XfsBmap.MapExisting(tp, b, e);
            }
            foreach (var ip in new[] { a, b })
            {
                ip.Join(tp);
                ip.Core.Flags2 |= XfsDiFlags2.Reflink;
                ip.Core.Size = 40_000;
                ip.Log(tp);
            }
            tp.Commit();
        }
        var shared = UnlinkOps.Counters(mp);
        var sharing = XfsChecker.Check(fs.Device.Device);
        Assert.That(sharing.IsClean, Is.True, string.Join("\n", sharing.Problems));
        UnlinkOps.Unlink(mp, "a", a);
        Assert.That(XfsInactive.Inactivate(a), Is.True);
        // a's references went; the blocks are b's alone now, and still in use.
        Assert.That(UnlinkOps.Counters(mp).FdBlocks, Is.EqualTo(shared.FdBlocks));
        var back = new byte[40_000];
        Assert.That(XfsFileIo.Read(b, 0, back), Is.EqualTo(40_000L));
        Assert.That(back, Is.EqualTo(UnlinkOps.Pattern(40_000, 4)));
        using (var tp = XfsTransaction.Begin(mp))
            Assert.That(XfsRefcount.Records(tp, geo.FsbToAgno(b.DataFork.Extents[0].StartBlock), 0, geo.AgBlocks), Is.Empty);
        UnlinkOps.Unlink(mp, "b", b);
        Assert.That(XfsInactive.Inactivate(b), Is.True);
        Assert.That(UnlinkOps.Counters(mp), Is.EqualTo(before));
        var report = XfsChecker.Check(fs.Device.Device);
        Assert.That(report.IsClean, Is.True, string.Join("\n", report.Problems));
    }
}
