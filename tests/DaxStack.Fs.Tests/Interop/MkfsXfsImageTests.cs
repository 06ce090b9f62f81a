using DaxStack.Fs.Tests.Cli;
using DaxStack.Fs.Xfs;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Tests.Interop;

/// <summary>
/// Images made by real mkfs.xfs: our reader accepts every structure in them, and our mkfs
/// writes the same bytes for the same device, options and uuid (all but the creation times).
/// </summary>
[NonParallelizable]
public class MkfsXfsImageTests
{
    private const long MiB = 1 << 20;
    private const long GiB = 1L << 30;
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("daxstack-mkfsxfs-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [TestCase(64 * MiB, "-d", "agcount=4")]
    [TestCase(1 * GiB, "-d", "agcount=16")]
    [TestCase(300 * MiB, "-m", "reflink=0")]
    public void OurReaderAcceptsEveryStructureOfAMkfsXfsImage(long size, string option, string value)
    {
        string image = FsTestDevice.SparseImage(_dir, "real.img", size);
        XfsProgs.MkfsXfs(image, option, value);
        using var dev = FsTestDevice.Image(image, readOnly: true);
        var reader = XfsMetadataReader.Open(dev.Device);
        var sb = reader.Superblock;
        bool reflink = (sb.FeaturesRoCompat & XfsRoCompatFeatures.Reflink) != 0;
        var block = new byte[4096];
        for (uint agno = 0; agno < sb.AgCount; agno++)
        {
            if (agno > 0)
                reader.ReadSuperblock(agno);
            var agf = reader.ReadAgf(agno);
            var agi = reader.ReadAgi(agno);
            reader.ReadAgfl(agno);
            reader.ReadBtreeBlock(XfsBtreeKind.Bno, agno, agf.BnoRoot, block);
            reader.ReadBtreeBlock(XfsBtreeKind.Cnt, agno, agf.CntRoot, block);
            reader.ReadBtreeBlock(XfsBtreeKind.Ino, agno, agi.Root, block);
            reader.ReadBtreeBlock(XfsBtreeKind.Fino, agno, agi.FreeRoot, block);
            if (reflink)
                reader.ReadBtreeBlock(XfsBtreeKind.Refcount, agno, agf.RefcountRoot, block);
        }
        var root = reader.ReadInode(sb.RootIno);
        for (ulong ino = sb.RootIno; ino < sb.RootIno + 64; ino++)
            reader.ReadInode(ino);
        Assert.Multiple(() =>
        {
            Assert.That(XfsDir2Shortform.ReadFrom(root.DataFork, root.Size, sb.RootIno).Parent, Is.EqualTo(sb.RootIno));
            Assert.That(reader.ReadLogHead().Header.Lsn, Is.EqualTo(XlogRecordHeader.MakeLsn(1, 0)));
        });
    }

    [Test]
    public void OurReaderReadsAPopulatedMkfsXfsImage()
    {
        string content = Path.Combine(_dir, "content");
        Directory.CreateDirectory(content);
        File.WriteAllText(Path.Combine(content, "hello"), "hello\n");
        File.WriteAllBytes(Path.Combine(content, "big"), new byte[20000]);
        string proto = Path.Combine(_dir, "proto");
        File.WriteAllText(proto, $"""
            dummy
            0 0
            d--755 0 0
            hello ---644 1000 1000 {Path.Combine(content, "hello")}
            big ---644 0 0 {Path.Combine(content, "big")}
            sub d--750 0 0
            $
            $

            """);
        string image = FsTestDevice.SparseImage(_dir, "populated.img", 64 * MiB);
        XfsProgs.MkfsXfs(image, "-p", proto);
        using var dev = FsTestDevice.Image(image, readOnly: true);
        var reader = XfsMetadataReader.Open(dev.Device);
        var root = reader.ReadInode(reader.Superblock.RootIno);
        var dir = XfsDir2Shortform.ReadFrom(root.DataFork, root.Size, reader.Superblock.RootIno);
        var hello = reader.ReadInode(dir.Entries.Single(e => e.NameText == "hello").Ino);
        var big = reader.ReadInode(dir.Entries.Single(e => e.NameText == "big").Ino);
        var sub = reader.ReadInode(dir.Entries.Single(e => e.NameText == "sub").Ino);
        Assert.Multiple(() =>
        {
            Assert.That(dir.Entries.Select(e => e.NameText), Is.EqualTo(new[] { "hello", "big", "sub" }));
            Assert.That(dir.Entries.Select(e => e.FileType), Is.EqualTo(new[] { XfsDirFileType.RegularFile, XfsDirFileType.RegularFile, XfsDirFileType.Directory }));
            Assert.That((hello.Size, hello.Uid, hello.Mode & 0xFFF), Is.EqualTo((6ul, 1000u, 0x1A4)));
            Assert.That(big.ReadExtents().Sum(e => e.BlockCount), Is.EqualTo(5u));
            Assert.That(sub.FileType, Is.EqualTo(XfsDinode.TypeDirectory));
            Assert.That(XfsDir2Shortform.ReadFrom(sub.DataFork, sub.Size, sub.Ino).Parent, Is.EqualTo(reader.Superblock.RootIno));
        });
    }

    [TestCase(64 * MiB, "-d", "agcount=4")]
    [TestCase(1 * GiB, "-d", "agcount=16")]
    [TestCase(300 * MiB, "-m", "reflink=0")]
    [TestCase(48 * MiB, "-L", "golden")]
    public void OurMkfsWritesTheBytesMkfsXfsWrites(long size, string option, string value)
    {
        const string uuid = "3b7a1e81-7bd2-44f1-939a-b79991af432e";
        string theirs = FsTestDevice.SparseImage(_dir, "theirs.img", size);
        string ours = FsTestDevice.SparseImage(_dir, "ours.img", size);
        XfsProgs.MkfsXfs(theirs, "-m", $"uuid={uuid}", option, value);
        var (status, _, error) = CliRun.Run("mkfs", "-q", "-m", $"uuid={uuid}", option, value, ours);
        Assert.That(status, Is.Zero, error);
        var differences = ImageDiff(theirs, ours);
        Assert.That(differences, Is.Empty);
    }

    /// <summary>
    /// Offsets where the images differ, except the fields that hold the time mkfs ran (mtime,
    /// ctime, crtime of the root, rbm and rsum inodes at AG 0 block 12) and those inodes' CRCs.
    /// </summary>
    private static List<string> ImageDiff(string a, string b)
    {
        var masked = new List<(long Start, long End)>();
        for (int i = 0; i < 3; i++)
        {
            long inode = 12 * 4096 + i * 512;
            masked.Add((inode + 0x28, inode + 0x38));
            masked.Add((inode + 0x64, inode + 0x68));
            masked.Add((inode + 0x90, inode + 0x98));
        }
        var differences = new List<string>();
        using var fa = File.OpenRead(a);
        using var fb = File.OpenRead(b);
        Assert.That(fb.Length, Is.EqualTo(fa.Length));
        var ba = new byte[1 << 20];
        var bb = new byte[1 << 20];
        for (long pos = 0; pos < fa.Length; pos += ba.Length)
        {
            fa.ReadExactly(ba);
            fb.ReadExactly(bb);
            if (ba.AsSpan().SequenceEqual(bb))
                continue;
            for (int i = 0; i < ba.Length && differences.Count < 20; i++)
            {
                long at = pos + i;
                if (ba[i] != bb[i] && !masked.Exists(m => at >= m.Start && at < m.End))
                    differences.Add($"byte {at} (AG block {at / 4096}, offset {at % 4096}): mkfs.xfs 0x{ba[i]:x2}, ours 0x{bb[i]:x2}");
            }
        }
        return differences;
    }
}
