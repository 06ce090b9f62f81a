using DaxStack.Driver.Block;
using DaxStack.Fs.Tests.Interop;
using DaxStack.Fs.Tests.Xfs.Trans;
using DaxStack.Fs.Xfs;
using DaxStack.Fs.Xfs.Alloc;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Tests.Xfs.Alloc;

/// <summary>
/// Real xfsprogs judge what the allocator leaves on an image: xfs_repair -n accepts the image
/// while fragmentation has grown both free-space trees of both AGs to two levels, and again
/// after everything was freed in random order; xfs_db reads the heights we wrote; and a record
/// put out of order in one of our non-root leaves makes xfs_repair fail, so the check has
/// teeth. (Without rmapbt, xfs_repair -n cannot see blocks owned by nothing, so the blocks the
/// test holds mid-way pass it; our own audit checks that every block is owned.)
/// </summary>
[NonParallelizable]
public class XfsAllocInteropTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("daxstack-alloc-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    /// <summary>Allocates single blocks all over both AGs, then frees every other one: hundreds of free extents per AG.</summary>
    private OwnedExtents Fragment(string image, int blocks)
    {
        var owned = new OwnedExtents();
        using var fs = MetadataTestFs.CreateOnImage(image);
        var rng = new Random(7);
        var all = new List<XfsAgExtent>();
        for (int i = 0; i < blocks; i++)
        {
            using var tp = fs.Begin(1);
            all.Add(XfsAlloc.Allocate(tp, XfsAllocRequest.Near((uint)(i % 2), (uint)rng.Next(1, 8192), 1, 1)));
            tp.Commit();
        }
        all.Sort((a, b) => (a.AgNo, a.AgBno).CompareTo((b.AgNo, b.AgBno)));
        for (int i = 0; i < all.Count; i++)
        {
            if (i % 2 == 1)
            {
                owned.Add(all[i]);
                continue;
            }
            using var tp = fs.Begin();
            XfsAlloc.Free(tp, all[i].AgNo, all[i].AgBno, all[i].Length);
            tp.Commit();
        }
        var ags = XfsSpaceAudit.Run(fs.Device.Device, owned.In);
        Assert.That(ags.Select(a => (a.Agf.BnoLevel, a.Agf.CntLevel)), Is.All.EqualTo((2u, 2u)), "both trees of both AGs should have two levels");
        return owned;
    }

    [Test]
    public void XfsRepairAcceptsTwoLevelFreeSpaceTreesAndTheImageAfterEverythingIsFreedAgain()
    {
        string image = FsTestDevice.SparseImage(_dir, "alloc.img", 64 * MetadataTestFs.MiB);
        var owned = Fragment(image, 2400);
        var agf = XfsProgs.DbFields(image, "agf 1");
        Assert.Multiple(() =>
        {
            Assert.That((agf["bnolevel"], agf["cntlevel"]), Is.EqualTo(("2", "2")), "xfs_db reads the heights we wrote");
            Assert.That(agf["crc"], Does.EndWith("(correct)"));
        });
        XfsProgs.AssertRepairPasses(image, "with two-level free-space trees");

        ulong freeBefore;
        using (var fs = MetadataTestFs.Open(image))
        {
            freeBefore = fs.Mount.Superblock.FdBlocks;
            var rng = new Random(11);
            foreach (var e in owned.All.OrderBy(_ => rng.Next()).ToList())
            {
                using var tp = fs.Begin();
                XfsAlloc.Free(tp, e.AgNo, e.AgBno, e.Length);
                tp.Commit();
                owned.Release(e.AgNo, e.AgBno, e.Length);
            }
            var ags = XfsSpaceAudit.Run(fs.Device.Device);
            Assert.Multiple(() =>
            {
                Assert.That(ags.Select(a => (a.Agf.BnoLevel, a.Agf.CntLevel)), Is.All.EqualTo((1u, 1u)), "the trees shrink back to one leaf");
                Assert.That(fs.Mount.Superblock.FdBlocks, Is.EqualTo(freeBefore + 1200));
            });
        }
        XfsProgs.AssertRepairPasses(image, "after everything was freed");
    }

    [Test]
    public void XfsRepairRejectsARecordPutOutOfOrderInOneOfOurNonRootLeaves()
    {
        string image = FsTestDevice.SparseImage(_dir, "disorder.img", 64 * MetadataTestFs.MiB);
        Fragment(image, 2400);
        using (var dev = FsTestDevice.Image(image))
        {
            var reader = XfsMetadataReader.Open(dev.Device);
            var agf = reader.ReadAgf(1);
            var problems = new List<string>();
            var walk = XfsSpaceAudit.WalkTree(reader, XfsBtreeKind.Bno, 1, agf.BnoRoot, (int)agf.BnoLevel, problems);
            uint leaf = walk.Blocks[^1];
            var block = new byte[4096];
            reader.ReadBtreeBlock(XfsBtreeKind.Bno, 1, leaf, block);
            // Swap the leaf's first two records and restamp the CRC: only the order is wrong.
            int r0 = XfsBtreeShortBlock.HeaderSize;
            var first = block.AsSpan(r0, 8).ToArray();
            block.AsSpan(r0 + 8, 8).CopyTo(block.AsSpan(r0));
            first.CopyTo(block.AsSpan(r0 + 8));
            XfsCrc.Stamp(block, XfsFormat.ShortBtreeCrcOffset);
            Assert.That(dev.Device.Write(reader.Geometry.AgBlockOffset(1, leaf), block), Is.EqualTo(BlkStatus.Ok));
            Assert.That(dev.Device.Flush(), Is.EqualTo(BlkStatus.Ok));
        }
        var (status, output, error) = XfsProgs.RepairNoModify(image);
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.Not.Zero, $"xfs_repair -n passed a bnobt leaf with records out of order:\n{output}\n{error}");
            Assert.That(output + error, Does.Contain("out-of-order bno btree record"));
        });
    }

    [Test]
    public void AllocatingAndFreelyFreeingOnAnImageRealMkfsXfsMadeKeepsItValid()
    {
        string image = FsTestDevice.SparseImage(_dir, "mkfs.xfs.img", 64 * MetadataTestFs.MiB);
        XfsProgs.MkfsXfs(image, "-d", "agcount=2");
        using (var fs = MetadataTestFs.Open(image))
        {
            XfsSpaceAudit.Run(fs.Device.Device);
            var owned = new OwnedExtents();
            var rng = new Random(5);
            for (int i = 0; i < 1500; i++)
            {
                using var tp = fs.Begin(16);
                if (owned.Count == 0 || rng.Next(3) > 0)
                {
                    owned.Add(XfsAlloc.Allocate(tp, XfsAllocRequest.Near((uint)rng.Next(2), (uint)rng.Next(1, 8192), 1, (uint)rng.Next(1, 16))));
                }
                else
                {
                    var e = owned.All[rng.Next(owned.Count)];
                    XfsAlloc.Free(tp, e.AgNo, e.AgBno, e.Length);
                    owned.Release(e.AgNo, e.AgBno, e.Length);
                }
                tp.Commit();
            }
            XfsSpaceAudit.Run(fs.Device.Device, owned.In);
            foreach (var e in owned.All.ToList())
            {
                using var tp = fs.Begin();
                XfsAlloc.Free(tp, e.AgNo, e.AgBno, e.Length);
                tp.Commit();
                owned.Release(e.AgNo, e.AgBno, e.Length);
            }
            XfsSpaceAudit.Run(fs.Device.Device);
        }
        XfsProgs.AssertRepairPasses(image, "after allocating and freeing on a mkfs.xfs image");
    }
}
