using DaxStack.Device.Errors;
using DaxStack.Fs.Tests.Xfs.Alloc;
using DaxStack.Fs.Tests.Xfs.Bmap;
using DaxStack.Fs.Tests.Xfs.Trans;
using DaxStack.Fs.Xfs.Bmap;
using DaxStack.Fs.Xfs.Files;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Tests.Xfs.Files;

public class XfsFileIoTests
{
    private static byte[] Pattern(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    [Test]
    public void WrittenBytesReadBackAndTheSizeFollowsTheLastByte()
    {
        using var fs = MetadataTestFs.Create();
        var ip = RootLinks.CreateFile(fs.Mount, "f");
        var data = Pattern(10_000, 1);
        Assert.That(XfsFileIo.Write(ip, 100, data), Is.EqualTo(10_000L));
        Assert.That(ip.Core.Size, Is.EqualTo(10_100UL));
        var back = new byte[10_100];
        Assert.That(XfsFileIo.Read(ip, 0, back), Is.EqualTo(10_100L));
        Assert.That(back.AsSpan(0, 100).IndexOfAnyExcept((byte)0), Is.EqualTo(-1));
        Assert.That(back.AsSpan(100).SequenceEqual(data), Is.True);
        Assert.That(ip.Core.NBlocks, Is.EqualTo(3UL));
    }

    [Test]
    public void ReadsStopAtEndOfFileAndHolesReadAsZeroes()
    {
        using var fs = MetadataTestFs.Create();
        var ip = RootLinks.CreateFile(fs.Mount, "sparse");
        var data = Pattern(4096, 2);
        XfsFileIo.Write(ip, 1 << 20, data);
        Assert.That(ip.DataFork.Extents, Has.Count.EqualTo(1));
        var buf = new byte[8192];
        Assert.That(XfsFileIo.Read(ip, 4096, buf), Is.EqualTo(8192L));
        Assert.That(buf.AsSpan().IndexOfAnyExcept((byte)0), Is.EqualTo(-1));
        Assert.That(XfsFileIo.Read(ip, (1 << 20) + 4000, buf), Is.EqualTo(96L));
        Assert.That(XfsFileIo.Read(ip, (1 << 20) + 4096, buf), Is.Zero);
    }

    [Test]
    public void AnOverwriteReusesTheBlocksAndAllocatesNothing()
    {
        using var fs = MetadataTestFs.Create();
        var ip = RootLinks.CreateFile(fs.Mount, "f");
        XfsFileIo.Write(ip, 0, Pattern(16384, 3));
        var before = ip.DataFork.Extents.ToList();
        ulong free = fs.Mount.Superblock.FdBlocks;
        var again = Pattern(5000, 4);
        XfsFileIo.Write(ip, 3000, again);
        Assert.That((ip.DataFork.Extents, fs.Mount.Superblock.FdBlocks), Is.EqualTo((before, free)));
        var back = new byte[5000];
        XfsFileIo.Read(ip, 3000, back);
        Assert.That(back, Is.EqualTo(again));
    }

    [Test]
    public void WritingIntoPreallocatedUnwrittenBlocksConvertsOnlyTheWrittenBlocks()
    {
        using var fs = MetadataTestFs.Create();
        var ip = RootLinks.CreateFile(fs.Mount, "f");
        BmapTestOps.Allocate(fs.Mount, ip, 0, 8, unwritten: true);
        XfsFileIo.Truncate(ip, 8 * 4096);
        var buf = new byte[8 * 4096];
        Assert.That(XfsFileIo.Read(ip, 0, buf), Is.EqualTo(8 * 4096L));
        Assert.That(buf.AsSpan().IndexOfAnyExcept((byte)0), Is.EqualTo(-1));
        var data = Pattern(100, 5);
        XfsFileIo.Write(ip, 2 * 4096 + 10, data);
        Assert.That(ip.DataFork.Extents.Select(e => (e.StartOff, e.BlockCount, e.Unwritten)), Is.EqualTo(new[] { (0UL, 2u, true), (2UL, 1u, false), (3UL, 5u, true) }));
        XfsFileIo.Read(ip, 0, buf);
        Assert.That(buf.AsSpan(2 * 4096 + 10, 100).SequenceEqual(data), Is.True);
        Assert.That(buf.AsSpan(0, 2 * 4096 + 10).IndexOfAnyExcept((byte)0), Is.EqualTo(-1));
    }

    [Test]
    public void TruncatingDownFreesTheBlocksAndZeroesTheTailSoGrowingAgainReadsZeroes()
    {
        using var fs = MetadataTestFs.Create();
        var ip = RootLinks.CreateFile(fs.Mount, "f");
        XfsFileIo.Write(ip, 0, Pattern(40_000, 6));
        ulong free = fs.Mount.Superblock.FdBlocks;
        XfsFileIo.Truncate(ip, 5000);
        Assert.That((ip.Core.Size, ip.Core.NBlocks), Is.EqualTo((5000UL, 2UL)));
        Assert.That(fs.Mount.Superblock.FdBlocks - free, Is.EqualTo(8UL));
        XfsFileIo.Truncate(ip, 20_000);
        var buf = new byte[15_000];
        Assert.That(XfsFileIo.Read(ip, 5000, buf), Is.EqualTo(15_000L));
        Assert.That(buf.AsSpan().IndexOfAnyExcept((byte)0), Is.EqualTo(-1));
        XfsSpaceAudit.Run(fs.Device.Device, agno => BmapTestOps.OwnedBlocks(ip).Where(b => b.AgNo == agno).Select(b => (b.Start, b.Length)));
    }

    [Test]
    public void TruncatingAHugelyFragmentedFileToZeroTakesSeveralTransactionsAndFreesEverything()
    {
        using var fs = MetadataTestFs.Create();
        var ip = RootLinks.CreateFile(fs.Mount, "frag");
        BmapTestOps.Fragment(fs.Mount, ip, 700);
        XfsFileIo.Truncate(ip, 2 * 700 * 4096);
        Assert.That(ip.DataFork.Format, Is.EqualTo(XfsDinodeFormat.Btree));
        XfsFileIo.Truncate(ip, 0);
        Assert.That((ip.DataFork.Count, ip.DataFork.Format, ip.Core.NBlocks, ip.Core.Size), Is.EqualTo((0, XfsDinodeFormat.Extents, 0UL, 0UL)));
        XfsSpaceAudit.Run(fs.Device.Device);
    }

    [Test]
    public void AWriteThatFillsTheFilesystemIsShortAndTheNextFailsWithEnospc()
    {
        using var fs = MetadataTestFs.Create(64 * MetadataTestFs.MiB);
        var ip = RootLinks.CreateFile(fs.Mount, "fill");
        var chunk = new byte[8 << 20];
        long total = 0;
        XfsException? failure = null;
        for (int i = 0; i < 20 && failure == null; i++)
        {
            try
            {
                long n = XfsFileIo.Write(ip, total, chunk);
                total += n;
                if (n < chunk.Length)
                    Assert.That(n % 4096, Is.Zero, "a short write stops at a block boundary");
            }
            catch (XfsException e)
            {
                failure = e;
            }
        }
        Assert.That(failure?.Errno, Is.EqualTo(Errno.ENOSPC));
        Assert.That((long)ip.Core.Size, Is.EqualTo(total));
        Assert.That(total, Is.GreaterThan(50L << 20));
    }

    [Test]
    public void WritesPastTheLargestFileSizeFailWithEfbigAndNegativeSizesWithEinval()
    {
        using var fs = MetadataTestFs.Create();
        var ip = RootLinks.CreateFile(fs.Mount, "f");
        Assert.That(Assert.Throws<XfsException>(() => XfsFileIo.Write(ip, XfsFileIo.MaxBytes, new byte[1]))!.Errno, Is.EqualTo(Errno.EFBIG));
        Assert.That(Assert.Throws<XfsException>(() => XfsFileIo.Truncate(ip, -1))!.Errno, Is.EqualTo(Errno.EINVAL));
    }

    [Test]
    public void ReadingAPoisonedBlockFailsWithEioAndRewritingItWholeClearsThePoison()
    {
        using var fs = MetadataTestFs.Create();
        var ip = RootLinks.CreateFile(fs.Mount, "f");
        XfsFileIo.Write(ip, 0, Pattern(3 * 4096, 7));
        long blockOffset = fs.Mount.Geometry.FsbToOffset(XfsBmap.Lookup(ip, 1).StartBlock);
        var region = fs.Device.Region;
        region.InjectError(region.Namespaces[0], blockOffset / 512, 8);
        var buf = new byte[4096];
        Assert.That(XfsFileIo.Read(ip, 0, buf), Is.EqualTo(4096L), "the block before the poison reads");
        // As dax_iomap_iter: direct_access over a range holding known bad blocks fails the read.
        Assert.That(Assert.Throws<XfsException>(() => XfsFileIo.Read(ip, 0, new byte[8192]))!.Errno, Is.EqualTo(Errno.EIO));
        Assert.That(Assert.Throws<XfsException>(() => XfsFileIo.Read(ip, 4096, buf))!.Errno, Is.EqualTo(Errno.EIO));
        var fresh = Pattern(4096, 8);
        Assert.That(XfsFileIo.Write(ip, 4096, fresh), Is.EqualTo(4096L));
        Assert.That(XfsFileIo.Read(ip, 4096, buf), Is.EqualTo(4096L));
        Assert.That(buf, Is.EqualTo(fresh));
    }

    [Test]
    public void WrittenDataSurvivesARemount()
    {
        using var fs = MetadataTestFs.Create();
        var ip = RootLinks.CreateFile(fs.Mount, "f");
        var data = Pattern(70_000, 9);
        XfsFileIo.Write(ip, 0, data);
        var again = BmapTestOps.Reread(fs, ip.Ino);
        var back = new byte[70_000];
        Assert.That(XfsFileIo.Read(again, 0, back), Is.EqualTo(70_000L));
        Assert.That(back, Is.EqualTo(data));
    }
}
