using System.Text.RegularExpressions;
using DaxStack.Driver.Block;
using DaxStack.Fs.Tests.Interop;
using DaxStack.Fs.Tests.Xfs.Trans;
using DaxStack.Fs.Xfs.Bmap;
using DaxStack.Fs.Xfs.Inode;
using DaxStack.Fs.Xfs.OnDisk;
using static DaxStack.Fs.Tests.Xfs.Bmap.BmapTestOps;

namespace DaxStack.Fs.Tests.Xfs.Bmap;

/// <summary>
/// Real xfsprogs judge the block maps we write: xfs_repair -n accepts files in extents format,
/// with one- and two-level bmap B+trees, with unwritten extents, and after the trees were
/// punched back into the inode; xfs_db's bmap command lists exactly our records; and a bmbt
/// record put out of order (CRC restamped) makes xfs_repair fail, so the check has teeth.
/// </summary>
[NonParallelizable]
public partial class XfsBmapInteropTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("daxstack-bmap-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [GeneratedRegex(@"^data offset (\d+) startblock (\d+) \((\d+)/(\d+)\) count (\d+) flag (\d)$")]
    private static partial Regex BmapLine();

    private static List<XfsBmbtRecord> DbBmap(string image, ulong ino) =>
        XfsProgs.Db(image, $"inode {ino}", "bmap")
            .Select(l => BmapLine().Match(l.Trim()))
            .Where(m => m.Success)
            .Select(m => new XfsBmbtRecord(ulong.Parse(m.Groups[1].Value), ulong.Parse(m.Groups[2].Value), uint.Parse(m.Groups[5].Value), m.Groups[6].Value == "1"))
            .ToList();

    [Test]
    public void XfsRepairAcceptsFilesInEveryBlockMapFormatAndXfsDbListsOurRecords()
    {
        string image = FsTestDevice.SparseImage(_dir, "bmap.img", 256 * MetadataTestFs.MiB);
        var files = new List<(ulong Ino, List<XfsBmbtRecord> Records, int RootLevel)>();
        using (var fs = MetadataTestFs.CreateOnImage(image, agcount: 4))
        {
            var mp = fs.Mount;
            var small = RootLinks.CreateFile(mp, "small");
            Allocate(mp, small, 0, 100);
            Allocate(mp, small, 300, 20, unwritten: true);
            Fragment(mp, small, 8, start: 1000);
            var oneLevel = RootLinks.CreateFile(mp, "one-level");
            Fragment(mp, oneLevel, 400);
            Allocate(mp, oneLevel, 5000, 64, unwritten: true);
            var twoLevels = RootLinks.CreateFile(mp, "two-levels");
            Fragment(mp, twoLevels, 5200);
            var shrunk = RootLinks.CreateFile(mp, "shrunk");
            Fragment(mp, shrunk, 600);
            Unmap(mp, shrunk, 20, 1200);
            foreach (var ip in new[] { small, oneLevel, twoLevels, shrunk })
                files.Add((ip.Ino, ip.DataFork.Extents.ToList(), ip.DataFork.Btree?.RootLevel ?? 0));
        }
        Assert.That(files.Select(f => f.RootLevel), Is.EqualTo(new[] { 0, 1, 2, 0 }));
        XfsProgs.AssertRepairPasses(image, "with files in extents and B+tree formats");
        foreach (var (ino, records, _) in files)
            Assert.That(DbBmap(image, ino), Is.EqualTo(records), $"xfs_db bmap of inode {ino}");
        var core = XfsProgs.DbFields(image, $"inode {files[2].Ino}");
        Assert.That((core["core.format"], core["core.nextents"]), Is.EqualTo(("3 (btree)", "5200")));
        // Our own db prints the same lines as xfs_db's bmap for both formats.
        foreach (var (ino, _, _) in new[] { files[0], files[2] })
        {
            var (status, output, error) = Cli.CliRun.Run("db", image, "-c", $"inode {ino}", "-c", "bmap");
            Assert.That(status, Is.Zero, error);
            var theirs = XfsProgs.Db(image, $"inode {ino}", "bmap").Select(l => l.Trim()).ToArray();
            Assert.That(output.Split('\n', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(theirs), $"daxstack db bmap of inode {ino}");
        }
    }

    [Test]
    public void XfsRepairRejectsABmbtLeafWithRecordsOutOfOrder()
    {
        string image = FsTestDevice.SparseImage(_dir, "bad.img", 64 * MetadataTestFs.MiB);
        ulong leaf;
        using (var fs = MetadataTestFs.CreateOnImage(image))
        {
            var ip = RootLinks.CreateFile(fs.Mount, "f");
            Fragment(fs.Mount, ip, 40);
            leaf = ip.DataFork.Btree!.Blocks.First();
            long offset = fs.Mount.Geometry.FsbToOffset(leaf);
            var block = new byte[4096];
            Assert.That(fs.Device.Device.Read(offset, block), Is.EqualTo(BlkStatus.Ok));
            // Swap records 3 and 4, then make the CRC right again: only the order is wrong.
            var r3 = block.AsSpan(XfsBtreeLongBlock.RecordOffset(3), 16).ToArray();
            block.AsSpan(XfsBtreeLongBlock.RecordOffset(4), 16).CopyTo(block.AsSpan(XfsBtreeLongBlock.RecordOffset(3), 16));
            r3.CopyTo(block.AsSpan(XfsBtreeLongBlock.RecordOffset(4), 16));
            XfsCrc.Stamp(block, XfsBtreeLongBlock.CrcOffset);
            Assert.That(fs.Device.Device.Write(offset, block), Is.EqualTo(BlkStatus.Ok));
        }
        var (status, output, error) = XfsProgs.RepairNoModify(image);
        Assert.That(status, Is.Not.Zero, $"xfs_repair -n passed a bmbt leaf with records out of order:\n{output}\n{error}");
        using (var fs = MetadataTestFs.Open(image))
        {
            using var tp = fs.Begin();
            var e = Assert.Throws<XfsCorruptionException>(() => XfsInodeCache.For(fs.Mount).Get(tp, XfsProgsRootFile(fs)));
            Assert.That(e!.Message, Does.Contain("overlaps or precedes"));
        }
    }

    private static ulong XfsProgsRootFile(MetadataTestFs fs)
    {
        using var tp = fs.Begin();
        var root = XfsInodeCache.For(fs.Mount).GetInUse(tp, fs.Mount.Superblock.RootIno);
        return XfsDir2Shortform.ReadFrom(root.DataFork.Local, root.Core.Size, root.Ino).Entries[0].Ino;
    }
}
