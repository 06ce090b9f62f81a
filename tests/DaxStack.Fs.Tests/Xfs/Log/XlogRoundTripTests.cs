using DaxStack.Fs.Xfs.Log;

namespace DaxStack.Fs.Tests.Xfs.Log;

public class XlogRoundTripTests
{
    [Test]
    public void AFreshMkfsLogIsCleanWithNothingToReplay()
    {
        using var rig = LogRig.Create(1024);
        var r = rig.Read();
        Assert.Multiple(() =>
        {
            Assert.That(r.IsClean, Is.True);
            Assert.That(r.Transactions, Is.Empty);
            Assert.That((r.HeadCycle, r.HeadBlock, r.LastRecordBlock), Is.EqualTo((1u, 2u, 0)));
        });
    }

    [Test]
    public void ForcedTransactionsReadBackInCommitOrder()
    {
        using var rig = LogRig.Create(2048);
        var writer = rig.Writer();
        var rng = new Random(1);
        var sent = new List<XlogTransaction>();
        for (uint tid = 1; tid <= 20; tid++)
        {
            var t = LogRig.Transaction(tid, rng, rng.Next(0, 6));
            Assert.That(writer.Append(t, out _), Is.EqualTo(XlogStatus.Ok));
            sent.Add(t);
            if (tid % 7 == 0)
                Assert.That(writer.Force(), Is.EqualTo(XlogStatus.Ok));
        }
        Assert.That(writer.Force(), Is.EqualTo(XlogStatus.Ok));
        var r = rig.Read();
        LogRig.AssertSame(r.Transactions, sent);
        Assert.Multiple(() =>
        {
            Assert.That(r.IsClean, Is.False);
            Assert.That(r.HeadLsn, Is.EqualTo(writer.HeadLsn));
            Assert.That(r.StaleRecords, Is.Empty);
        });
    }

    [Test]
    public void ATransactionLargerThanARecordIsSplitAcrossRecordsAndReassembled()
    {
        using var rig = LogRig.Create(4096);
        var writer = rig.Writer();
        var rng = new Random(2);
        // 100 KiB in one region and several 20 KiB ones: each needs several 32 KiB records.
        var big = new XlogTransaction(7, [.. LogRig.Transaction(7, rng, 1, 100_000).Regions, .. LogRig.Transaction(7, rng, 5, 20_000).Regions]);
        var small = LogRig.Transaction(8, rng, 2);
        Assert.That(writer.Append(big, out ulong start), Is.EqualTo(XlogStatus.Ok));
        Assert.That(writer.Append(small, out _), Is.EqualTo(XlogStatus.Ok));
        Assert.That(writer.Force(), Is.EqualTo(XlogStatus.Ok));
        var r = rig.Read();
        LogRig.AssertSame(r.Transactions, [big, small]);
        Assert.Multiple(() =>
        {
            Assert.That(start, Is.EqualTo((1UL << 32) | 2), "the big transaction starts in the first record after mkfs's");
            Assert.That(r.RecordCount, Is.GreaterThanOrEqualTo(1 + 100_000 / 32_256 + 1), "mkfs's record, then at least four 32 KiB records");
        });
    }

    [Test]
    public void TheLogWrapsIntoCycleTwoWhenTheTailFollows()
    {
        using var rig = LogRig.Create(300);
        var writer = rig.Writer();
        var rng = new Random(3);
        var sent = new List<(ulong Start, XlogTransaction T)>();
        for (uint tid = 1; tid <= 200; tid++)
        {
            var t = LogRig.Transaction(tid, rng, rng.Next(1, 4), 2000);
            var status = writer.Append(t, out ulong start);
            if (status == XlogStatus.LogFull)
            {
                // Push: everything but the last two transactions is home; the tail moves to the older one's record.
                Assert.That(writer.Force(), Is.EqualTo(XlogStatus.Ok));
                writer.MoveTail(sent[^2].Start);
                status = writer.Append(t, out start);
            }
            Assert.That(status, Is.EqualTo(XlogStatus.Ok), $"transaction {tid}");
            sent.Add((start, t));
        }
        Assert.That(writer.Force(), Is.EqualTo(XlogStatus.Ok));
        var r = rig.Read();
        Assert.That(r.HeadCycle, Is.GreaterThanOrEqualTo(2u), "the log wrapped");
        Assert.That(r.TailLsn, Is.EqualTo(writer.TailLsn));
        // Replay starts at the tail record: every transaction that starts in it or later.
        LogRig.AssertSame(r.Transactions, [.. sent.Where(x => x.Start >= r.TailLsn).Select(x => x.T)]);
        Assert.That(r.Transactions, Has.Count.GreaterThan(2));
    }

    [Test]
    public void AnAppendThatWouldPassTheTailIsRefusedAndLeavesTheLogIntact()
    {
        using var rig = LogRig.Create(200);
        var writer = rig.Writer();
        var rng = new Random(4);
        var accepted = new List<uint>();
        XlogStatus status;
        uint tid = 1;
        while ((status = writer.Append(LogRig.Transaction(tid, rng, 2, 3000), out _)) == XlogStatus.Ok)
            accepted.Add(tid++);
        Assert.That(status, Is.EqualTo(XlogStatus.LogFull));
        Assert.That(status.ToErrno(), Is.EqualTo(DaxStack.Device.Errors.Errno.ENOSPC));
        Assert.That(writer.Force(), Is.EqualTo(XlogStatus.Ok));
        var r = rig.Read();
        Assert.That(r.Transactions.Select(c => c.Transaction.Tid), Is.EqualTo(accepted), "every accepted transaction, nothing of the refused one");
        Assert.That(r.Transactions, Has.Count.GreaterThan(5));
    }

    [Test]
    public void ARegionOutsideItsBufferIsRefused()
    {
        using var rig = LogRig.Create(200);
        var writer = rig.Writer();
        var bad = new XlogTransaction(1, [new XlogRegion(8, 512, 500, new byte[20])]);
        Assert.That(writer.Append(bad, out _), Is.EqualTo(XlogStatus.InvalidRegion));
    }

    [Test]
    public void AnUnmountRecordAfterWritesLeavesACleanLogWithNothingToReplay()
    {
        using var rig = LogRig.Create(1024);
        var writer = rig.Writer();
        var rng = new Random(5);
        for (uint tid = 1; tid <= 5; tid++)
            Assert.That(writer.Append(LogRig.Transaction(tid, rng, 3), out _), Is.EqualTo(XlogStatus.Ok));
        Assert.That(writer.WriteUnmountRecord(), Is.EqualTo(XlogStatus.Ok));
        var r = rig.Read();
        Assert.Multiple(() =>
        {
            Assert.That(r.IsClean, Is.True);
            Assert.That(r.Transactions, Is.Empty);
            Assert.That(r.TailLsn, Is.EqualTo(((ulong)r.HeadCycle << 32) | (uint)r.LastRecordBlock));
        });
        // A remount continues after the unmount record, and the log is dirty again.
        var again = rig.Writer();
        var t = LogRig.Transaction(9, rng, 1);
        Assert.That(again.Append(t, out _), Is.EqualTo(XlogStatus.Ok));
        Assert.That(again.Force(), Is.EqualTo(XlogStatus.Ok));
        var r2 = rig.Read();
        Assert.That(r2.IsClean, Is.False);
        LogRig.AssertSame(r2.Transactions, [t]);
    }
}
