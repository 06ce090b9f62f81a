using DaxStack.Driver.Block;
using DaxStack.Fs.Tests.Xfs.Alloc;
using DaxStack.Fs.Tests.Xfs.Trans;
using DaxStack.Fs.Xfs;
using DaxStack.Fs.Xfs.Alloc;
using DaxStack.Fs.Xfs.Btree;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Tests.Xfs.Btree;

public class XfsBtreeCursorTests
{
    private const uint Ag = 1;

    private static XfsRefcountRecord Rec(uint start) => new(start, 1, 2);

    private static void InsertAll(MetadataTestFs fs, XfsBtreeOps<XfsRefcountRecord> ops, IEnumerable<uint> starts)
    {
        foreach (uint s in starts)
        {
            using var tp = fs.Begin(16);
            new XfsBtreeCursor<XfsRefcountRecord>(tp, Ag, ops).Insert(Rec(s));
            tp.Commit();
        }
    }

    private static List<uint> Starts(MetadataTestFs fs, XfsBtreeOps<XfsRefcountRecord> ops)
    {
        using var tp = fs.Begin();
        return [.. new XfsBtreeCursor<XfsRefcountRecord>(tp, Ag, ops).ReadAll().Select(r => r.StartBlock)];
    }

    [Test]
    public void AnEmptyTreeFindsNothingInAnyDirection()
    {
        using var fs = MetadataTestFs.Create();
        using var tp = fs.Begin();
        var cur = new XfsBtreeCursor<XfsRefcountRecord>(tp, Ag, XfsRefcountBtreeOps.Instance);
        Assert.Multiple(() =>
        {
            Assert.That(cur.LookupEq(Rec(10)), Is.False);
            Assert.That(cur.LookupLe(Rec(10)), Is.False);
            Assert.That(cur.LookupGe(Rec(10)), Is.False);
            Assert.That(cur.MoveFirst(), Is.False);
            Assert.That(cur.TryGetRecord(out _), Is.False);
            Assert.That(cur.Levels, Is.EqualTo(1));
        });
    }

    [Test]
    public void LookupsFindTheEqualTheLastNotAboveAndTheFirstNotBelow()
    {
        using var fs = MetadataTestFs.Create();
        var ops = new SmallFanoutRefcountOps(4, 4);
        InsertAll(fs, ops, Enumerable.Range(1, 40).Select(i => (uint)(i * 10)));
        using var tp = fs.Begin();
        var cur = new XfsBtreeCursor<XfsRefcountRecord>(tp, Ag, ops);
        uint Found() => cur.GetRecord().StartBlock;
        Assert.Multiple(() =>
        {
            Assert.That(cur.Levels, Is.GreaterThanOrEqualTo(3));
            Assert.That(cur.LookupEq(Rec(250)) ? Found() : 0, Is.EqualTo(250u));
            Assert.That(cur.LookupEq(Rec(255)), Is.False);
            Assert.That(cur.LookupLe(Rec(255)) ? Found() : 0, Is.EqualTo(250u));
            Assert.That(cur.LookupGe(Rec(255)) ? Found() : 0, Is.EqualTo(260u));
            Assert.That(cur.LookupLe(Rec(5)), Is.False, "nothing at or below 5");
            Assert.That(cur.LookupGe(Rec(5)) ? Found() : 0, Is.EqualTo(10u));
            Assert.That(cur.LookupGe(Rec(401)), Is.False, "nothing at or above 401");
            Assert.That(cur.LookupLe(Rec(9999)) ? Found() : 0, Is.EqualTo(400u));
        });
    }

    [Test]
    public void IncrementAndDecrementWalkEveryRecordAcrossLeavesAndParents()
    {
        using var fs = MetadataTestFs.Create();
        var ops = new SmallFanoutRefcountOps(4, 4);
        var starts = Enumerable.Range(1, 60).Select(i => (uint)(i * 3)).ToList();
        InsertAll(fs, ops, starts.OrderBy(s => (s * 7919) % 61));
        using var tp = fs.Begin();
        var cur = new XfsBtreeCursor<XfsRefcountRecord>(tp, Ag, ops);
        var forward = new List<uint>();
        for (bool ok = cur.MoveFirst(); ok; ok = cur.Increment())
            forward.Add(cur.GetRecord().StartBlock);
        var backward = new List<uint>();
        for (bool ok = cur.MoveLast(); ok; ok = cur.Decrement())
            backward.Add(cur.GetRecord().StartBlock);
        Assert.Multiple(() =>
        {
            Assert.That(forward, Is.EqualTo(starts));
            Assert.That(backward, Is.EqualTo(Enumerable.Reverse(starts)));
        });
    }

    [Test]
    public void FillingTheRootLeafSplitsItUnderANewRootRecordedInTheAgf()
    {
        using var fs = MetadataTestFs.Create();
        int max = XfsBtreeKind.Refcount.MaxRecords(4096, leaf: true);
        InsertAll(fs, XfsRefcountBtreeOps.Instance, Enumerable.Range(1, max).Select(i => (uint)i));
        var before = XfsSpaceAudit.Run(fs.Device.Device)[(int)Ag].Agf;
        InsertAll(fs, XfsRefcountBtreeOps.Instance, [(uint)max + 1]);
        var after = XfsSpaceAudit.Run(fs.Device.Device)[(int)Ag];
        Assert.Multiple(() =>
        {
            Assert.That(before.RefcountLevel, Is.EqualTo(1u));
            Assert.That(after.Agf.RefcountLevel, Is.EqualTo(2u));
            Assert.That(after.Agf.RefcountBlocks, Is.EqualTo(3u), "root node and two leaves");
            Assert.That(after.Agf.RefcountRoot, Is.Not.EqualTo(before.RefcountRoot));
            Assert.That(after.Refcounts, Has.Count.EqualTo(max + 1));
            Assert.That(fs.Mount.Superblock.FdBlocks, Is.EqualTo(XfsMetadataReader.Open(fs.Device.Device).Superblock.FdBlocks));
        });
    }

    [Test]
    public void DeletingEveryRecordShrinksTheTreeToOneEmptyLeafAndGivesItsBlocksBack()
    {
        using var fs = MetadataTestFs.Create();
        var ops = new SmallFanoutRefcountOps(4, 4);
        ulong freeBefore = fs.Mount.Superblock.FdBlocks;
        var starts = Enumerable.Range(1, 200).Select(i => (uint)(i * 5)).ToList();
        InsertAll(fs, ops, starts);
        int tallest = XfsSpaceAudit.Run(fs.Device.Device, refcountLimits: (4, 4))[(int)Ag].TreeBlocks[XfsBtreeKind.Refcount].Count;
        foreach (uint s in starts.OrderBy(s => (s * 31) % 1009))
        {
            using var tp = fs.Begin(16);
            var cur = new XfsBtreeCursor<XfsRefcountRecord>(tp, Ag, ops);
            Assert.That(cur.LookupEq(Rec(s)), Is.True);
            cur.Delete();
            tp.Commit();
        }
        var ag = XfsSpaceAudit.Run(fs.Device.Device, refcountLimits: (4, 4))[(int)Ag];
        Assert.Multiple(() =>
        {
            Assert.That(tallest, Is.GreaterThan(50));
            Assert.That(ag.Refcounts, Is.Empty);
            Assert.That(ag.Agf.RefcountLevel, Is.EqualTo(1u));
            Assert.That(ag.Agf.RefcountBlocks, Is.EqualTo(1u));
            Assert.That(fs.Mount.Superblock.FdBlocks, Is.EqualTo(freeBefore));
        });
    }

    [Test]
    public void DeleteLeavesTheCursorOnTheFollowingRecord()
    {
        using var fs = MetadataTestFs.Create();
        var ops = new SmallFanoutRefcountOps(4, 4);
        InsertAll(fs, ops, Enumerable.Range(1, 30).Select(i => (uint)i));
        using var tp = fs.Begin(16);
        var cur = new XfsBtreeCursor<XfsRefcountRecord>(tp, Ag, ops);
        Assert.That(cur.LookupEq(Rec(12)), Is.True);
        cur.Delete();
        Assert.That(cur.GetRecord().StartBlock, Is.EqualTo(13u));
    }

    [Test]
    public void UpdatingTheFirstRecordOfALeafCarriesTheNewKeyUpToTheRoot()
    {
        using var fs = MetadataTestFs.Create();
        var ops = new SmallFanoutRefcountOps(4, 4);
        InsertAll(fs, ops, Enumerable.Range(1, 50).Select(i => (uint)(i * 10)));
        using (var tp = fs.Begin())
        {
            var cur = new XfsBtreeCursor<XfsRefcountRecord>(tp, Ag, ops);
            Assert.That(cur.LookupEq(Rec(10)), Is.True);
            cur.Update(new XfsRefcountRecord(7, 3, 5));
            tp.Commit();
        }
        var ag = XfsSpaceAudit.Run(fs.Device.Device, refcountLimits: (4, 4))[(int)Ag];
        Assert.That(ag.Refcounts[0], Is.EqualTo(new XfsRefcountRecord(7, 3, 5)));
    }

    [Test]
    public void AnUpdateThatWouldBreakKeyOrderIsRefused()
    {
        using var fs = MetadataTestFs.Create();
        InsertAll(fs, XfsRefcountBtreeOps.Instance, [10, 20, 30]);
        using var tp = fs.Begin();
        var cur = new XfsBtreeCursor<XfsRefcountRecord>(tp, Ag, XfsRefcountBtreeOps.Instance);
        Assert.That(cur.LookupEq(Rec(20)), Is.True);
        Assert.Throws<InvalidOperationException>(() => cur.Update(Rec(35)));
    }

    [Test]
    public void InsertingARecordWhoseKeyIsThereAlreadyIsCorruption()
    {
        using var fs = MetadataTestFs.Create();
        InsertAll(fs, XfsRefcountBtreeOps.Instance, [10, 20]);
        using var tp = fs.Begin(16);
        var cur = new XfsBtreeCursor<XfsRefcountRecord>(tp, Ag, XfsRefcountBtreeOps.Instance);
        var e = Assert.Throws<XfsCorruptionException>(() => cur.Insert(new XfsRefcountRecord(20, 4, 3)));
        Assert.That(e!.Message, Does.Contain("a record with its key is already there"));
    }

    [Test]
    public void ANodePointingOutsideTheAgIsReportedAsCorruptionNotACrash()
    {
        using var fs = MetadataTestFs.Create();
        var ops = new SmallFanoutRefcountOps(4, 4);
        InsertAll(fs, ops, Enumerable.Range(1, 12).Select(i => (uint)i));
        var geo = fs.Mount.Geometry;
        uint root = XfsSpaceAudit.Run(fs.Device.Device, refcountLimits: (4, 4))[(int)Ag].Agf.RefcountRoot;
        // Point the root's first child far outside the AG and fix up the CRC, as a buggy writer would.
        long offset = geo.AgBlockOffset(Ag, root);
        var block = new byte[4096];
        Assert.That(fs.Device.Device.Read(offset, block), Is.EqualTo(BlkStatus.Ok));
        int ptr0 = XfsBtreeShortBlock.HeaderSize + XfsBtreeKind.Refcount.MaxRecords(4096, leaf: false) * 4;
        Be.Put32(block, ptr0, 0x00FFFFFF);
        XfsCrc.Stamp(block, XfsFormat.ShortBtreeCrcOffset);
        Assert.That(fs.Device.Device.Write(offset, block), Is.EqualTo(BlkStatus.Ok));
        fs.Remount();

        using var tp = fs.Begin();
        var e = Assert.Throws<XfsCorruptionException>(() => new XfsBtreeCursor<XfsRefcountRecord>(tp, Ag, ops).LookupEq(Rec(1)));
        Assert.That(e!.Message, Does.Contain("pointer outside the AG"));
    }

    [Test]
    public void AChangeLogsTheHeaderAndOnlyTheRecordsThatMoved()
    {
        var committer = new KeepDirtyCommitter();
        using var fs = MetadataTestFs.Create(options: new DaxStack.Fs.Xfs.Trans.XfsMountOptions { Committer = committer });
        InsertAll(fs, XfsRefcountBtreeOps.Instance, [10, 20, 30, 40]);
        committer.Commits.Clear();
        InsertAll(fs, XfsRefcountBtreeOps.Instance, [25]);
        var leaf = committer.Commits.Single().Single(b => b.Buffer.StartsWith("refcountbt"));
        int rec3 = XfsBtreeShortBlock.HeaderSize + 2 * XfsRefcountRecord.Size;
        Assert.That(leaf.Ranges, Is.EqualTo(new[]
        {
            new DaxStack.Fs.Xfs.Trans.XfsBufferRange(6, 2), // bb_numrecs
            new DaxStack.Fs.Xfs.Trans.XfsBufferRange(rec3, 3 * XfsRefcountRecord.Size), // records 3 to 5 (25, 30, 40)
        }));
    }
}
