using DaxStack.Device.Errors;
using DaxStack.Fs.Xfs.Mkfs;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Tests.Xfs.Mkfs;

/// <summary>
/// The geometry mkfs chooses, checked against what mkfs.xfs 6.1 chose for the same device size
/// and options (<c>-m crc=1,finobt=1,rmapbt=0 -i sparse=0 --unsupported</c>): agcount, agblocks,
/// dblocks, logblocks and logstart as <c>xfs_db -c 'sb 0' -c print</c> showed them.
/// </summary>
public class XfsMkfsLayoutTests
{
    private const long MiB = 1 << 20;
    private const long GiB = 1L << 30;

    private static IEnumerable<TestCaseData> MkfsXfsGeometries()
    {
        // bytes, agcount option, reflink, expected agcount, agblocks, dblocks, logblocks, logstart
        yield return new TestCaseData(32 * MiB, null, true, 2u, 4096u, 8192ul, 1368u, 4102ul).SetName("32 MiB default");
        yield return new TestCaseData(48 * MiB, null, true, 2u, 6144u, 12288ul, 1368u, 8198ul).SetName("48 MiB default");
        yield return new TestCaseData(64 * MiB, null, true, 4u, 4096u, 16384ul, 1368u, 8198ul).SetName("64 MiB default");
        yield return new TestCaseData(16383 * 4096L, null, true, 2u, 8192u, 16383ul, 1368u, 8198ul).SetName("64 MiB less a block default");
        yield return new TestCaseData(100 * MiB, null, true, 4u, 6400u, 25600ul, 1368u, 16390ul).SetName("100 MiB default");
        yield return new TestCaseData(200 * MiB, null, true, 4u, 12800u, 51200ul, 1368u, 32774ul).SetName("200 MiB default");
        yield return new TestCaseData(299 * MiB, null, true, 4u, 19136u, 76544ul, 1368u, 65542ul).SetName("299 MiB default");
        yield return new TestCaseData(300 * MiB, null, true, 4u, 19200u, 76800ul, 16384u, 65542ul).SetName("300 MiB default");
        yield return new TestCaseData(512 * MiB, null, true, 4u, 32768u, 131072ul, 16384u, 65542ul).SetName("512 MiB default");
        yield return new TestCaseData(1 * GiB, null, true, 4u, 65536u, 262144ul, 16384u, 131078ul).SetName("1 GiB default");
        yield return new TestCaseData(8 * GiB, null, true, 4u, 524288u, 2097152ul, 16384u, 1048582ul).SetName("8 GiB default");
        yield return new TestCaseData(256 * GiB, null, true, 4u, 16777216u, 67108864ul, 32768u, 33554438ul).SetName("256 GiB default");
        yield return new TestCaseData(1024 * GiB, null, true, 4u, 67108864u, 268435456ul, 131072u, 134217734ul).SetName("1 TiB default");
        yield return new TestCaseData(4096 * GiB, null, true, 4u, 268435455u, 1073741820ul, 521728u, 536870918ul).SetName("4 TiB default");
        yield return new TestCaseData(64 * MiB, 2u, true, 2u, 8192u, 16384ul, 1368u, 8198ul).SetName("64 MiB agcount 2");
        yield return new TestCaseData(64 * MiB, 3u, true, 3u, 5462u, 16384ul, 1368u, 8198ul).SetName("64 MiB agcount 3");
        yield return new TestCaseData(16383 * 4096L, 4u, true, 3u, 4096u, 12288ul, 1368u, 4102ul).SetName("short last AG dropped");
        yield return new TestCaseData(299 * MiB, 16u, true, 16u, 4784u, 76544ul, 1368u, 65542ul).SetName("299 MiB agcount 16");
        yield return new TestCaseData(300 * MiB, 16u, true, 16u, 4800u, 76800ul, 4789u, 65542ul).SetName("300 MiB agcount 16, log fills its AG");
        yield return new TestCaseData(300 * MiB, 16u, false, 16u, 4800u, 76800ul, 4790u, 65541ul).SetName("300 MiB agcount 16 without reflink");
        yield return new TestCaseData(1 * GiB, 16u, true, 16u, 16384u, 262144ul, 16373u, 131078ul).SetName("1 GiB agcount 16");
        yield return new TestCaseData(8 * GiB, 2u, true, 2u, 1048576u, 2097152ul, 16384u, 1048582ul).SetName("8 GiB agcount 2");
        yield return new TestCaseData(8 * GiB, 16u, true, 16u, 131072u, 2097152ul, 16384u, 1048582ul).SetName("8 GiB agcount 16");
        yield return new TestCaseData(64 * MiB, null, false, 4u, 4096u, 16384ul, 857u, 8197ul).SetName("64 MiB without reflink");
    }

    [TestCaseSource(nameof(MkfsXfsGeometries))]
    public void GeometryMatchesMkfsXfs(long bytes, uint? agcount, bool reflink, uint expectedAgCount, uint agblocks, ulong dblocks, uint logblocks, ulong logstart)
    {
        var sb = XfsMkfsLayout.Plan(bytes, new XfsMkfsOptions { AgCount = agcount, Reflink = reflink }).Superblock;
        Assert.That((sb.AgCount, sb.AgBlocks, sb.DataBlocks, sb.LogBlocks, sb.LogStart),
            Is.EqualTo((expectedAgCount, agblocks, dblocks, logblocks, logstart)));
    }

    // Block-by-block accounting needs a byte per block: sizes up to 8 GiB.
    private static IEnumerable<TestCaseData> UpTo8GiB() =>
        MkfsXfsGeometries().Where(t => (long)t.Arguments[0]! <= 8 * GiB).Select(t => new TestCaseData(t.Arguments[0], t.Arguments[1], t.Arguments[2]).SetName(t.TestName!));

    [TestCaseSource(nameof(UpTo8GiB))]
    public void EveryBlockIsEitherFreeOrUsedOnceAndTheCountersAgree(long bytes, uint? agcount, bool reflink)
    {
        var layout = XfsMkfsLayout.Plan(bytes, new XfsMkfsOptions { AgCount = agcount, Reflink = reflink });
        ulong free = 0, total = 0;
        var problems = new List<string>();
        foreach (var ag in layout.Ags)
        {
            var owner = new byte[ag.Length];
            void Claim(uint start, uint count, byte who)
            {
                for (uint b = start; b < start + count; b++)
                {
                    if (b >= owner.Length || owner[b] != 0)
                    {
                        problems.Add($"AG {ag.AgNo} block {b} claimed twice or outside the AG");
                        return;
                    }
                    owner[b] = who;
                }
            }
            Claim(0, layout.PreallocBlocks, 1);
            if (ag.Log is var (ls, lc))
                Claim(ls, lc, 2);
            foreach (var b in ag.AgflBlocks)
                Claim(b, 1, 3);
            if (ag.InodeChunk is uint chunk)
                Claim(chunk, XfsMkfsLayout.InodeChunkBlocks, 4);
            foreach (var e in ag.FreeExtents)
                Claim(e.StartBlock, e.BlockCount, 5);
            int unowned = Array.IndexOf(owner, (byte)0);
            if (unowned >= 0)
                problems.Add($"AG {ag.AgNo} block {unowned} is neither free nor used");
            free += ag.FreeBlocks + (ulong)ag.AgflBlocks.Length;
            total += ag.Length;
        }
        Assert.Multiple(() =>
        {
            Assert.That(problems, Is.Empty);
            Assert.That(total, Is.EqualTo(layout.Superblock.DataBlocks));
            Assert.That(layout.Superblock.FdBlocks, Is.EqualTo(free));
            Assert.That(layout.Ags.Count(a => a.Log != null), Is.EqualTo(1));
            Assert.That(layout.Geometry.FsbToOffset(layout.Superblock.LogStart), Is.EqualTo(layout.Geometry.AgBlockOffset(layout.LogAgNo, layout.PreallocBlocks)));
        });
    }

    [Test]
    public void TheRootInodeIsWhereXfsRepairComputesIt()
    {
        // xfs_ialloc_calc_rootino: 4 header sectors (1 block), bno, cnt and inode roots, the
        // initial AGFL (4), finobt and refcount roots = 10 blocks, rounded up to the 4-block
        // inode alignment: block 12, inode 96.
        var sb = XfsMkfsLayout.Plan(64 * MiB, new XfsMkfsOptions()).Superblock;
        Assert.Multiple(() =>
        {
            Assert.That((sb.RootIno, sb.RbmIno, sb.RsumIno), Is.EqualTo((96ul, 97ul, 98ul)));
            Assert.That((sb.ICount, sb.IFree), Is.EqualTo((64ul, 61ul)));
            Assert.That(sb.FdBlocks, Is.EqualTo(14984ul));
        });
    }

    [Test]
    public void SecondarySuperblocksAreTheInProgressCopyAndTwoOfThemNameTheRoot()
    {
        var layout = XfsMkfsLayout.Plan(1 * GiB, new XfsMkfsOptions { AgCount = 16 });
        var withRoot = Enumerable.Range(1, 15).Where(a => layout.SecondarySuperblockFor((uint)a).RootIno != XfsFormat.NullFsIno);
        var sb1 = layout.SecondarySuperblockFor(1);
        Assert.Multiple(() =>
        {
            Assert.That(withRoot, Is.EqualTo(new[] { 7, 15 }));
            Assert.That((sb1.InProgress, sb1.ICount, sb1.IFree), Is.EqualTo(((byte)1, 0ul, 0ul)));
            Assert.That(sb1.FdBlocks, Is.EqualTo(262144ul - 16 * 6 - 16373));
            Assert.That(sb1.RbmIno, Is.EqualTo(XfsFormat.NullFsIno));
        });
    }

    [Test]
    public void TheLabelIsStoredInFname()
    {
        var sb = XfsMkfsLayout.Plan(64 * MiB, new XfsMkfsOptions { Label = "scratch" }).Superblock;
        Assert.That(sb.Label, Is.EqualTo("scratch"));
    }

    [TestCase(8192)]
    [TestCase(1024)]
    [TestCase(65536)]
    public void ABlockSizeOtherThanThePageSizeIsRefusedNamingTheOption(int blockSize)
    {
        var e = Assert.Throws<XfsMkfsException>(() => XfsMkfsLayout.Plan(64 * MiB, new XfsMkfsOptions { BlockSize = blockSize }));
        Assert.Multiple(() =>
        {
            Assert.That(e!.Message, Does.StartWith($"-b size={blockSize}: block size must be 4096"));
            Assert.That(e.Message, Does.Contain("page size"));
            Assert.That(e.Errno, Is.EqualTo(Errno.EINVAL));
        });
    }

    [Test]
    public void ADeviceTooSmallForTwoAllocationGroupsIsRefused()
    {
        var e = Assert.Throws<XfsMkfsException>(() => XfsMkfsLayout.Plan(16 * MiB, new XfsMkfsOptions()));
        Assert.That(e!.Message, Is.EqualTo("size 4096 of data subvolume is too small, minimum 8192 blocks (2 allocation groups of 4096 blocks)"));
    }

    [Test]
    public void TooManyAllocationGroupsForTheDeviceIsRefusedAsMkfsXfsDoes()
    {
        var e = Assert.Throws<XfsMkfsException>(() => XfsMkfsLayout.Plan(64 * MiB, new XfsMkfsOptions { AgCount = 16 }));
        Assert.That(e!.Message, Does.StartWith("agsize (1024 blocks) too small, need at least 4096 blocks: -d agcount=16 is too many"));
    }

    [TestCase(0u)]
    [TestCase(1u)]
    public void FewerThanTwoAllocationGroupsIsRefused(uint agcount)
    {
        var e = Assert.Throws<XfsMkfsException>(() => XfsMkfsLayout.Plan(64 * MiB, new XfsMkfsOptions { AgCount = agcount }));
        Assert.That(e!.Message, Is.EqualTo($"-d agcount={agcount}: at least 2 allocation groups are required"));
    }

    [Test]
    public void ALabelLongerThanTwelveBytesIsRefused()
    {
        var e = Assert.Throws<XfsMkfsException>(() => XfsMkfsLayout.Plan(64 * MiB, new XfsMkfsOptions { Label = "thirteen-char" }));
        Assert.That(e!.Message, Does.StartWith("-L thirteen-char: a label is at most 12 bytes"));
    }
}
