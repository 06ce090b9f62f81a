using DaxStack.Fs.Tests.Interop;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Repair;

namespace DaxStack.Fs.Tests.Xfs.Repair;

/// <summary>
/// Damaged images: for each structure a flipped byte (CRC no longer matches) and a CRC-valid
/// logical corruption; our checker must report each naming the structure, and for a sample real
/// xfs_repair -n must fail too (so a checker that passes everything would be noticed).
/// </summary>
[NonParallelizable]
public class XfsCheckerCorruptionTests
{
    private RepairRig _rig = null!;

    [SetUp]
    public void SetUp() => _rig = RepairRig.OurMkfs(64 * RepairRig.MiB, agcount: 4, reflink: true);

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

    private (uint Start, uint Count) FirstFreeExtent(uint agno) => _rig.Inspect(r =>
    {
        var block = new byte[4096];
        r.ReadBtreeBlock(XfsBtreeKind.Bno, agno, r.ReadAgf(agno).BnoRoot, block);
        var rec = XfsAllocRecord.ReadFrom(block.AsSpan(XfsBtreeShortBlock.HeaderSize));
        return (rec.StartBlock, rec.BlockCount);
    });

    [Test]
    public void TheUndamagedImageChecksClean()
    {
        var report = _rig.Check();
        Assert.That(report.IsClean, Is.True, Describe(report));
    }

    [TestCase("sb 0")]
    [TestCase("sb 2")]
    [TestCase("agf 1")]
    [TestCase("agi 2")]
    [TestCase("agfl 3")]
    [TestCase("bnobt")]
    [TestCase("cntbt")]
    [TestCase("inobt")]
    [TestCase("finobt")]
    [TestCase("refcountbt")]
    [TestCase("inode core")]
    [TestCase("short-form dir")]
    [TestCase("bmbt")]
    public void AFlippedByteIsACrcMismatchNamingTheStructure(string what)
    {
        var agf1 = _rig.Inspect(r => r.ReadAgf(1));
        var agi0 = _rig.Inspect(r => r.ReadAgi(0));
        ulong rootIno = _rig.Inspect(r => r.Superblock.RootIno);
        (long offset, string structure) = what switch
        {
            "sb 0" => (0x96L, "sb 0"),
            "sb 2" => (_rig.AgBlockOffset(2, 0) + 0x96, "sb 2"),
            "agf 1" => (_rig.AgBlockOffset(1, 0) + 512 + 55, "agf 1"),
            "agi 2" => (_rig.AgBlockOffset(2, 0) + 1024 + 31, "agi 2"),
            "agfl 3" => (_rig.AgBlockOffset(3, 0) + 1536 + 100, "agfl 3"),
            "bnobt" => (_rig.AgBlockOffset(1, agf1.BnoRoot) + 60, $"bnobt block 1/{agf1.BnoRoot}"),
            "cntbt" => (_rig.AgBlockOffset(1, agf1.CntRoot) + 60, $"cntbt block 1/{agf1.CntRoot}"),
            "inobt" => (_rig.AgBlockOffset(0, agi0.Root) + 60, $"inobt block 0/{agi0.Root}"),
            "finobt" => (_rig.AgBlockOffset(0, agi0.FreeRoot) + 60, $"finobt block 0/{agi0.FreeRoot}"),
            "refcountbt" => (_rig.AgBlockOffset(1, agf1.RefcountRoot) + 2000, $"refcountbt block 1/{agf1.RefcountRoot}"),
            "inode core" => (_rig.InodeOffset(rootIno) + 16, $"inode {rootIno}"),
            "short-form dir" => (_rig.InodeOffset(rootIno) + XfsDinode.CoreSize + 2, $"inode {rootIno}"),
            _ => BmbtLeaf(),
        };
        _rig.FlipByte(offset);
        AssertFinds(_rig.Check(), structure, "CRC mismatch");
    }

    private (long, string) BmbtLeaf()
    {
        var file = BtreeFileBuilder.Add(_rig);
        ulong fsb = _rig.Inspect(r => r.Geometry.AgBlockToFsb(file.Agno, file.LeafAgbno));
        return (_rig.AgBlockOffset(file.Agno, file.LeafAgbno) + 100, $"bmbt block {fsb} (inode {file.Ino} data fork)");
    }

    [Test]
    public void AWrongSuperblockFreeBlockCounterIsReported()
    {
        ulong fd = _rig.Inspect(r => r.Superblock.FdBlocks);
        _rig.PatchSector(0, 0, XfsFormat.SuperblockCrcOffset, s => Be.Put64(s, 144, fd + 7));
        AssertFinds(_rig.Check(), "sb 0", $"fdblocks {fd + 7} but the AGFs hold {fd}");
        AssertXfsRepairFails();
    }

    [Test]
    public void ASecondarySuperblockWithOtherGeometryIsReported()
    {
        ulong blocks = _rig.Inspect(r => r.Superblock.DataBlocks);
        _rig.PatchSector(3, 0, XfsFormat.SuperblockCrcOffset, s => Be.Put64(s, 8, blocks - 8));
        AssertFinds(_rig.Check(), "sb 3", "geometry differs from the primary");
    }

    [Test]
    public void AWrongAgfFreeBlockCountIsReported()
    {
        var agf = _rig.Inspect(r => r.ReadAgf(1));
        _rig.PatchSector(1, 1, XfsFormat.AgfCrcOffset, s => Be.Put32(s, 52, agf.FreeBlks + 3));
        AssertFinds(_rig.Check(), "agf 1", $"freeblks {agf.FreeBlks + 3} but the free-space B+trees hold {agf.FreeBlks}");
        AssertXfsRepairFails();
    }

    [Test]
    public void AWrongAgiFreeInodeCountIsReported()
    {
        var agi = _rig.Inspect(r => r.ReadAgi(0));
        _rig.PatchSector(0, 2, XfsFormat.AgiCrcOffset, s => Be.Put32(s, 28, agi.FreeCount + 1));
        var report = _rig.Check();
        AssertFinds(report, "agi 0", $"freecount {agi.FreeCount + 1} but the inobt holds {agi.FreeCount} free inodes");
        AssertFinds(report, "sb 0", "ifree");
    }

    [Test]
    public void AnAgflEntryInFreeSpaceIsABlockOwnedTwiceAndLeavesALeak()
    {
        var agf = _rig.Inspect(r => r.ReadAgf(1));
        var (start, _) = FirstFreeExtent(1);
        uint old = _rig.Inspect(r => r.ReadAgfl(1).Bno[agf.FlFirst]);
        _rig.PatchSector(1, 3, XfsFormat.AgflCrcOffset, s => Be.Put32(s, XfsAgfl.HeaderSize + 4 * (int)agf.FlFirst, start));
        var report = _rig.Check();
        AssertFinds(report, "ag 1", $"block {start} owned 2 times: by agfl 1 and free space 1");
        AssertFinds(report, "ag 1", $"block {old} owned by nothing and not free (leaked)");
        AssertXfsRepairFails();
    }

    [Test]
    public void OverlappingFreeExtentsAreReported()
    {
        var agf = _rig.Inspect(r => r.ReadAgf(1));
        var (start, count) = FirstFreeExtent(1);
        _rig.PatchBtreeBlock(1, agf.BnoRoot, b =>
        {
            Assert.That(Be.U16(b, 6), Is.EqualTo(1));
            Be.Put16(b, 6, 2);
            new XfsAllocRecord(start + 1, 1).WriteTo(b.AsSpan(XfsBtreeShortBlock.HeaderSize + 8));
        });
        var report = _rig.Check();
        AssertFinds(report, "bnobt 1", $"free extents [{start},{count}] and [{start + 1},1] overlap");
        AssertFinds(report, "cntbt 1", $"free extent [{start + 1},1] of the bnobt is missing");
    }

    [Test]
    public void AFreeSpaceTreeBlockAtTheWrongLevelIsAnUnbalancedTree()
    {
        var agf = _rig.Inspect(r => r.ReadAgf(2));
        _rig.PatchBtreeBlock(2, agf.BnoRoot, b => Be.Put16(b, 4, 1));
        AssertFinds(_rig.Check(), $"bnobt block 2/{agf.BnoRoot}", "level 1 but its place in the tree is level 0");
    }

    [Test]
    public void AByCountTreeDisagreeingWithTheByBlockTreeIsReported()
    {
        var agf = _rig.Inspect(r => r.ReadAgf(1));
        var (start, count) = FirstFreeExtent(1);
        _rig.PatchBtreeBlock(1, agf.CntRoot, b => new XfsAllocRecord(start, count - 1).WriteTo(b.AsSpan(XfsBtreeShortBlock.HeaderSize)));
        var report = _rig.Check();
        AssertFinds(report, "cntbt 1", $"free extent [{start},{count}] of the bnobt is missing");
        AssertFinds(report, "bnobt 1", $"free extent [{start},{count - 1}] of the cntbt is missing");
    }

    [Test]
    public void AnInUseInodeMarkedFreeInTheInobtIsReported()
    {
        var agi = _rig.Inspect(r => r.ReadAgi(0));
        ulong rbm = _rig.Inspect(r => r.Superblock.RbmIno);
        XfsInobtRecord rec = default;
        _rig.PatchBtreeBlock(0, agi.Root, b =>
        {
            rec = XfsInobtRecord.ReadFrom(b.AsSpan(XfsBtreeShortBlock.HeaderSize));
            int bit = (int)(rbm - rec.StartIno);
            (rec with { Free = rec.Free | (1UL << bit), FreeCount = rec.FreeCount + 1 }).WriteTo(b.AsSpan(XfsBtreeShortBlock.HeaderSize));
        });
        var report = _rig.Check();
        AssertFinds(report, $"inode {rbm}", "in use (mode 0100000) but free in the inobt record");
        AssertFinds(report, "agi 0", "freecount");
        AssertFinds(report, "finobt 0", $"inode chunk at agino {rec.StartIno}");
    }

    [Test]
    public void AMissingFreeInodeTreeRecordIsReported()
    {
        var agi = _rig.Inspect(r => r.ReadAgi(0));
        _rig.PatchBtreeBlock(0, agi.FreeRoot, b => Be.Put16(b, 6, 0));
        AssertFinds(_rig.Check(), "finobt 0", "is missing or differs");
    }

    [Test]
    public void ARefcountRecordForBlocksNoFileSharesIsReported()
    {
        var agf = _rig.Inspect(r => r.ReadAgf(1));
        var (start, _) = FirstFreeExtent(1);
        _rig.PatchBtreeBlock(1, agf.RefcountRoot, b =>
        {
            Be.Put16(b, 6, 2);
            new XfsRefcountRecord(start, 2, 2).WriteTo(b.AsSpan(XfsBtreeShortBlock.HeaderSize));
            new XfsRefcountRecord(start + 5, 1, 1).WriteTo(b.AsSpan(XfsBtreeShortBlock.HeaderSize + 12));
        });
        var report = _rig.Check();
        AssertFinds(report, "refcountbt 1", $"blocks {start}-{start + 1} (2 blocks) have refcount 2 but 0 data fork owners and 1 other owners");
        AssertFinds(report, "refcountbt 1", "refcount 1 is below 2");
    }

    [Test]
    public void AWrongDirectoryLinkCountIsReported()
    {
        ulong root = _rig.Inspect(r => r.Superblock.RootIno);
        _rig.PatchInode(root, b => Be.Put32(b, 16, 3));
        AssertFinds(_rig.Check(), $"inode {root}", "nlink 3 but the directory has 0 subdirectories (expected 2)");
        AssertXfsRepairFails();
    }

    [Test]
    public void AnIllegalModeAndFormatCombinationIsReported()
    {
        ulong rbm = _rig.Inspect(r => r.Superblock.RbmIno);
        _rig.PatchInode(rbm, b => b[5] = (byte)XfsDinodeFormat.Local);
        AssertFinds(_rig.Check(), $"inode {rbm}", "bad format Local");
    }

    [Test]
    public void AnAttributeForkExtentInFreeSpaceIsOwnedTwice()
    {
        ulong rbm = _rig.Inspect(r => r.Superblock.RbmIno);
        var (start, _) = FirstFreeExtent(2);
        ulong fsb = _rig.Inspect(r => r.Geometry.AgBlockToFsb(2, start));
        _rig.PatchInode(rbm, b =>
        {
            var d = XfsDinode.Decode(b);
            Assert.That((d.Format, d.NExtents, d.ForkOff), Is.EqualTo((XfsDinodeFormat.Extents, 0u, (byte)0)));
            d.ForkOff = 24;
            d.AFormat = XfsDinodeFormat.Extents;
            d.ANExtents = 1;
            d.NBlocks = 1;
            new XfsBmbtRecord(0, fsb, 1, false).WriteTo(d.Literal.AsSpan(d.ForkOff * 8));
            d.WriteTo(b);
        });
        var report = _rig.Check();
        AssertFinds(report, "ag 2", $"block {start} owned 2 times: by free space 2 and inode {rbm} attr fork");
        // Block 0 of the attr fork is read as its leaf block too: free space holds zeros.
        AssertFinds(report, $"inode {rbm} attr leaf 2/{start}", "bad magic number 0x0");
        Assert.That(report.Errors.Count(), Is.EqualTo(2), Describe(report));
    }

    [Test]
    public void ABlockRemovedFromFreeSpaceAndOwnedByNothingIsLeaked()
    {
        var agf = _rig.Inspect(r => r.ReadAgf(1));
        var (start, count) = FirstFreeExtent(1);
        ulong fd = _rig.Inspect(r => r.Superblock.FdBlocks);
        foreach (var root in new[] { agf.BnoRoot, agf.CntRoot })
            _rig.PatchBtreeBlock(1, root, b => new XfsAllocRecord(start + 1, count - 1).WriteTo(b.AsSpan(XfsBtreeShortBlock.HeaderSize)));
        _rig.PatchSector(1, 1, XfsFormat.AgfCrcOffset, s =>
        {
            Be.Put32(s, 52, agf.FreeBlks - 1);
            Be.Put32(s, 56, agf.Longest - 1);
        });
        _rig.PatchSector(0, 0, XfsFormat.SuperblockCrcOffset, s => Be.Put64(s, 144, fd - 1));
        var report = _rig.Check();
        Assert.That(report.Errors.Select(e => e.ToString()), Is.EqualTo(new[] { $"ag 1: block {start} owned by nothing and not free (leaked)" }), Describe(report));
        // xfs_repair -n does not notice this one: it finds lost blocks only in phase 5, which -n skips.
    }

    [Test]
    public void AHandBuiltBtreeFormatFileChecksCleanHereAndInXfsRepair()
    {
        var file = BtreeFileBuilder.Add(_rig);
        var report = _rig.Check();
        Assert.That(report.IsClean, Is.True, Describe(report));
        XfsProgs.AssertRepairPasses(_rig.ImagePath, $"with btree-format inode {file.Ino}");
    }

    [Test]
    public void ABlockSharedAsOftenAsItsRefcountSaysChecksCleanHereAndInXfsRepair()
    {
        var file = BtreeFileBuilder.Add(_rig, shareFirstBlock: true);
        var report = _rig.Check();
        Assert.That(report.IsClean, Is.True, Describe(report));
        XfsProgs.AssertRepairPasses(_rig.ImagePath, $"with inode {file.Ino} sharing a block with itself");
    }

    [Test]
    public void ASharedBlockWithAWrongRefcountIsReported()
    {
        var file = BtreeFileBuilder.Add(_rig, shareFirstBlock: true);
        var agf = _rig.Inspect(r => r.ReadAgf(file.Agno));
        _rig.PatchBtreeBlock(file.Agno, agf.RefcountRoot, b => Be.Put32(b, XfsBtreeShortBlock.HeaderSize + 8, 3));
        AssertFinds(_rig.Check(), $"refcountbt {file.Agno}", $"block {file.DataAgbno} have refcount 3 but 2 data fork owners and 0 other owners");
        AssertXfsRepairFails();
    }

    [Test]
    public void SharedBlocksWithoutARefcountRecordOrReflinkFlagAreReported()
    {
        var file = BtreeFileBuilder.Add(_rig, shareFirstBlock: true);
        var agf = _rig.Inspect(r => r.ReadAgf(file.Agno));
        _rig.PatchBtreeBlock(file.Agno, agf.RefcountRoot, b => Be.Put16(b, 6, 0));
        _rig.PatchInode(file.Ino, b => b[127] &= unchecked((byte)~(byte)XfsDiFlags2.Reflink));
        var report = _rig.Check();
        AssertFinds(report, $"ag {file.Agno}", $"block {file.DataAgbno} owned 2 times: by inode {file.Ino} data fork and inode {file.Ino} data fork (shared data with no refcount record)");
        AssertXfsRepairFails();
    }

    [Test]
    public void AFileWithoutTheReflinkFlagMappingSharedBlocksIsReported()
    {
        var file = BtreeFileBuilder.Add(_rig, shareFirstBlock: true);
        _rig.PatchInode(file.Ino, b => b[127] &= unchecked((byte)~(byte)XfsDiFlags2.Reflink));
        AssertFinds(_rig.Check(), $"inode {file.Ino}", "maps shared blocks");
    }

    [Test]
    public void AFileBlockThatIsAlsoAFreeSpaceTreeBlockIsOwnedTwice()
    {
        var file = BtreeFileBuilder.Add(_rig);
        var agf = _rig.Inspect(r => r.ReadAgf(file.Agno));
        ulong target = _rig.Inspect(r => r.Geometry.AgBlockToFsb(file.Agno, agf.BnoRoot));
        _rig.Patch(_rig.AgBlockOffset(file.Agno, file.LeafAgbno), 4096,
            b => new XfsBmbtRecord(0, target, 1, false).WriteTo(b.AsSpan(XfsBtreeLongBlock.HeaderSize)), XfsBtreeLongBlock.CrcOffset);
        var report = _rig.Check();
        AssertFinds(report, $"ag {file.Agno}", $"block {agf.BnoRoot} owned 2 times: by bnobt {file.Agno} and inode {file.Ino} data fork");
        AssertFinds(report, $"ag {file.Agno}", $"block {file.DataAgbno} owned by nothing and not free (leaked)");
        AssertXfsRepairFails();
    }

    [Test]
    public void ABmbtBlockOfAnotherOwnerAndAWrongBlockCountAreReported()
    {
        var file = BtreeFileBuilder.Add(_rig);
        ulong fsb = _rig.Inspect(r => r.Geometry.AgBlockToFsb(file.Agno, file.LeafAgbno));
        _rig.Patch(_rig.AgBlockOffset(file.Agno, file.LeafAgbno), 4096, b => Be.Put64(b, 56, file.Ino + 1), XfsBtreeLongBlock.CrcOffset);
        const ulong claimed = BtreeFileBuilder.Extents + 6;
        _rig.PatchInode(file.Ino, b => Be.Put64(b, 64, claimed));
        var report = _rig.Check();
        AssertFinds(report, $"bmbt block {fsb} (inode {file.Ino} data fork)", $"owner {file.Ino + 1} is not inode {file.Ino}");
        AssertFinds(report, $"inode {file.Ino}", $"nblocks {claimed} but its forks map {BtreeFileBuilder.Extents + 1} blocks");
    }

    [Test]
    public void ABtreeFormatForkWhoseExtentsFitTheInodeIsReported()
    {
        var file = BtreeFileBuilder.Add(_rig);
        int fewer = BtreeFileBuilder.Extents - 1;
        _rig.Patch(_rig.AgBlockOffset(file.Agno, file.LeafAgbno), 4096, b => Be.Put16(b, 6, (ushort)fewer), XfsBtreeLongBlock.CrcOffset);
        _rig.PatchInode(file.Ino, b =>
        {
            Be.Put64(b, 64, (ulong)fewer + 1);
            Be.Put32(b, 76, (uint)fewer);
        });
        var report = _rig.Check();
        AssertFinds(report, $"inode {file.Ino}", $"data fork in btree format holds {fewer} extents, which fit the inode");
        AssertFinds(report, "ag 1", $"block {file.DataAgbno + fewer} owned by nothing and not free (leaked)");
        AssertXfsRepairFails();
    }

    [Test]
    public void AShortFormEntryNamingAFreeInodeIsReportedAndItsFileIsDisconnected()
    {
        var file = BtreeFileBuilder.Add(_rig);
        ulong root = _rig.Inspect(r => r.Superblock.RootIno);
        _rig.PatchInode(root, b =>
        {
            // The only entry ("bt") ends with its 4-byte inode number, at di_size - 4.
            int size = (int)Be.U64(b, 56);
            Be.Put32(b, XfsDinode.CoreSize + size - 4, (uint)file.Ino + 1);
        });
        var report = _rig.Check();
        AssertFinds(report, $"directory {root}", $"entry 'bt' names inode {file.Ino + 1}, which is free");
        AssertFinds(report, $"inode {file.Ino}", "nlink 1 but 0 directory entries name it (disconnected)");
        AssertXfsRepairFails();
    }

    [Test]
    public void AShortFormDirectoryWithABadHeaderIsReported()
    {
        BtreeFileBuilder.Add(_rig);
        ulong root = _rig.Inspect(r => r.Superblock.RootIno);
        _rig.PatchInode(root, b => b[XfsDinode.CoreSize] = 2);
        AssertFinds(_rig.Check(), $"directory {root}", "runs past di_size");
    }
}
