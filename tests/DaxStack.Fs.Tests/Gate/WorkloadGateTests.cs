using System.Globalization;
using DaxStack.Driver.Block;
using DaxStack.Fs.Tests.Interop;
using DaxStack.Fs.Xfs;
using DaxStack.Fs.Xfs.Db;
using DaxStack.Fs.Xfs.Dir2;
using DaxStack.Fs.Xfs.Mkfs;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Repair;

namespace DaxStack.Fs.Tests.Gate;

/// <summary>
/// Issue 4's workload gate: a filesystem our code made and changed through the VFS, cleanly
/// unmounted, passes real <c>xfs_repair -n</c> and our checker, and real <c>xfs_db</c> reads
/// back the counters, inode fields and block maps our structures hold.
/// </summary>
[NonParallelizable]
public class WorkloadGateTests
{
    private const long MiB = 1 << 20;
    private const long GiB = 1L << 30;

    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("daxstack-gate-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static string Describe(XfsRepairReport report)
    {
        var w = new StringWriter();
        report.WriteTo(w);
        return w.ToString();
    }

    private (string Image, GateWorkload Workload) MakeAndRun(long size, uint agcount, int scale, int fragments)
    {
        string image = FsTestDevice.SparseImage(_dir, $"gate-{size / MiB}m-{agcount}ag.img", size);
        using var dev = FsTestDevice.Image(image);
        XfsMkfs.Format(dev.Device, new XfsMkfsOptions { AgCount = agcount, Reflink = true });
        return (image, GateWorkload.Run(dev, scale, fragments));
    }

    private static void AssertOurCheckerClean(string image, string when)
    {
        using var dev = FsTestDevice.Image(image, readOnly: true);
        var report = XfsChecker.Check(dev.Device);
        Assert.Multiple(() =>
        {
            Assert.That(report.IsClean, Is.True, $"{when}:\n{Describe(report)}");
            Assert.That(report.Notes, Is.Empty, $"{when}:\n{Describe(report)}");
        });
    }

    private static ulong U(Dictionary<string, string> fields, string name)
    {
        Assert.That(fields, Does.ContainKey(name), $"xfs_db printed no {name}");
        return ulong.Parse(fields[name], CultureInfo.InvariantCulture);
    }

    /// <summary>The data fork extents of <paramref name="inode"/> as our checker's fork scanner reads them (inline or through the block-map B+tree).</summary>
    private static List<XfsBmbtRecord> OurExtents(XfsMetadataReader reader, XfsDinode inode)
    {
        var ctx = new XfsRepairContext(reader, new XfsRepairOptions());
        int owner = ctx.Owners.Register("gate data fork", dataFork: true);
        int btreeOwner = ctx.Owners.Register("gate bmbt");
        var scan = XfsForkScanner.Scan(ctx, inode, "data", inode.DataFork, inode.Format, inode.NExtents, owner, btreeOwner);
        Assert.That(scan.Complete, Is.True, $"inode {inode.Ino}'s fork could not be read whole");
        return scan.Extents;
    }

    /// <summary>The extents <c>xfs_db bmap</c> prints for <paramref name="ino"/>: "data offset O startblock B (A/b) count C flag F".</summary>
    private static List<XfsBmbtRecord> XfsDbExtents(string image, ulong ino) =>
        [.. XfsProgs.Db(image, $"inode {ino}", "bmap")
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length >= 10 && f[0] == "data")
            .Select(f => new XfsBmbtRecord(
                ulong.Parse(f[2], CultureInfo.InvariantCulture),
                ulong.Parse(f[4], CultureInfo.InvariantCulture),
                uint.Parse(f[7], CultureInfo.InvariantCulture),
                f[9] == "1"))];

    private static void AssertInodeMatches(string image, XfsMetadataReader reader, ulong ino, bool expectBtree)
    {
        var inode = reader.ReadInode(ino);
        var fields = XfsProgs.DbFields(image, $"inode {ino}");
        var ours = OurExtents(reader, inode);
        Assert.Multiple(() =>
        {
            Assert.That(inode.Format, Is.EqualTo(expectBtree ? XfsDinodeFormat.Btree : XfsDinodeFormat.Extents), $"inode {ino} format");
            Assert.That(U(fields, "core.size"), Is.EqualTo(inode.Size), $"inode {ino} core.size");
            Assert.That(U(fields, "core.nextents"), Is.EqualTo((ulong)inode.NExtents), $"inode {ino} core.nextents");
            Assert.That(ours, Has.Count.EqualTo((int)inode.NExtents), $"inode {ino}: extents in the fork");
            Assert.That(XfsDbExtents(image, ino), Is.EqualTo(ours), $"inode {ino}: xfs_db bmap");
        });
    }

    [Test]
    public void AFullWorkloadThroughTheVfsPassesXfsRepairOurCheckerAndReadsBackInXfsDb()
    {
        var (image, w) = MakeAndRun(256 * MiB, 4, scale: 1, fragments: 300);
        Assert.That(w.Created, Is.GreaterThan(250));
        XfsProgs.AssertRepairPasses(image, "after the gate workload");
        AssertOurCheckerClean(image, "after the gate workload");

        using var dev = FsTestDevice.Image(image, readOnly: true);
        var reader = XfsMetadataReader.Open(dev.Device);
        var sb = reader.Superblock;
        var dbSb = XfsProgs.DbFields(image, "sb 0");
        var agf = reader.ReadAgf(0);
        var dbAgf = XfsProgs.DbFields(image, "agf 0");
        var agi = reader.ReadAgi(0);
        var dbAgi = XfsProgs.DbFields(image, "agi 0");
        Assert.Multiple(() =>
        {
            Assert.That(U(dbSb, "icount"), Is.EqualTo(sb.ICount), "sb icount");
            Assert.That(U(dbSb, "ifree"), Is.EqualTo(sb.IFree), "sb ifree");
            Assert.That(U(dbSb, "fdblocks"), Is.EqualTo(sb.FdBlocks), "sb fdblocks");
            Assert.That(U(dbAgf, "freeblks"), Is.EqualTo((ulong)agf.FreeBlks), "agf 0 freeblks");
            Assert.That(U(dbAgf, "longest"), Is.EqualTo((ulong)agf.Longest), "agf 0 longest");
            Assert.That(U(dbAgi, "count"), Is.EqualTo((ulong)agi.Count), "agi 0 count");
            Assert.That(U(dbAgi, "freecount"), Is.EqualTo((ulong)agi.FreeCount), "agi 0 freecount");
        });
        Assert.That(sb.ICount - sb.IFree, Is.GreaterThan(200UL), "inodes in use after the workload");
        AssertInodeMatches(image, reader, (ulong)w.FragmentedIno, expectBtree: true);
        Assert.That(reader.ReadInode((ulong)w.FragmentedIno).NExtents, Is.GreaterThanOrEqualTo(100u), "the every-other-block file's extents");
        AssertInodeMatches(image, reader, (ulong)w.FewExtentsIno, expectBtree: false);
        AssertInodeMatches(image, reader, (ulong)w.LeafDirIno, expectBtree: false);
        XfsDir2Form Form(long ino) => XfsDirectoryReader.FormOf(reader.ReadInode((ulong)ino), reader.Geometry, sb.MetadataUuid, fsb =>
        {
            var b = new byte[reader.Geometry.BlockSize];
            Assert.That(reader.Device.Read(reader.Geometry.FsbToOffset(fsb), b), Is.EqualTo(BlkStatus.Ok));
            return b;
        });
        // Every attribute fork as xfs_db prints it, field for field, is what our decoder prints.
        Assert.That(w.AttrInodes, Has.Count.GreaterThanOrEqualTo(9));
        foreach (long ino in w.AttrInodes)
        {
            // The attr fork comes last in both prints; a.bmx continues over several lines.
            static List<string> AttrTail(IEnumerable<string> lines) =>
                [.. lines.SkipWhile(l => !l.StartsWith("a.", StringComparison.Ordinal))];
            var expected = AttrTail(XfsProgs.Db(image, $"inode {ino}", "print"));
            var raw = reader.ReadInodeBytes((ulong)ino);
            var ours = AttrTail(XfsDbFields.Inode(reader.ReadInode((ulong)ino), raw)
                .SelectMany(f => f.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)));
            Assert.That(expected, Is.Not.Empty, $"inode {ino}: xfs_db shows no attribute fork");
            Assert.That(ours, Is.EqualTo(expected), $"inode {ino}: attribute fork");
        }
        Assert.Multiple(() =>
        {
            Assert.That(Form(w.ShortformDirIno), Is.EqualTo(XfsDir2Form.Shortform), "/sf");
            Assert.That(Form(w.BlockDirIno), Is.EqualTo(XfsDir2Form.Block), "/blk");
            Assert.That(Form(w.LeafDirIno), Is.EqualTo(XfsDir2Form.Leaf), "/leaf");
        });
    }

    [TestCase(64 * MiB, 2u)]
    [TestCase(64 * MiB, 4u)]
    [TestCase(1 * GiB, 4u)]
    [TestCase(1 * GiB, 16u)]
    [TestCase(8 * GiB, 2u)]
    [TestCase(8 * GiB, 16u)]
    public void ASmallerWorkloadPassesXfsRepairOnEveryGeometry(long size, uint agcount)
    {
        var (image, _) = MakeAndRun(size, agcount, scale: 4, fragments: 40);
        XfsProgs.AssertRepairPasses(image, $"after the small workload on {size / MiB} MiB, {agcount} AGs");
        AssertOurCheckerClean(image, $"after the small workload on {size / MiB} MiB, {agcount} AGs");
    }
}
