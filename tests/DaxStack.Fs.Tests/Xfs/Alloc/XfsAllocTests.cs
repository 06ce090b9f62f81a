using DaxStack.Device.Errors;
using DaxStack.Fs.Tests.Xfs.Trans;
using DaxStack.Fs.Xfs.Alloc;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Tests.Xfs.Alloc;

public class XfsAllocTests
{
    private const uint Ag = 0;

    /// <summary>Allocates every free extent of AG 0, then frees <paramref name="keepFree"/>, so exactly those are free.</summary>
    private static OwnedExtents Carve(MetadataTestFs fs, params (uint Start, uint Length)[] keepFree)
    {
        var owned = new OwnedExtents();
        foreach (var free in fs.Layout!.Ags[(int)Ag].FreeExtents)
        {
            using var tp = fs.Begin(free.BlockCount);
            owned.Add(XfsAlloc.Allocate(tp, XfsAllocRequest.Exact(Ag, free.StartBlock, free.BlockCount, free.BlockCount)));
            tp.Commit();
        }
        foreach (var (start, length) in keepFree)
            Free(fs, owned, start, length);
        return owned;
    }

    private static XfsAgExtent Alloc(MetadataTestFs fs, OwnedExtents owned, XfsAllocRequest request)
    {
        using var tp = fs.Begin(request.MaxLen);
        var e = XfsAlloc.Allocate(tp, request);
        tp.Commit();
        owned.Add(e);
        return e;
    }

    private static void Free(MetadataTestFs fs, OwnedExtents owned, uint start, uint length)
    {
        using var tp = fs.Begin();
        XfsAlloc.Free(tp, Ag, start, length);
        tp.Commit();
        owned.Release(Ag, start, length);
    }

    private static XfsSpaceAudit.AgContents Audit(MetadataTestFs fs, OwnedExtents owned) =>
        XfsSpaceAudit.Run(fs.Device.Device, owned.In)[(int)Ag];

    [Test]
    public void AFreshFilesystemPassesTheAudit()
    {
        using var fs = MetadataTestFs.Create();
        var ags = XfsSpaceAudit.Run(fs.Device.Device);
        Assert.That(ags[(int)Ag].Free, Is.EqualTo(fs.Layout!.Ags[(int)Ag].FreeExtents));
    }

    [Test]
    public void CarvingLeavesExactlyTheChosenFreeExtents()
    {
        using var fs = MetadataTestFs.Create();
        var owned = Carve(fs, (1000, 10), (2000, 5), (3000, 20));
        Assert.That(Audit(fs, owned).Free, Is.EqualTo(new[] { new XfsAllocRecord(1000, 10), new XfsAllocRecord(2000, 5), new XfsAllocRecord(3000, 20) }));
    }

    [TestCase(5u, 2000u, 5u)]
    [TestCase(8u, 1000u, 8u)]
    [TestCase(15u, 3000u, 15u)]
    public void AnAnyAllocationTakesTheSmallestFreeExtentThatHoldsIt(uint maxlen, uint start, uint length)
    {
        using var fs = MetadataTestFs.Create();
        var owned = Carve(fs, (1000, 10), (2000, 5), (3000, 20));
        Assert.That(Alloc(fs, owned, XfsAllocRequest.Any(Ag, 1, maxlen)), Is.EqualTo(new XfsAgExtent(Ag, start, length)));
        Audit(fs, owned);
    }

    [Test]
    public void AnAnyAllocationSettlesForTheLongestExtentWhenNoneHoldsMaxlen()
    {
        using var fs = MetadataTestFs.Create();
        var owned = Carve(fs, (1000, 10), (2000, 5), (3000, 20));
        Assert.That(Alloc(fs, owned, XfsAllocRequest.Any(Ag, 4, 50)), Is.EqualTo(new XfsAgExtent(Ag, 3000, 20)));
        var ag = Audit(fs, owned);
        Assert.That(ag.Agf.Longest, Is.EqualTo(10u));
    }

    [Test]
    public void AnAlignedAllocationStartsOnTheAlignment()
    {
        using var fs = MetadataTestFs.Create();
        var owned = Carve(fs, (1001, 12), (3001, 3));
        Assert.That(Alloc(fs, owned, XfsAllocRequest.Any(Ag, 4, 8, alignment: 4)), Is.EqualTo(new XfsAgExtent(Ag, 1004, 8)));
        var ag = Audit(fs, owned);
        Assert.That(ag.Free, Is.EqualTo(new[] { new XfsAllocRecord(1001, 3), new XfsAllocRecord(1012, 1), new XfsAllocRecord(3001, 3) }));
    }

    [Test]
    public void AnExactAllocationStartsAtTheBlockAndTakesWhatIsThereUpToMaxlen()
    {
        using var fs = MetadataTestFs.Create();
        var owned = Carve(fs, (1000, 10));
        Assert.Multiple(() =>
        {
            Assert.That(Alloc(fs, owned, XfsAllocRequest.Exact(Ag, 1004, 2, 20)), Is.EqualTo(new XfsAgExtent(Ag, 1004, 6)));
            Assert.That(Alloc(fs, owned, XfsAllocRequest.Exact(Ag, 1001, 1, 2)), Is.EqualTo(new XfsAgExtent(Ag, 1001, 2)));
            Assert.That(Audit(fs, owned).Free, Is.EqualTo(new[] { new XfsAllocRecord(1000, 1), new XfsAllocRecord(1003, 1) }));
        });
    }

    [TestCase(999u, 1u)]
    [TestCase(1008u, 3u)]
    [TestCase(1010u, 1u)]
    public void AnExactAllocationFailsWhenTheBlocksAreNotAllFree(uint agbno, uint minlen)
    {
        using var fs = MetadataTestFs.Create();
        var owned = Carve(fs, (1000, 10));
        using var tp = fs.Begin(16);
        Assert.That(XfsAlloc.TryAllocate(tp, XfsAllocRequest.Exact(Ag, agbno, minlen, 16), out _), Is.False);
        tp.Commit();
        Assert.That(Audit(fs, owned).Free, Is.EqualTo(new[] { new XfsAllocRecord(1000, 10) }));
    }

    [TestCase(2900u, 3000u, "the extent after the target is nearer")]
    [TestCase(1500u, 1005u, "the tail of the extent before the target is nearer")]
    [TestCase(3010u, 3010u, "the target itself is free")]
    public void ANearAllocationTakesTheFreeBlocksClosestToTheTarget(uint target, uint expected, string why)
    {
        using var fs = MetadataTestFs.Create();
        var owned = Carve(fs, (1000, 10), (3000, 20));
        Assert.That(Alloc(fs, owned, XfsAllocRequest.Near(Ag, target, 5, 5)).AgBno, Is.EqualTo(expected), why);
        Audit(fs, owned);
    }

    [Test]
    public void ANearAllocationPrefersALongerExtentToACloserOne()
    {
        using var fs = MetadataTestFs.Create();
        var owned = Carve(fs, (1000, 10), (3000, 20));
        Assert.That(Alloc(fs, owned, XfsAllocRequest.Near(Ag, 1000, 5, 15)), Is.EqualTo(new XfsAgExtent(Ag, 3000, 15)));
    }

    [Test]
    public void ANearAllocationKeepsItsAlignment()
    {
        using var fs = MetadataTestFs.Create();
        var owned = Carve(fs, (1001, 30));
        var e = Alloc(fs, owned, XfsAllocRequest.Near(Ag, 1013, 8, 8, alignment: 8));
        Assert.That(e, Is.EqualTo(new XfsAgExtent(Ag, 1016, 8)));
    }

    [Test]
    public void FreeingMergesWithTheFreeNeighboursOnEitherSide()
    {
        using var fs = MetadataTestFs.Create();
        var owned = Carve(fs);
        Free(fs, owned, 1000, 10);
        Free(fs, owned, 1020, 10);
        Assert.That(Audit(fs, owned).Free, Is.EqualTo(new[] { new XfsAllocRecord(1000, 10), new XfsAllocRecord(1020, 10) }));
        Free(fs, owned, 1010, 10);
        Assert.That(Audit(fs, owned).Free, Is.EqualTo(new[] { new XfsAllocRecord(1000, 30) }));
        Free(fs, owned, 999, 1);
        Free(fs, owned, 1030, 2);
        var ag = Audit(fs, owned);
        Assert.Multiple(() =>
        {
            Assert.That(ag.Free, Is.EqualTo(new[] { new XfsAllocRecord(999, 33) }));
            Assert.That((ag.Agf.FreeBlks, ag.Agf.Longest), Is.EqualTo((33u, 33u)));
        });
    }

    [Test]
    public void FreeingBlocksThatAreAlreadyFreeIsCorruptionAndChangesNothing()
    {
        using var fs = MetadataTestFs.Create();
        var owned = Carve(fs, (1000, 10));
        using (var tp = fs.Begin())
        {
            var e = Assert.Throws<XfsCorruptionException>(() => XfsAlloc.Free(tp, Ag, 1005, 10));
            Assert.That(e!.Message, Does.Contain("overlaps free extent 1000+10"));
        }
        Assert.That(Audit(fs, owned).Free, Is.EqualTo(new[] { new XfsAllocRecord(1000, 10) }));
    }

    [Test]
    public void AskingForMoreThanTheLongestExtentIsEnospcAndChangesNoFreeSpace()
    {
        using var fs = MetadataTestFs.Create();
        var owned = Carve(fs, (1000, 10), (3000, 20));
        using (var tp = fs.Begin(64))
        {
            var e = Assert.Throws<XfsException>(() => XfsAlloc.Allocate(tp, XfsAllocRequest.Any(Ag, 21, 64)));
            Assert.That(e!.Errno, Is.EqualTo(Errno.ENOSPC));
            tp.Commit();
        }
        Assert.That(Audit(fs, owned).Free, Has.Count.EqualTo(2));
    }

    [Test]
    public void TheSuperblockFreeCountFollowsAllocationsAndFreesExactly()
    {
        using var fs = MetadataTestFs.Create();
        var owned = new OwnedExtents();
        ulong before = fs.Mount.Superblock.FdBlocks;
        var a = Alloc(fs, owned, XfsAllocRequest.Any(Ag, 7, 7));
        var b = Alloc(fs, owned, XfsAllocRequest.Near(1, 3000, 100, 100));
        Assert.That(fs.Mount.Superblock.FdBlocks, Is.EqualTo(before - 107));
        Free(fs, owned, a.AgBno, a.Length);
        Assert.That(fs.Mount.Superblock.FdBlocks, Is.EqualTo(before - 100));
        XfsSpaceAudit.Run(fs.Device.Device, owned.In);
        Assert.That(b.AgNo, Is.EqualTo(1u));
    }

    [Test]
    public void CancellingAnAllocationLeavesFreeSpaceAsItWas()
    {
        using var fs = MetadataTestFs.Create();
        var owned = Carve(fs, (1000, 10), (3000, 20));
        XfsAgExtent cancelled;
        using (var tp = fs.Begin(20))
        {
            cancelled = XfsAlloc.Allocate(tp, XfsAllocRequest.Any(Ag, 3, 3));
            tp.Cancel();
        }
        Assert.Multiple(() =>
        {
            Assert.That(Audit(fs, owned).Free, Has.Count.EqualTo(2));
            Assert.That(Alloc(fs, owned, XfsAllocRequest.Any(Ag, 3, 3)), Is.EqualTo(cancelled));
        });
    }

    [Test]
    public void AnAgThatCannotSupplyTheBlocksIsEnospcUpFront()
    {
        using var fs = MetadataTestFs.Create();
        var owned = Carve(fs, (1000, 10));
        using var tp = fs.Begin();
        Assert.DoesNotThrow(() => XfsAlloc.EnsureSpace(tp, Ag, 10));
        Assert.That(Assert.Throws<XfsException>(() => XfsAlloc.EnsureSpace(tp, Ag, 11))!.Errno, Is.EqualTo(Errno.ENOSPC));
    }

    [Test]
    public void AnAnyAgAllocationMovesOnWhenTheFirstAgIsFull()
    {
        using var fs = MetadataTestFs.Create();
        var owned = Carve(fs);
        using var tp = fs.Begin(8);
        Assert.That(XfsAlloc.TryAllocateAnyAg(tp, Ag, 8, 8, 1, out var e), Is.True);
        Assert.That(e.AgNo, Is.EqualTo(1u));
    }

    [Test]
    public void SplitsDrawOnTheFreeListAndTheNextAllocationRefillsIt()
    {
        using var fs = MetadataTestFs.Create();
        var owned = Carve(fs, (5000, 100));
        int maxLeaf = XfsBtreeKind.Bno.MaxRecords(4096, leaf: true);
        // Free every other block until both trees' root leaves are full.
        for (uint i = 0; i < maxLeaf - 1; i++)
            Free(fs, owned, 1000 + 2 * i, 1);
        var full = Audit(fs, owned);
        Free(fs, owned, 1000 + 2 * (uint)maxLeaf, 1);
        var split = Audit(fs, owned);
        // The refill takes from 5000 (the only extent of 4 or more); the exact allocation then
        // only shortens records, so no block moves on or off the free list after the refill.
        Alloc(fs, owned, XfsAllocRequest.Exact(Ag, 5050, 1, 1));
        var refilled = Audit(fs, owned);
        Assert.Multiple(() =>
        {
            Assert.That((full.Agf.BnoLevel, full.Agf.CntLevel, full.Free.Count), Is.EqualTo((1u, 1u, maxLeaf)));
            Assert.That((split.Agf.BnoLevel, split.Agf.CntLevel), Is.EqualTo((2u, 2u)));
            Assert.That(split.Agf.FlCount, Is.EqualTo(full.Agf.FlCount - 4), "a new leaf and a new root for each tree");
            Assert.That(split.Agf.BtreeBlks, Is.EqualTo(4u));
            Assert.That(refilled.Agf.FlCount, Is.EqualTo(XfsAlloc.MinFreeList(fs.Mount, refilled.Agf)));
            Assert.That(refilled.Agfl, Is.SupersetOf(new uint[] { 5000, 5001, 5002, 5003 }));
        });
    }

    [Test]
    public void JoinsReturnBlocksToTheFreeListAndTheNextAllocationTrimsTheSurplus()
    {
        using var fs = MetadataTestFs.Create();
        var owned = Carve(fs);
        int maxLeaf = XfsBtreeKind.Bno.MaxRecords(4096, leaf: true);
        for (uint i = 0; i <= maxLeaf; i++)
            Free(fs, owned, 1000 + 2 * i, 1);
        Assert.That(Audit(fs, owned).Agf.BnoLevel, Is.EqualTo(2u));
        // Filling the holes merges extents until both trees fit one leaf again.
        XfsSpaceAudit.AgContents joined;
        uint hole = 1001;
        do
        {
            Free(fs, owned, hole, 1);
            hole += 2;
            joined = Audit(fs, owned);
        }
        while (joined.Agf.BnoLevel > 1 || joined.Agf.CntLevel > 1);
        Alloc(fs, owned, XfsAllocRequest.Any(Ag, 1, 1));
        var trimmed = Audit(fs, owned);
        Assert.Multiple(() =>
        {
            Assert.That(joined.Agf.BtreeBlks, Is.Zero);
            Assert.That(joined.Agf.FlCount, Is.GreaterThan(XfsAlloc.MinFreeList(fs.Mount, joined.Agf)));
            Assert.That(trimmed.Agf.FlCount, Is.EqualTo(XfsAlloc.MinFreeList(fs.Mount, trimmed.Agf)));
        });
    }
}
