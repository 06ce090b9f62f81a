using DaxStack.Device.Errors;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Tests.Xfs.OnDisk;

public class XfsAgHeaderTests
{
    private const int AgflSize = 119;

    [Test]
    public void ReadsTheAgfMkfsXfsWroteAndWritesItBackByteForByte()
    {
        var golden = MkfsXfsGolden.Agf0();
        var agf = XfsAgf.ReadFrom(golden, 0, AgflSize);
        var written = new byte[512];
        agf.WriteTo(written);
        Assert.Multiple(() =>
        {
            Assert.That(agf.Length, Is.EqualTo(4096u));
            Assert.That((agf.BnoRoot, agf.CntRoot, agf.RefcountRoot), Is.EqualTo((1u, 2u, 5u)));
            Assert.That((agf.FlFirst, agf.FlLast, agf.FlCount), Is.EqualTo((1u, 4u, 4u)));
            Assert.That((agf.FreeBlks, agf.Longest), Is.EqualTo((4078u, 4076u)));
            Assert.That(agf.Uuid, Is.EqualTo(MkfsXfsGolden.Uuid));
            Assert.That(written, Is.EqualTo(golden));
        });
    }

    [Test]
    public void AgfCrcIsStampedAtOffset216()
    {
        var agf = XfsAgf.ReadFrom(MkfsXfsGolden.Agf0(), 0, AgflSize);
        agf.FreeBlks = 100;
        var bytes = new byte[512];
        agf.WriteTo(bytes);
        Assert.That(XfsCrc.Stored(bytes, 216), Is.EqualTo(XfsCrc.Compute(bytes, 216)));
    }

    [TestCase(52 * 8)]       // agf_freeblks
    [TestCase(16 * 8 + 31)]  // agf_roots[0]
    [TestCase(300 * 8)]      // padding
    public void AFlippedAgfBitIsACrcMismatchNamingTheAg(int bit)
    {
        var bytes = MkfsXfsGolden.Agf0();
        bytes[bit / 8] ^= (byte)(1 << (bit % 8));
        var e = Assert.Throws<XfsCorruptionException>(() => XfsAgf.ReadFrom(bytes, 0, AgflSize));
        Assert.Multiple(() =>
        {
            Assert.That(e!.Message, Is.EqualTo("agf 0: CRC mismatch"));
            Assert.That(e.Errno, Is.EqualTo(Errno.EBADMSG));
        });
    }

    [Test]
    public void AnAgfReadAsAnotherAgsIsRefused()
    {
        var e = Assert.Throws<XfsCorruptionException>(() => XfsAgf.ReadFrom(MkfsXfsGolden.Agf0(), 3, AgflSize));
        Assert.That(e!.Message, Does.StartWith("agf 3: bad seqno 0"));
    }

    [Test]
    public void AnAgfWhoseAgflIndicesDoNotAddUpIsRefused()
    {
        var agf = XfsAgf.ReadFrom(MkfsXfsGolden.Agf0(), 0, AgflSize);
        agf.FlCount = 3;
        var bytes = new byte[512];
        agf.WriteTo(bytes);
        var e = Assert.Throws<XfsCorruptionException>(() => XfsAgf.ReadFrom(bytes, 0, AgflSize));
        Assert.That(e!.Message, Does.Contain("AGFL count 3"));
    }

    [Test]
    public void AgfIndicesThatWrapAroundTheRingAreAccepted()
    {
        var agf = XfsAgf.ReadFrom(MkfsXfsGolden.Agf0(), 0, AgflSize);
        (agf.FlFirst, agf.FlLast, agf.FlCount) = (117, 1, 4);
        var bytes = new byte[512];
        agf.WriteTo(bytes);
        Assert.That(XfsAgf.ReadFrom(bytes, 0, AgflSize).FlFirst, Is.EqualTo(117u));
    }

    private static XfsAgi SampleAgi() => new()
    {
        SeqNo = 1,
        Length = 4096,
        Count = 64,
        Root = 3,
        Level = 1,
        FreeCount = 61,
        NewIno = 96,
        Uuid = MkfsXfsGolden.Uuid,
        FreeRoot = 4,
        FreeLevel = 1,
        IBlocks = 1,
        FBlocks = 1,
    };

    [Test]
    public void AgiRoundTripsWithItsUnlinkedBucketsAndCrcAtOffset312()
    {
        var agi = SampleAgi();
        agi.Unlinked[3] = 77;
        agi.Unlinked[63] = 1234;
        var bytes = new byte[512];
        agi.WriteTo(bytes);
        var back = XfsAgi.ReadFrom(bytes, 1);
        var again = new byte[512];
        back.WriteTo(again);
        Assert.Multiple(() =>
        {
            Assert.That(again, Is.EqualTo(bytes));
            Assert.That(back.Unlinked[3], Is.EqualTo(77u));
            Assert.That(back.Unlinked[0], Is.EqualTo(XfsFormat.NullAgIno));
            Assert.That((back.IBlocks, back.FBlocks, back.FreeRoot), Is.EqualTo((1u, 1u, 4u)));
            Assert.That(XfsCrc.Stored(bytes, 312), Is.EqualTo(XfsCrc.Compute(bytes, 312)));
        });
    }

    [Test]
    public void AFlippedAgiBitIsACrcMismatch()
    {
        var bytes = new byte[512];
        SampleAgi().WriteTo(bytes);
        bytes[28] ^= 0x10; // agi_freecount
        var e = Assert.Throws<XfsCorruptionException>(() => XfsAgi.ReadFrom(bytes, 1));
        Assert.That(e!.Message, Is.EqualTo("agi 1: CRC mismatch"));
    }

    [Test]
    public void AnAgiWithMoreFreeThanAllocatedInodesIsRefused()
    {
        var agi = SampleAgi();
        agi.FreeCount = 65;
        var bytes = new byte[512];
        agi.WriteTo(bytes);
        var e = Assert.Throws<XfsCorruptionException>(() => XfsAgi.ReadFrom(bytes, 1));
        Assert.Multiple(() =>
        {
            Assert.That(e!.Message, Does.StartWith("agi 1: bad freecount 65"));
            Assert.That(e.Errno, Is.EqualTo(Errno.EUCLEAN));
        });
    }

    [Test]
    public void AgflHas119EntriesInA512ByteSectorAndRoundTrips()
    {
        var agfl = XfsAgfl.Empty(2, MkfsXfsGolden.Uuid, 512);
        agfl.Bno[1] = 1374;
        agfl.Bno[2] = 1375;
        var bytes = new byte[512];
        agfl.WriteTo(bytes);
        var back = XfsAgfl.ReadFrom(bytes, 2, 4096);
        Assert.Multiple(() =>
        {
            Assert.That(back.Bno, Has.Length.EqualTo(119));
            Assert.That(back.Bno[1], Is.EqualTo(1374u));
            Assert.That(back.Bno[0], Is.EqualTo(XfsFormat.NullAgBlock));
            Assert.That(XfsCrc.Stored(bytes, 32), Is.EqualTo(XfsCrc.Compute(bytes, 32)));
        });
    }

    [Test]
    public void AnAgflEntryOutsideTheAgIsRefused()
    {
        var agfl = XfsAgfl.Empty(0, MkfsXfsGolden.Uuid, 512);
        agfl.Bno[5] = 5000;
        var bytes = new byte[512];
        agfl.WriteTo(bytes);
        var e = Assert.Throws<XfsCorruptionException>(() => XfsAgfl.ReadFrom(bytes, 0, 4096));
        Assert.That(e!.Message, Does.StartWith("agfl 0: bad bno[5] 5000"));
    }

    [Test]
    public void AFlippedAgflBitIsACrcMismatch()
    {
        var bytes = new byte[512];
        XfsAgfl.Empty(0, MkfsXfsGolden.Uuid, 512).WriteTo(bytes);
        bytes[200] ^= 4;
        var e = Assert.Throws<XfsCorruptionException>(() => XfsAgfl.ReadFrom(bytes, 0, 4096));
        Assert.That(e!.Message, Is.EqualTo("agfl 0: CRC mismatch"));
    }
}
