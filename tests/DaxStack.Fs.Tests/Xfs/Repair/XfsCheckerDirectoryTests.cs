using DaxStack.Driver.Block;
using DaxStack.Fs.Tests.Interop;
using DaxStack.Fs.Xfs.Dir2;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Repair;

namespace DaxStack.Fs.Tests.Xfs.Repair;

/// <summary>
/// Block, leaf and node directories made by real mkfs.xfs -p: the default directory checker
/// lists them whole (so link counts are compared), and finds CRC-valid damage to each format,
/// which real xfs_repair -n finds too.
/// </summary>
[NonParallelizable]
public class XfsCheckerDirectoryTests
{
    private const int BlockEntries = 20;
    private const int LeafEntries = 150;
    private const int NodeEntries = 1000;

    private RepairRig _rig = null!;

    [SetUp]
    public void SetUp()
    {
        var body = new System.Text.StringBuilder();
        foreach (var (dir, count) in new[] { ("blk", BlockEntries), ("lf", LeafEntries), ("nd", NodeEntries) })
        {
            body.Append($"{dir} d--755 0 0\n");
            for (int i = 0; i < count; i++)
                body.Append($"{dir}_entry_with_a_long_name_{i:D5} ---644 0 0 {{content}}/hello\n");
            body.Append("$\n");
        }
        _rig = RepairRig.MkfsXfs(64 * RepairRig.MiB, body.ToString(), XfsCheckerCleanTests.MakeContent, "-d", "agcount=2");
    }

    [TearDown]
    public void TearDown() => _rig.Dispose();

    private static string Describe(XfsRepairReport report)
    {
        var w = new StringWriter();
        report.WriteTo(w);
        return w.ToString();
    }

    private static void AssertFinds(XfsRepairReport report, string structure, string fragment) =>
        Assert.That(report.Errors.Select(p => p.ToString()),
            Has.Some.Matches<string>(s => s.StartsWith(structure + ": ", StringComparison.Ordinal) && s.Contains(fragment, StringComparison.Ordinal)),
            Describe(report));

    private void AssertXfsRepairFails()
    {
        var (status, output, error) = XfsProgs.RepairNoModify(_rig.ImagePath);
        Assert.That(status, Is.Not.Zero, $"xfs_repair -n passed the damaged image:\n{output}\n{error}");
    }

    private static byte[] ReadBlock(DaxStack.Fs.Xfs.XfsMetadataReader r, ulong fsb)
    {
        var b = new byte[r.Geometry.BlockSize];
        Assert.That(r.Device.Read(r.Geometry.FsbToOffset(fsb), b), Is.EqualTo(BlkStatus.Ok));
        return b;
    }

    /// <summary>The inode, shape and block map (directory block → byte offset in the image) of directory <paramref name="name"/> under the root.</summary>
    private (ulong Ino, XfsDir2Form Form, SortedDictionary<ulong, long> Blocks) Dir(string name) => _rig.Inspect(r =>
    {
        var uuid = r.Superblock.MetadataUuid;
        var root = r.ReadInode(r.Superblock.RootIno);
        ulong ino = XfsDirectoryReader.List(root, r.Geometry, uuid, fsb => ReadBlock(r, fsb)).Single(e => e.NameText == name).Ino;
        var inode = r.ReadInode(ino);
        var source = XfsDirectorySource.FromDinode(inode, r.Geometry, uuid, fsb => ReadBlock(r, fsb));
        var blocks = new SortedDictionary<ulong, long>();
        foreach (var (dablk, fsb) in source.Map)
            blocks[dablk] = r.Geometry.FsbToOffset(fsb);
        return (ino, XfsDirectoryReader.FormOf(inode, r.Geometry, uuid, fsb => ReadBlock(r, fsb)), blocks);
    });

    private static ulong LeafBlock => XfsDir2Format.LeafBlock(4096);

    private static ulong FreeBlock => XfsDir2Format.FreeBlock(4096);

    [Test]
    public void BlockLeafAndNodeDirectoriesFromMkfsXfsCheckCleanWithEveryLinkCountCompared()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Dir("blk").Form, Is.EqualTo(XfsDir2Form.Block));
            Assert.That(Dir("lf").Form, Is.EqualTo(XfsDir2Form.Leaf));
            Assert.That(Dir("nd").Form, Is.EqualTo(XfsDir2Form.Node));
        });
        var report = _rig.Check();
        Assert.Multiple(() =>
        {
            Assert.That(report.IsClean, Is.True, Describe(report));
            Assert.That(report.Notes, Is.Empty, Describe(report));
        });
        XfsProgs.AssertRepairPasses(_rig.ImagePath, "after mkfs.xfs -p");
    }

    [Test]
    public void AWrongLinkCountOfAFileInANodeDirectoryIsReported()
    {
        ulong dir = Dir("nd").Ino;
        ulong file = _rig.Inspect(r =>
        {
            var uuid = r.Superblock.MetadataUuid;
            return XfsDirectoryReader.List(r.ReadInode(dir), r.Geometry, uuid, fsb => ReadBlock(r, fsb)).Single(e => e.NameText == "nd_entry_with_a_long_name_00777").Ino;
        });
        _rig.PatchInode(file, b => Be.Put32(b, 16, 2));
        AssertFinds(_rig.Check(), $"inode {file}", "nlink 2 but 1 directory entries name it");
        AssertXfsRepairFails();
    }

    [Test]
    public void ABlockDirectoryLeafOutOfHashOrderIsReported()
    {
        var (ino, _, blocks) = Dir("blk");
        _rig.Patch(blocks[0], 4096, b =>
        {
            int count = (int)Be.U32(b, 4096 - 8);
            int first = 4096 - 8 - (count * 8);
            uint h0 = Be.U32(b, first), a0 = Be.U32(b, first + 4);
            uint h1 = Be.U32(b, first + 8), a1 = Be.U32(b, first + 12);
            Assert.That(h0, Is.LessThan(h1), "the first two leaf entries of the test directory share a hash");
            Be.Put32(b, first, h1);
            Be.Put32(b, first + 4, a1);
            Be.Put32(b, first + 8, h0);
            Be.Put32(b, first + 12, a0);
        }, XfsDir2Format.DataCrcOffset);
        AssertFinds(_rig.Check(), $"directory {ino}", "leaf entry 1 hash");
        AssertXfsRepairFails();
    }

    [Test]
    public void ALeafEntryPointingAtNoDataEntryIsReported()
    {
        var (ino, _, blocks) = Dir("lf");
        uint address = 0;
        _rig.Patch(blocks[LeafBlock], 4096, b =>
        {
            Assert.That(Be.U16(b, 8), Is.EqualTo(XfsDir2Format.Leaf1Magic));
            // The third entry now points into the middle of its data entry (entries are at least 16 bytes).
            address = Be.U32(b, XfsDir2Format.DaHeaderSize + (2 * 8) + 4);
            Be.Put32(b, XfsDir2Format.DaHeaderSize + (2 * 8) + 4, address + 1);
        }, XfsDir2Format.DaCrcOffset);
        var report = _rig.Check();
        Assert.Multiple(() =>
        {
            AssertFinds(report, $"directory {ino}", $", {address + 1}) points at no data entry");
            AssertFinds(report, $"directory {ino}", $"data entry at dataptr {address} has no leaf entry");
        });
        AssertXfsRepairFails();
    }

    [Test]
    public void AWrongBestfreeInANodeDirectoryDataBlockIsReported()
    {
        var (ino, form, blocks) = Dir("nd");
        Assert.That(form, Is.EqualTo(XfsDir2Form.Node));
        ulong lastData = blocks.Keys.Last(k => k < LeafBlock);
        ushort offset = 0, length = 0;
        _rig.Patch(blocks[lastData], 4096, b =>
        {
            offset = Be.U16(b, 48);
            length = Be.U16(b, 50);
            Assert.That(length, Is.GreaterThanOrEqualTo(16), "the last data block has no free region to misdescribe");
            Be.Put16(b, 50, (ushort)(length - 8));
        }, XfsDir2Format.DataCrcOffset);
        var report = _rig.Check();
        Assert.Multiple(() =>
        {
            AssertFinds(report, $"directory {ino}", $"bestfree[0] ({offset}, {length - 8}) is not a free region");
            // The data block could not be listed, so the link counts its entries explain are not compared.
            Assert.That(report.Notes.Select(n => n.ToString()), Has.Some.StartsWith("note: link counts:"), Describe(report));
        });
        AssertXfsRepairFails();
    }

    [Test]
    public void AWrongBestsEntryInANodeDirectoryFreeIndexIsReported()
    {
        var (ino, _, blocks) = Dir("nd");
        Assert.That(blocks.ContainsKey(FreeBlock), Is.True, "the node directory has no free-index block");
        ushort best = 0;
        _rig.Patch(blocks[FreeBlock], 4096, b =>
        {
            Assert.That(Be.U32(b, 0), Is.EqualTo(XfsDir2Format.FreeMagic));
            best = Be.U16(b, 64);
            Be.Put16(b, 64, (ushort)(best + 8));
        }, XfsDir2Format.DataCrcOffset);
        var report = _rig.Check();
        Assert.Multiple(() =>
        {
            AssertFinds(report, $"directory {ino}", $"bests[0] is {best + 8}, data block 0's longest free region is {best}");
            // Only the free index is wrong: every entry was listed and every link count compared.
            Assert.That(report.Notes, Is.Empty, Describe(report));
        });
        AssertXfsRepairFails();
    }

    [Test]
    public void ANameInALeafDirectoryPointingAtAFreeInodeIsReported()
    {
        var (ino, _, blocks) = Dir("lf");
        ulong free = _rig.Inspect(r =>
        {
            for (ulong candidate = ino | 63; candidate > (ino & ~63UL); candidate--)
            {
                if (Be.U16(r.ReadInodeBytes(candidate), 2) == 0)
                    return candidate;
            }
            return 0UL;
        });
        Assert.That(free, Is.Not.Zero, "no free inode in the directory's chunk");
        string name = "";
        ulong was = 0;
        _rig.Patch(blocks[0], 4096, b =>
        {
            var data = XfsDir2DataBlock.ReadFrom(b, "data block 0");
            var victim = data.Entries.First(e => !XfsDir2Format.IsDotOrDotDot(e.Name));
            name = victim.NameText;
            was = victim.Ino;
            Be.Put64(b, victim.Offset, free);
        }, XfsDir2Format.DataCrcOffset);
        var report = _rig.Check();
        Assert.Multiple(() =>
        {
            AssertFinds(report, $"directory {ino}", $"entry '{name}' names inode {free}, which is free");
            AssertFinds(report, $"inode {was}", "nlink 1 but 0 directory entries name it (disconnected)");
        });
        AssertXfsRepairFails();
    }

    [Test]
    public void ANameInABlockDirectoryPointingAtAFreeInodeIsReported()
    {
        var (ino, _, blocks) = Dir("blk");
        ulong free = _rig.Inspect(r =>
        {
            for (ulong candidate = ino | 63; candidate > (ino & ~63UL); candidate--)
            {
                if (Be.U16(r.ReadInodeBytes(candidate), 2) == 0)
                    return candidate;
            }
            return 0UL;
        });
        Assert.That(free, Is.Not.Zero, "no free inode in the directory's chunk");
        string name = "";
        _rig.Patch(blocks[0], 4096, b =>
        {
            var victim = XfsDir2DataBlock.ReadFrom(b, "block").Entries.Last();
            name = victim.NameText;
            Be.Put64(b, victim.Offset, free);
        }, XfsDir2Format.DataCrcOffset);
        AssertFinds(_rig.Check(), $"directory {ino}", $"entry '{name}' names inode {free}, which is free");
        AssertXfsRepairFails();
    }
}
