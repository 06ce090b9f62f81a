using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Tests.Xfs.OnDisk;

public class XfsBmbtRecordTests
{
    [Test]
    public void PacksAsMkfsXfsDidForAFiveBlockExtent()
    {
        // u3.bmx[0] = [0,20,5,0] of a 20000-byte file made by mkfs.xfs -p.
        var bytes = new byte[16];
        new XfsBmbtRecord(0, 20, 5, false).WriteTo(bytes);
        Assert.That(Convert.ToHexString(bytes), Is.EqualTo("00000000000000000000000002800005"));
    }

    [Test]
    public void EveryFieldSurvivesAtItsLargestValue()
    {
        var record = new XfsBmbtRecord(XfsBmbtRecord.MaxStartOff, XfsBmbtRecord.MaxStartBlock, XfsBmbtRecord.MaxBlockCount, true);
        var bytes = new byte[16];
        record.WriteTo(bytes);
        Assert.Multiple(() =>
        {
            Assert.That(XfsBmbtRecord.ReadFrom(bytes), Is.EqualTo(record));
            Assert.That(bytes, Is.All.EqualTo((byte)0xFF));
        });
    }

    [Test]
    public void TheUnwrittenFlagIsTheTopBit()
    {
        var bytes = new byte[16];
        new XfsBmbtRecord(1, 2, 3, true).WriteTo(bytes);
        Assert.That(bytes[0], Is.EqualTo((byte)0x80));
    }

    [Test]
    public void AnExtentLongerThan21BitsIsRefused()
    {
        Assert.Throws<InvalidOperationException>(() => new XfsBmbtRecord(0, 1, XfsBmbtRecord.MaxBlockCount + 1, false).WriteTo(new byte[16]));
    }
}
