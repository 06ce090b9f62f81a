using DaxStack.Fs.Tests.Xfs.Trans;
using DaxStack.Fs.Xfs.Ialloc;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Repair;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Tests.Xfs.Repair;

/// <summary>
/// Images our metadata core changed: inode allocation grew the inode and free-inode B+trees to
/// two levels (then freed every inode, keeping the chunks): the checker walks multi-level trees
/// clean, and finds damage to their nodes.
/// </summary>
[NonParallelizable]
public class XfsCheckerWorkloadTests
{
    private string _dir = "";
    private string _image = "";

    [SetUp]
    public void SetUp()
    {
        _dir = Directory.CreateTempSubdirectory("daxstack-checkwl-").FullName;
        _image = FsTestDevice.SparseImage(_dir, "inodes.img", 64 * MetadataTestFs.MiB);
        int leafMax = XfsBtreeKind.Ino.MaxRecords(4096, leaf: true);
        using var fs = MetadataTestFs.CreateOnImage(_image, options: new XfsMountOptions { Ikeep = true, GenerationSeed = 5 });
        ulong root = fs.Mount.Superblock.RootIno;
        var inodes = new List<ulong>();
        while (inodes.Count < (leafMax + 4) * 64)
        {
            using var tp = fs.Begin(6 * XfsIalloc.AllocateReservation(fs.Mount));
            for (int i = 0; i < 256; i++)
                inodes.Add(XfsIalloc.Allocate(tp, root));
            tp.Commit();
        }
        foreach (var batch in inodes.Chunk(256))
        {
            using var tp = fs.Begin(XfsIalloc.FreeReservation(fs.Mount) * (uint)batch.Length);
            foreach (ulong ino in batch)
                XfsIalloc.Free(tp, ino);
            tp.Commit();
        }
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static string Describe(XfsRepairReport report)
    {
        var w = new StringWriter();
        report.WriteTo(w);
        return w.ToString();
    }

    private XfsRepairReport Check()
    {
        using var dev = FsTestDevice.Image(_image, readOnly: true);
        return XfsChecker.Check(dev.Device);
    }

    private (uint Root, uint FirstLeaf, uint SecondLeaf) InobtShape()
    {
        using var dev = FsTestDevice.Image(_image, readOnly: true);
        var reader = DaxStack.Fs.Xfs.XfsMetadataReader.Open(dev.Device);
        var agi = reader.ReadAgi(0);
        Assert.That(agi.Level, Is.EqualTo(2u));
        var block = new byte[4096];
        reader.ReadBtreeBlock(XfsBtreeKind.Ino, 0, agi.Root, block);
        int ptrBase = XfsBtreeShortBlock.HeaderSize + XfsBtreeKind.Ino.MaxRecords(4096, leaf: false) * 4;
        return (agi.Root, Be.U32(block, ptrBase), Be.U32(block, ptrBase + 4));
    }

    private void PatchBlock(uint agbno, Action<byte[]> edit)
    {
        var bytes = new byte[4096];
        using var f = new FileStream(_image, FileMode.Open, FileAccess.ReadWrite);
        f.Position = agbno * 4096L;
        f.ReadExactly(bytes);
        edit(bytes);
        XfsCrc.Stamp(bytes, XfsFormat.ShortBtreeCrcOffset);
        f.Position = agbno * 4096L;
        f.Write(bytes);
    }

    [Test]
    public void TwoLevelInodeTreesOfFreeChunksCheckClean()
    {
        var report = Check();
        Assert.Multiple(() =>
        {
            Assert.That(report.IsClean, Is.True, Describe(report));
            Assert.That(report.Notes, Is.Empty, Describe(report));
        });
    }

    [Test]
    public void ANodeKeyThatDoesNotMatchItsChildIsReported()
    {
        var (root, _, second) = InobtShape();
        uint key = 0;
        PatchBlock(root, b =>
        {
            key = Be.U32(b, XfsBtreeShortBlock.HeaderSize + 4);
            Be.Put32(b, XfsBtreeShortBlock.HeaderSize + 4, key - 64);
        });
        AssertFinds(Check(), $"inobt block 0/{second}", $"first key [{key}] does not match the parent's key [{key - 64}]");
    }

    [Test]
    public void ALeafWithAWrongSiblingPointerIsReported()
    {
        var (_, first, second) = InobtShape();
        PatchBlock(first, b => Be.Put32(b, 12, second + 1));
        AssertFinds(Check(), $"inobt block 0/{first}", $"siblings left null right {second + 1}, expected left null right {second}");
    }

    [Test]
    public void RecordsOutOfOrderAcrossLeavesAreReported()
    {
        var (_, first, second) = InobtShape();
        uint lastOfFirst = 0;
        using (var dev = FsTestDevice.Image(_image, readOnly: true))
        {
            var block = new byte[4096];
            var h = DaxStack.Fs.Xfs.XfsMetadataReader.Open(dev.Device).ReadBtreeBlock(XfsBtreeKind.Ino, 0, first, block);
            lastOfFirst = XfsInobtRecord.ReadFrom(block.AsSpan(h.RecordOffset(h.NumRecs - 1))).StartIno;
        }
        // The second leaf's second record now sorts before the end of the first leaf.
        PatchBlock(second, b => Be.Put32(b, XfsBtreeShortBlock.HeaderSize + XfsInobtRecord.Size, lastOfFirst));
        AssertFinds(Check(), $"inobt block 0/{second}", $"record 1 key [{lastOfFirst}] is not after the previous record's");
    }

    private static void AssertFinds(XfsRepairReport report, string structure, string fragment) =>
        Assert.That(report.Errors.Select(p => p.ToString()),
            Has.Some.Matches<string>(s => s.StartsWith(structure + ": ", StringComparison.Ordinal) && s.Contains(fragment, StringComparison.Ordinal)),
            Describe(report));
}
