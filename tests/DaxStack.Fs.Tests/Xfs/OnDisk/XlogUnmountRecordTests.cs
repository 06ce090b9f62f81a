using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Tests.Xfs.OnDisk;

public class XlogUnmountRecordTests
{
    [Test]
    public void TheCleanLogRecordIsByteForByteWhatMkfsXfsWrites()
    {
        var bytes = new byte[1024];
        XlogUnmountRecord.Write(bytes, MkfsXfsGolden.Uuid);
        // From the 64 MiB mkfs.xfs image at sb_logstart: header sector, then the data sector.
        var expected = new byte[1024];
        Convert.FromHexString("feedbabe0000000100000002000002000000000100000000000000010000000000000000ffffffff00000001b0c0d0d0").CopyTo(expected, 0);
        Convert.FromHexString("000000013b7a1e817bd244f1939ab79991af432e00008000").CopyTo(expected, 0x12c);
        Convert.FromHexString("0000000100000008aa2000006e550000").CopyTo(expected, 0x200);
        Assert.That(bytes, Is.EqualTo(expected));
    }

    [Test]
    public void ReadingBackRestoresTheCycleStampedWord()
    {
        var bytes = new byte[1024];
        XlogUnmountRecord.Write(bytes, MkfsXfsGolden.Uuid);
        var record = XlogUnmountRecord.ReadFrom(bytes, 0);
        Assert.Multiple(() =>
        {
            Assert.That(record.Header.Cycle, Is.EqualTo(1u));
            Assert.That(record.Header.Lsn, Is.EqualTo(XlogRecordHeader.MakeLsn(1, 0)));
            Assert.That(record.Header.HSize, Is.EqualTo(32768u));
            Assert.That(record.Header.FsUuid, Is.EqualTo(MkfsXfsGolden.Uuid));
            Assert.That(record.Op.Tid, Is.EqualTo(XlogUnmountRecord.MkfsTid));
            Assert.That(record.Op.Flags, Is.EqualTo(XlogOpHeader.UnmountTrans));
        });
    }

    [Test]
    public void ARecordThatIsNotAnUnmountRecordMeansTheLogIsNotClean()
    {
        var bytes = new byte[1024];
        XlogUnmountRecord.Write(bytes, MkfsXfsGolden.Uuid);
        bytes[0x200 + 9] = XlogOpHeader.CommitTrans;
        var e = Assert.Throws<XfsCorruptionException>(() => XlogUnmountRecord.ReadFrom(bytes, 0));
        Assert.That(e!.Message, Is.EqualTo("log record at block 0: not an unmount record: the log is not clean"));
    }

    [Test]
    public void AZeroedLogHasNoRecordHeader()
    {
        var e = Assert.Throws<XfsCorruptionException>(() => XlogUnmountRecord.ReadFrom(new byte[1024], 0));
        Assert.That(e!.Message, Does.StartWith("log record at block 0: bad magic number 0x0 (expected 0xfeedbabe)"));
    }

    [Test]
    public void ARecordFromAnotherBlockIsRefused()
    {
        var bytes = new byte[1024];
        XlogUnmountRecord.Write(bytes, MkfsXfsGolden.Uuid, cycle: 1, block: 0);
        var e = Assert.Throws<XfsCorruptionException>(() => XlogUnmountRecord.ReadFrom(bytes, 8));
        Assert.That(e!.Message, Does.StartWith("log record at block 8: bad h_lsn 1,0"));
    }
}
