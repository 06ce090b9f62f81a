using DaxStack.Driver.Block;
using DaxStack.Device.Errors;
using DaxStack.Fs.Tests.Xfs.Alloc;
using DaxStack.Fs.Tests.Xfs.Trans;
using DaxStack.Fs.Xfs.Bmap;
using DaxStack.Fs.Xfs.Inode;
using DaxStack.Fs.Xfs.OnDisk;
using static DaxStack.Fs.Tests.Xfs.Bmap.BmapTestOps;

namespace DaxStack.Fs.Tests.Xfs.Bmap;

public class XfsBmapTests
{
    [Test]
    public void SequentialAllocationsContinueTheLastExtentOnDiskAndMergeIntoOneRecord()
    {
        using var fs = MetadataTestFs.Create();
        var ip = RootLinks.CreateFile(fs.Mount, "seq");
        for (ulong off = 0; off < 64; off += 8)
            Allocate(fs.Mount, ip, off, 8);
        Assert.That(ip.DataFork.Extents, Has.Count.EqualTo(1));
        Assert.That((ip.DataFork.Extents[0].StartOff, ip.DataFork.Extents[0].BlockCount, ip.Core.NBlocks), Is.EqualTo((0UL, 64u, 64UL)));
        Assert.That(ip.DataFork.Format, Is.EqualTo(XfsDinodeFormat.Extents));
    }

    [Test]
    public void ReadReportsHolesWrittenAndUnwrittenRangesInOrder()
    {
        using var fs = MetadataTestFs.Create();
        var ip = RootLinks.CreateFile(fs.Mount, "f");
        Allocate(fs.Mount, ip, 4, 4);
        Allocate(fs.Mount, ip, 10, 2, unwritten: true);
        var maps = Read(ip, 0, 16);
        Assert.That(maps.Select(m => (m.StartOff, m.BlockCount, m.State)), Is.EqualTo(new[]
        {
            (0UL, 4UL, XfsBmapState.Hole),
            (4UL, 4UL, XfsBmapState.Written),
            (8UL, 2UL, XfsBmapState.Hole),
            (10UL, 2UL, XfsBmapState.Unwritten),
            (12UL, 4UL, XfsBmapState.Hole),
        }));
        Assert.That(XfsBmap.LastOffset(ip), Is.EqualTo(12UL));
    }

    [Test]
    public void PunchingTheMiddleOfAnExtentSplitsItAndFreesExactlyThoseBlocks()
    {
        using var fs = MetadataTestFs.Create();
        var ip = RootLinks.CreateFile(fs.Mount, "f");
        Allocate(fs.Mount, ip, 0, 32);
        ulong free = fs.Mount.Superblock.FdBlocks;
        ulong first = ip.DataFork.Extents[0].StartBlock;
        Assert.That(Unmap(fs.Mount, ip, 10, 5), Is.EqualTo(5UL));
        Assert.That(ip.DataFork.Extents.Select(e => (e.StartOff, e.StartBlock - first, e.BlockCount)), Is.EqualTo(new[] { (0UL, 0UL, 10u), (15UL, 15UL, 17u) }));
        Assert.That((fs.Mount.Superblock.FdBlocks - free, ip.Core.NBlocks), Is.EqualTo((5UL, 27UL)));
        XfsSpaceAudit.Run(fs.Device.Device, agno => OwnedBlocks(ip).Where(b => b.AgNo == agno).Select(b => (b.Start, b.Length)));
    }

    [Test]
    public void ConvertingPartOfAnUnwrittenExtentSplitsItAndConvertingTheRestMergesItBack()
    {
        using var fs = MetadataTestFs.Create();
        var ip = RootLinks.CreateFile(fs.Mount, "f");
        Allocate(fs.Mount, ip, 0, 16, unwritten: true);
        Convert(fs.Mount, ip, 4, 4, toUnwritten: false);
        Assert.That(ip.DataFork.Extents.Select(e => (e.StartOff, e.BlockCount, e.Unwritten)), Is.EqualTo(new[] { (0UL, 4u, true), (4UL, 4u, false), (8UL, 8u, true) }));
        Convert(fs.Mount, ip, 0, 16, toUnwritten: false);
        Assert.That(ip.DataFork.Extents.Select(e => (e.StartOff, e.BlockCount, e.Unwritten)), Is.EqualTo(new[] { (0UL, 16u, false) }));
    }

    [Test]
    public void RecordsBeyondTheInodeMoveToABtreeThatSplitsAndShrinksBackToExtents()
    {
        using var fs = MetadataTestFs.Create();
        var ip = RootLinks.CreateFile(fs.Mount, "frag");
        int inline = ip.DataForkMaxExtents;
        Fragment(fs.Mount, ip, inline);
        Assert.That(ip.DataFork.Format, Is.EqualTo(XfsDinodeFormat.Extents));

        Fragment(fs.Mount, ip, 1, start: 2 * (ulong)inline);
        Assert.That((ip.DataFork.Format, ip.DataFork.Btree!.RootLevel, ip.DataFork.Btree.BlockCount), Is.EqualTo((XfsDinodeFormat.Btree, 1, 1)));

        // Past one leaf: the leaf splits and the root points at two.
        int leafMax = ip.DataFork.Btree.BlockMaxRecords;
        Fragment(fs.Mount, ip, leafMax + 1 - (inline + 1), start: 2 * (ulong)(inline + 1));
        Assert.That((ip.DataFork.Btree!.RootLevel, ip.DataFork.Btree.RootCount), Is.EqualTo((1, 2)));
        Assert.That(ip.Core.NBlocks, Is.EqualTo((ulong)(leafMax + 1) + 2));

        var again = Reread(fs, ip.Ino);
        Assert.That(again.DataFork.Extents, Is.EqualTo(ip.DataFork.Extents));
        Assert.That((again.DataFork.Btree!.RootLevel, again.DataFork.Btree.RootCount), Is.EqualTo((1, 2)));

        // Punch all but a few records: the tree goes and the records return to the inode.
        ulong keep = 2 * (ulong)(inline - 1);
        Unmap(fs.Mount, again, keep, 2 * (ulong)leafMax + 10);
        Assert.That((again.DataFork.Format, again.DataFork.Count, again.Core.NBlocks), Is.EqualTo((XfsDinodeFormat.Extents, inline - 1, (ulong)(inline - 1))));
        XfsSpaceAudit.Run(fs.Device.Device, agno => OwnedBlocks(again).Where(b => b.AgNo == agno).Select(b => (b.Start, b.Length)));
    }

    [Test]
    public void ThousandsOfRecordsGrowTheTreeASecondLevelAndItReadsBackThroughANewMount()
    {
        using var fs = MetadataTestFs.Create(256 * MetadataTestFs.MiB, agcount: 4);
        var ip = RootLinks.CreateFile(fs.Mount, "deep");
        Fragment(fs.Mount, ip, 5200);
        var tree = ip.DataFork.Btree!;
        Assert.That(tree.RootLevel, Is.EqualTo(2));
        var again = Reread(fs, ip.Ino);
        Assert.That(again.DataFork.Extents, Is.EqualTo(ip.DataFork.Extents));
        Assert.That((again.DataFork.Btree!.RootLevel, again.DataFork.Btree.BlockCount, again.Core.NBlocks),
            Is.EqualTo((2, tree.BlockCount, 5200UL + (ulong)tree.BlockCount)));
        XfsSpaceAudit.Run(fs.Device.Device, agno => OwnedBlocks(again).Where(b => b.AgNo == agno).Select(b => (b.Start, b.Length)));
    }

    [Test]
    public void ACancelledTransactionPutsTheInCoreExtentListBack()
    {
        using var fs = MetadataTestFs.Create();
        var ip = RootLinks.CreateFile(fs.Mount, "f");
        Fragment(fs.Mount, ip, 30);
        var before = ip.DataFork.Extents.ToList();
        ulong blocks = ip.Core.NBlocks;
        using (var tp = fs.Begin(XfsBmap.WriteReservation(fs.Mount, 8)))
        {
            XfsBmap.Allocate(tp, ip, 1000, 8, unwritten: false);
            XfsBmap.Unmap(tp, ip, 0, 20);
            Assert.That(ip.DataFork.Extents, Is.Not.EqualTo(before));
            tp.Cancel();
        }
        using (var read = fs.Begin())
            Assert.That(XfsInodeCache.For(fs.Mount).Get(read, ip.Ino), Is.SameAs(ip));
        Assert.That((ip.DataFork.Extents, ip.Core.NBlocks), Is.EqualTo((before, blocks)));
    }

    [Test]
    public void FileOffsetsPastTheLargestOneFailWithEfbig()
    {
        using var fs = MetadataTestFs.Create();
        var ip = RootLinks.CreateFile(fs.Mount, "f");
        using var tp = fs.Begin(XfsBmap.WriteReservation(fs.Mount, 2));
        var e = Assert.Throws<XfsException>(() => XfsBmap.Allocate(tp, ip, XfsBmap.MaxFileOffset, 2, unwritten: false));
        Assert.That(e!.Errno, Is.EqualTo(Errno.EFBIG));
    }

    [Test]
    public void RunningOutOfSpaceMapsWhatItCanThenFailsWithEnospcAndTheFileStaysConsistent()
    {
        using var fs = MetadataTestFs.Create(64 * MetadataTestFs.MiB);
        var ip = RootLinks.CreateFile(fs.Mount, "big");
        ulong available = fs.Mount.FreeBlocksAvailable;
        var e = Assert.Throws<XfsException>(() => Allocate(fs.Mount, ip, 0, available + 1000));
        Assert.That(e!.Errno, Is.EqualTo(Errno.ENOSPC));
        ulong mapped = (ulong)ip.DataFork.Extents.Sum(x => (long)x.BlockCount);
        Assert.That(mapped, Is.GreaterThan(available * 9 / 10));
        var again = Reread(fs, ip.Ino);
        Assert.That(again.DataFork.Extents, Is.EqualTo(ip.DataFork.Extents));
        XfsSpaceAudit.Run(fs.Device.Device, agno => OwnedBlocks(again).Where(b => b.AgNo == agno).Select(b => (b.Start, b.Length)));
    }

    [Test]
    public void ACorruptBmbtBlockIsRejectedWhenTheInodeIsReadNamingTheBlock()
    {
        using var fs = MetadataTestFs.Create();
        var ip = RootLinks.CreateFile(fs.Mount, "frag");
        Fragment(fs.Mount, ip, 40);
        ulong leaf = ip.DataFork.Btree!.Blocks.First();
        long offset = fs.Mount.Geometry.FsbToOffset(leaf) + XfsBtreeLongBlock.RecordOffset(3);
        var sector = new byte[512];
        Assert.That(fs.Device.Device.Read(offset & ~511L, sector), Is.EqualTo(BlkStatus.Ok));
        sector[offset & 511] ^= 0x40;
        Assert.That(fs.Device.Device.Write(offset & ~511L, sector), Is.EqualTo(BlkStatus.Ok));
        fs.Remount();
        using var tp = fs.Begin();
        var e = Assert.Throws<XfsCorruptionException>(() => XfsInodeCache.For(fs.Mount).Get(tp, ip.Ino));
        Assert.That(e!.Message, Does.Contain($"bmbt block {leaf}").And.Contain("CRC"));
    }
}
