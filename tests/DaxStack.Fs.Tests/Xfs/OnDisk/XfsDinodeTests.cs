using DaxStack.Device.Errors;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Tests.Xfs.OnDisk;

public class XfsDinodeTests
{
    [Test]
    public void ReadsTheRootDirectoryMkfsXfsWroteAndWritesItBackByteForByte()
    {
        var golden = MkfsXfsGolden.RootInode();
        var inode = XfsDinode.ReadFrom(golden, 96);
        var written = new byte[512];
        inode.WriteTo(written);
        Assert.Multiple(() =>
        {
            Assert.That(inode.Mode, Is.EqualTo((ushort)0x41ED));
            Assert.That(inode.Format, Is.EqualTo(XfsDinodeFormat.Local));
            Assert.That(inode.Nlink, Is.EqualTo(2u));
            Assert.That(inode.Size, Is.EqualTo(6ul));
            Assert.That(inode.BigTime, Is.True);
            Assert.That(inode.Atime, Is.EqualTo(new XfsTimestamp(0, 0)));
            Assert.That(inode.Mtime.ToDateTimeOffset().Year, Is.EqualTo(2026));
            Assert.That(inode.ChangeCount, Is.EqualTo(2ul));
            Assert.That(inode.Uuid, Is.EqualTo(MkfsXfsGolden.Uuid));
            Assert.That(written, Is.EqualTo(golden));
        });
    }

    [Test]
    public void TheRootDirectoryIsAnEmptyShortFormDirectoryThatIsItsOwnParent()
    {
        var inode = XfsDinode.ReadFrom(MkfsXfsGolden.RootInode(), 96);
        var dir = XfsDir2Shortform.ReadFrom(inode.DataFork, inode.Size, 96);
        Assert.Multiple(() =>
        {
            Assert.That(dir.Parent, Is.EqualTo(96ul));
            Assert.That(dir.Entries, Is.Empty);
        });
    }

    [TestCase(2 * 8)]        // di_mode
    [TestCase(56 * 8 + 1)]   // di_size
    [TestCase(176 * 8 + 20)] // the short-form directory
    [TestCase(511 * 8 + 7)]  // the end of the literal area
    public void AFlippedBitIsACrcMismatchNamingTheInode(int bit)
    {
        var bytes = MkfsXfsGolden.RootInode();
        bytes[bit / 8] ^= (byte)(1 << (bit % 8));
        var e = Assert.Throws<XfsCorruptionException>(() => XfsDinode.ReadFrom(bytes, 96));
        Assert.Multiple(() =>
        {
            Assert.That(e!.Message, Is.EqualTo("inode 96: CRC mismatch"));
            Assert.That(e.Errno, Is.EqualTo(Errno.EBADMSG));
        });
    }

    [Test]
    public void AnInodeReadUnderAnotherNumberIsRefused()
    {
        var e = Assert.Throws<XfsCorruptionException>(() => XfsDinode.ReadFrom(MkfsXfsGolden.RootInode(), 97));
        Assert.That(e!.Message, Does.StartWith("inode 97: bad di_ino 96"));
    }

    [Test]
    public void ARegularFileInLocalFormatIsRefused()
    {
        var inode = XfsDinode.ReadFrom(MkfsXfsGolden.RootInode(), 96);
        inode.Mode = XfsDinode.TypeRegular | 0x1A4;
        var bytes = new byte[512];
        inode.WriteTo(bytes);
        var e = Assert.Throws<XfsCorruptionException>(() => XfsDinode.ReadFrom(bytes, 96));
        Assert.That(e!.Message, Does.StartWith("inode 96: bad format Local"));
    }

    [Test]
    public void AnExtentsFileRoundTripsItsPackedExtentsAndLegacyTimestamps()
    {
        var inode = new XfsDinode
        {
            Mode = XfsDinode.TypeRegular | 0x1A4,
            Format = XfsDinodeFormat.Extents,
            AFormat = XfsDinodeFormat.Extents,
            Nlink = 1,
            Size = 20000,
            NBlocks = 6,
            NExtents = 2,
            Mtime = new XfsTimestamp(1_700_000_000, 123_456_789),
            Ino = 131,
            Uuid = MkfsXfsGolden.Uuid,
            Literal = new byte[512 - XfsDinode.CoreSize],
        };
        new XfsBmbtRecord(0, 20, 5, false).WriteTo(inode.Literal);
        new XfsBmbtRecord(5, (3UL << 12) | 100, 1, true).WriteTo(inode.Literal.AsSpan(16));
        var bytes = new byte[512];
        inode.WriteTo(bytes);
        var back = XfsDinode.ReadFrom(bytes, 131);
        Assert.Multiple(() =>
        {
            Assert.That(back.ReadExtents(), Is.EqualTo(new[] { new XfsBmbtRecord(0, 20, 5, false), new XfsBmbtRecord(5, (3UL << 12) | 100, 1, true) }));
            Assert.That(back.Mtime, Is.EqualTo(new XfsTimestamp(1_700_000_000, 123_456_789)));
            Assert.That(XfsCrc.Stored(bytes, 100), Is.EqualTo(XfsCrc.Compute(bytes, 100)));
        });
    }

    [Test]
    public void MoreExtentsThanTheForkHoldsIsRefused()
    {
        var inode = new XfsDinode
        {
            Mode = XfsDinode.TypeRegular,
            Format = XfsDinodeFormat.Extents,
            Nlink = 1,
            NExtents = 22,
            NBlocks = 22,
            Ino = 131,
            Literal = new byte[336],
        };
        var bytes = new byte[512];
        inode.WriteTo(bytes);
        var e = Assert.Throws<XfsCorruptionException>(() => XfsDinode.ReadFrom(bytes, 131));
        Assert.That(e!.Message, Does.StartWith("inode 131: bad nextents 22"));
    }
}
