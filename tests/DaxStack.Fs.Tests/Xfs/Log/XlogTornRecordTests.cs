using DaxStack.Fs.Xfs.Log;

namespace DaxStack.Fs.Tests.Xfs.Log;

public class XlogTornRecordTests
{
    [TestCase(0, 100, TestName = "ADamagedHeaderEndsTheLogBeforeIt")]
    [TestCase(1, 200, TestName = "ADamagedDataByteEndsTheLogBeforeIt")]
    [TestCase(1, 0, TestName = "AnOldCycleStampInADataSectorEndsTheLogBeforeIt")]
    public void ATornRecordAtTheHeadIsNotReplayed(int sector, int offset)
    {
        using var rig = LogRig.Create(1024);
        var writer = rig.Writer();
        var rng = new Random(21);
        var t1 = LogRig.Transaction(1, rng, 3);
        Assert.That(writer.Append(t1, out _), Is.EqualTo(XlogStatus.Ok));
        Assert.That(writer.Force(), Is.EqualTo(XlogStatus.Ok));
        uint second = (uint)writer.HeadLsn;
        Assert.That(writer.Append(LogRig.Transaction(2, rng, 3), out _), Is.EqualTo(XlogStatus.Ok));
        Assert.That(writer.Force(), Is.EqualTo(XlogStatus.Ok));
        Assert.That(rig.Read().Transactions, Has.Count.EqualTo(2));

        // Offset 0 of a data sector is its cycle word: put back cycle 0, as a sector never written.
        rig.Modify(second + (uint)sector, b =>
        {
            if (sector == 1 && offset == 0)
                b.AsSpan(0, 4).Clear();
            else
                b[offset] ^= 0x5a;
        });
        var r = rig.Read();
        LogRig.AssertSame(r.Transactions, [t1]);
        Assert.That(r.HeadBlock, Is.EqualTo(second));
    }

    [Test]
    public void AnIntactRecordAfterATornOneIsNotReplayedAndAResumedWriterErasesIt()
    {
        using var rig = LogRig.Create(1024);
        var writer = rig.Writer();
        var rng = new Random(22);
        var t1 = LogRig.Transaction(1, rng, 2);
        Assert.That(writer.Append(t1, out _), Is.EqualTo(XlogStatus.Ok));
        Assert.That(writer.Force(), Is.EqualTo(XlogStatus.Ok));
        uint torn = (uint)writer.HeadLsn;
        Assert.That(writer.Append(LogRig.Transaction(2, rng, 2), out _), Is.EqualTo(XlogStatus.Ok));
        Assert.That(writer.Force(), Is.EqualTo(XlogStatus.Ok));
        uint later = (uint)writer.HeadLsn;
        Assert.That(writer.Append(LogRig.Transaction(3, rng, 1, 100), out _), Is.EqualTo(XlogStatus.Ok));
        Assert.That(writer.Force(), Is.EqualTo(XlogStatus.Ok));
        rig.Modify(torn + 1, b => b[300] ^= 0xEE);

        var r = rig.Read();
        LogRig.AssertSame(r.Transactions, [t1]);
        Assert.That(r.StaleRecords.Select(s => s.Block), Is.EqualTo(new[] { later }));

        // A small record where the torn one was must not chain into the stale one after it.
        var resumed = rig.Writer();
        var t4 = LogRig.Transaction(4, rng, 1, 20);
        Assert.That(resumed.Append(t4, out _), Is.EqualTo(XlogStatus.Ok));
        Assert.That(resumed.Force(), Is.EqualTo(XlogStatus.Ok));
        var r2 = rig.Read();
        LogRig.AssertSame(r2.Transactions, [t1, t4]);
        Assert.That(r2.StaleRecords, Is.Empty);
    }
}
