using DaxStack.Device.Errors;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Tests.Xfs.OnDisk;

public class XfsSuperblockTests
{
    [Test]
    public void ReadsTheSuperblockMkfsXfsWrote()
    {
        var sb = XfsSuperblock.ReadFrom(MkfsXfsGolden.PrimarySuperblock());
        Assert.Multiple(() =>
        {
            Assert.That(sb.BlockSize, Is.EqualTo(4096u));
            Assert.That(sb.DataBlocks, Is.EqualTo(16384ul));
            Assert.That(sb.Uuid, Is.EqualTo(MkfsXfsGolden.Uuid));
            Assert.That(sb.LogStart, Is.EqualTo(8198ul));
            Assert.That(sb.RootIno, Is.EqualTo(96ul));
            Assert.That(sb.RbmIno, Is.EqualTo(97ul));
            Assert.That(sb.RsumIno, Is.EqualTo(98ul));
            Assert.That(sb.AgBlocks, Is.EqualTo(4096u));
            Assert.That(sb.AgCount, Is.EqualTo(4u));
            Assert.That(sb.LogBlocks, Is.EqualTo(1368u));
            Assert.That((ushort)sb.VersionNum, Is.EqualTo((ushort)0xb4a5));
            Assert.That(sb.InoAlignMt, Is.EqualTo(4u));
            Assert.That(sb.ICount, Is.EqualTo(64ul));
            Assert.That(sb.IFree, Is.EqualTo(61ul));
            Assert.That(sb.FdBlocks, Is.EqualTo(14984ul));
            Assert.That((uint)sb.Features2, Is.EqualTo(0x18au));
            Assert.That((uint)sb.FeaturesRoCompat, Is.EqualTo(0xdu));
            Assert.That((uint)sb.FeaturesIncompat, Is.EqualTo(0x9u));
            Assert.That(sb.Label, Is.Empty);
        });
    }

    [Test]
    public void WritingWhatWasReadReproducesMkfsXfsBytesExactly()
    {
        var golden = MkfsXfsGolden.PrimarySuperblock();
        var sb = XfsSuperblock.ReadFrom(golden);
        var written = new byte[512];
        sb.WriteTo(written);
        Assert.That(written, Is.EqualTo(golden));
    }

    [Test]
    public void RoundTripKeepsEveryField()
    {
        var sb = XfsSuperblock.ReadFrom(MkfsXfsGolden.PrimarySuperblock());
        sb.FName = "scratch"u8.ToArray().Concat(new byte[5]).ToArray();
        sb.Lsn = 0x100000005;
        sb.InProgress = 1;
        sb.MetaUuid = Guid.NewGuid();
        var bytes = new byte[512];
        sb.WriteTo(bytes);
        var back = XfsSuperblock.ReadFrom(bytes);
        var again = new byte[512];
        back.WriteTo(again);
        Assert.Multiple(() =>
        {
            Assert.That(again, Is.EqualTo(bytes));
            Assert.That(back.Label, Is.EqualTo("scratch"));
            Assert.That(back.Lsn, Is.EqualTo(0x100000005ul));
            Assert.That(back.MetaUuid, Is.EqualTo(sb.MetaUuid));
        });
    }

    [Test]
    public void WriteToZeroesTheRestOfTheSectorAndStampsTheCrcAtOffset224()
    {
        var sb = XfsSuperblock.ReadFrom(MkfsXfsGolden.PrimarySuperblock());
        var bytes = Enumerable.Repeat((byte)0xAA, 512).ToArray();
        sb.WriteTo(bytes);
        Assert.Multiple(() =>
        {
            Assert.That(bytes.Skip(XfsSuperblock.Size), Is.All.EqualTo((byte)0));
            Assert.That(XfsCrc.Stored(bytes, 224), Is.EqualTo(XfsCrc.Compute(bytes, 224)));
            Assert.That(sb.Crc, Is.EqualTo(XfsCrc.Stored(bytes, 224)));
        });
    }

    [TestCase(8 * 8 + 3)]     // sb_dblocks
    [TestCase(84 * 8)]        // sb_agblocks
    [TestCase(150 * 8 + 1)]   // sb_fdblocks
    [TestCase(230 * 8)]       // sb_spino_align
    [TestCase(400 * 8 + 7)]   // zero padding after the last field
    public void AFlippedBitIsACrcMismatchNamingTheSuperblock(int bit)
    {
        var bytes = MkfsXfsGolden.PrimarySuperblock();
        bytes[bit / 8] ^= (byte)(1 << (bit % 8));
        var e = Assert.Throws<XfsCorruptionException>(() => XfsSuperblock.ReadFrom(bytes, 2));
        Assert.Multiple(() =>
        {
            Assert.That(e!.Message, Is.EqualTo("sb 2: CRC mismatch"));
            Assert.That(e.Errno, Is.EqualTo(Errno.EBADMSG));
            Assert.That(e.Structure, Is.EqualTo("sb 2"));
        });
    }

    [Test]
    public void AWrongMagicNumberIsNamedBeforeTheCrc()
    {
        var bytes = MkfsXfsGolden.PrimarySuperblock();
        bytes[0] = (byte)'Y';
        var e = Assert.Throws<XfsCorruptionException>(() => XfsSuperblock.ReadFrom(bytes));
        Assert.Multiple(() =>
        {
            Assert.That(e!.Message, Does.StartWith("sb 0: bad magic number 0x59465342"));
            Assert.That(e.Errno, Is.EqualTo(Errno.EUCLEAN));
        });
    }

    [Test]
    public void AnImpossibleGeometryWithAValidCrcIsStillRefused()
    {
        var sb = XfsSuperblock.ReadFrom(MkfsXfsGolden.PrimarySuperblock());
        sb.DataBlocks = 5 * 4096 + 100; // more than agcount × agblocks
        var bytes = new byte[512];
        sb.WriteTo(bytes);
        var e = Assert.Throws<XfsCorruptionException>(() => XfsSuperblock.ReadFrom(bytes));
        Assert.That(e!.Message, Does.StartWith("sb 0: bad dblocks 20580"));
    }

    [Test]
    public void AVersion4SuperblockIsRefusedAsUnsupported()
    {
        var sb = XfsSuperblock.ReadFrom(MkfsXfsGolden.PrimarySuperblock());
        sb.VersionNum = (sb.VersionNum & ~XfsSbVersion.NumBits) | (XfsSbVersion)4;
        var bytes = new byte[512];
        sb.WriteTo(bytes);
        var e = Assert.Throws<XfsCorruptionException>(() => XfsSuperblock.ReadFrom(bytes));
        Assert.That(e!.Message, Does.Contain("version 4 superblock"));
    }

    [Test]
    public void ATruncatedBufferIsACorruptionNotACrash()
    {
        var e = Assert.Throws<XfsCorruptionException>(() => XfsSuperblock.ReadFrom(MkfsXfsGolden.PrimarySuperblock().AsSpan(0, 100)));
        Assert.That(e!.Message, Does.StartWith("sb 0: truncated"));
    }
}
