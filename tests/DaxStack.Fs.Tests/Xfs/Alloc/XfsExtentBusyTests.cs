using DaxStack.Device.Crash;
using DaxStack.Fs.Tests.Xfs.Mount;
using DaxStack.Fs.Tests.Xfs.Trans;
using DaxStack.Fs.Xfs.Alloc;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Tests.Xfs.Alloc;

/// <summary>Busy extents: freed blocks are not handed out again until their free is durable in the log.</summary>
public class XfsExtentBusyTests
{
    [Test]
    public void FreedBlocksStayBusyUntilTheFreeIsForced()
    {
        using var fs = MountedFs.Create();
        var (e, seq) = fs.Allocate(XfsAllocRequest.Near(1, 5000, 16, 16));
        fs.Mount.ForceLog(seq);
        long freeSeq = fs.Free(e);
        Assert.Multiple(() =>
        {
            Assert.That(fs.Mount.Busy.IsBusy(e.AgNo, e.AgBno, e.Length), Is.True);
            Assert.That(fs.Mount.Busy.Count(e.AgNo), Is.EqualTo(1));
        });
        fs.Mount.ForceLog(freeSeq);
        Assert.Multiple(() =>
        {
            Assert.That(fs.Mount.Busy.IsBusy(e.AgNo, e.AgBno, e.Length), Is.False);
            Assert.That(fs.Mount.Busy.TotalCount, Is.Zero);
        });
    }

    [Test]
    public void ANearAllocationSkipsBusyBlocksWithoutForcingWhileOtherSpaceIsFree()
    {
        using var fs = MountedFs.Create();
        var (e, seq) = fs.Allocate(XfsAllocRequest.Near(1, 5000, 16, 16));
        fs.Mount.ForceLog(seq);
        fs.Free(e);
        int forces = fs.Mount.Log!.Forces;
        var (again, _) = fs.Allocate(XfsAllocRequest.Near(1, e.AgBno, 16, 16));
        Assert.Multiple(() =>
        {
            Assert.That(again.AgBno >= e.End || again.End <= e.AgBno, Is.True, $"{again} overlaps the busy {e}");
            Assert.That(fs.Mount.Log.Forces, Is.EqualTo(forces), "no force was needed");
        });
    }

    [Test]
    public void AnAllocationThatOnlyBusyBlocksCanSatisfyForcesTheLogAndGetsThem()
    {
        using var fs = MountedFs.Create();
        var (e, seq) = fs.Allocate(XfsAllocRequest.Near(1, 5000, 16, 16));
        fs.Mount.ForceLog(seq);
        long freeSeq = fs.Free(e);
        Assert.That(fs.Mount.ForcedSequence, Is.LessThan(freeSeq));
        var (again, _) = fs.Allocate(XfsAllocRequest.Exact(e.AgNo, e.AgBno, e.Length, e.Length));
        Assert.Multiple(() =>
        {
            Assert.That(again, Is.EqualTo(e));
            Assert.That(fs.Mount.ForcedSequence, Is.GreaterThanOrEqualTo(freeSeq), "the free was made durable first");
        });
    }

    [Test]
    public void TheFreeingTransactionItselfCannotReuseTheBlocks()
    {
        using var fs = MountedFs.Create();
        var (e, seq) = fs.Allocate(XfsAllocRequest.Near(0, 3000, 4, 4));
        fs.Mount.ForceLog(seq);
        using var tp = XfsTransaction.Begin(fs.Mount, 8);
        XfsAlloc.Free(tp, e.AgNo, e.AgBno, e.Length);
        Assert.That(XfsAlloc.TryAllocate(tp, XfsAllocRequest.Exact(e.AgNo, e.AgBno, 1, 4), out _), Is.False, "its own free is not durable either");
        tp.Cancel();
        Assert.That(fs.Mount.Busy.TotalCount, Is.Zero, "a cancelled free leaves nothing busy");
    }

    [Test]
    public void AFreeLostInACrashLeavesItsBlocksWithTheirOwnerAndNobodyElse()
    {
        using var fs = MountedFs.Create();
        var (e, seq) = fs.Allocate(XfsAllocRequest.Near(1, 5000, 8, 8));
        fs.Mount.ForceLog(seq);
        fs.Free(e);
        // Another owner takes space near it (not the busy blocks); neither is forced.
        var (other, _) = fs.Allocate(XfsAllocRequest.Near(1, e.AgBno, 8, 8));
        Assert.That(other.AgBno >= e.End || other.End <= e.AgBno, Is.True);
        fs.CrashAndRemount(CrashPolicy.Strict);
        var owned = new OwnedExtents();
        owned.Add(e);
        XfsSpaceAudit.Run(fs.Device.Device, owned.In);
    }

    [Test]
    public void WithoutAJournalFreedBlocksAreReusableAtCommit()
    {
        using var fs = MetadataTestFs.Create();
        XfsAgExtent e;
        using (var tp = fs.Begin(8))
        {
            e = XfsAlloc.Allocate(tp, XfsAllocRequest.Near(0, 3000, 4, 4));
            tp.Commit();
        }
        using (var tp = fs.Begin())
        {
            XfsAlloc.Free(tp, e.AgNo, e.AgBno, e.Length);
            tp.Commit();
        }
        Assert.That(fs.Mount.Busy.TotalCount, Is.Zero);
    }
}
