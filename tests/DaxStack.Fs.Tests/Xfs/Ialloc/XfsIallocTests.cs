using DaxStack.Device.Errors;
using DaxStack.Fs.Tests.Xfs.Alloc;
using DaxStack.Fs.Tests.Xfs.Trans;
using DaxStack.Fs.Xfs;
using DaxStack.Fs.Xfs.Alloc;
using DaxStack.Fs.Xfs.Ialloc;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Tests.Xfs.Ialloc;

public class XfsIallocTests
{
    private static ulong Allocate(MetadataTestFs fs, ulong parent, bool directory = false)
    {
        using var tp = fs.Begin(XfsIalloc.AllocateReservation(fs.Mount));
        ulong ino = XfsIalloc.Allocate(tp, parent, directory);
        tp.Commit();
        return ino;
    }

    private static void Free(MetadataTestFs fs, ulong ino)
    {
        using var tp = fs.Begin(XfsIalloc.FreeReservation(fs.Mount));
        XfsIalloc.Free(tp, ino);
        tp.Commit();
    }

    private static bool IsAllocated(MetadataTestFs fs, ulong ino)
    {
        using var tp = fs.Begin();
        return XfsIalloc.IsAllocated(tp, ino);
    }

    [Test]
    public void AFilesInodeIsTheFreeInodeNearestItsParent()
    {
        using var fs = MetadataTestFs.Create();
        ulong root = fs.Mount.Superblock.RootIno;
        Assert.Multiple(() =>
        {
            Assert.That(Allocate(fs, root), Is.EqualTo(root + 3), "the root chunk's first free inode");
            Assert.That(Allocate(fs, root), Is.EqualTo(root + 4));
            Assert.That(IsAllocated(fs, root + 4), Is.True);
            Assert.That(IsAllocated(fs, root + 5), Is.False);
        });
        var ag = XfsSpaceAudit.Run(fs.Device.Device)[0];
        Assert.Multiple(() =>
        {
            Assert.That((ag.Agi.Count, ag.Agi.FreeCount), Is.EqualTo((64u, 59u)));
            Assert.That((fs.Mount.Superblock.ICount, fs.Mount.Superblock.IFree), Is.EqualTo((64UL, 59UL)));
        });
    }

    [Test]
    public void WhenTheChunkIsFullANewChunkGoesRightAfterItWithEveryInodeInitialised()
    {
        using var fs = MetadataTestFs.Create();
        var geo = fs.Mount.Geometry;
        ulong root = fs.Mount.Superblock.RootIno;
        for (int i = 0; i < 61; i++)
            Allocate(fs, root);
        ulong ino = Allocate(fs, root);
        uint rootChunk = geo.AginoToAgbno(geo.InoToAgino(root));
        uint chunk = rootChunk + fs.Mount.InodeChunkBlocks;
        var ag = XfsSpaceAudit.Run(fs.Device.Device)[0];
        Assert.Multiple(() =>
        {
            Assert.That(ino, Is.EqualTo(geo.MakeIno(0, geo.AgBlockToAgino(chunk))), "the first inode of the chunk after the root chunk");
            Assert.That((ag.Agi.Count, ag.Agi.FreeCount, ag.Agi.NewIno), Is.EqualTo((128u, 63u, geo.AgBlockToAgino(chunk))));
            Assert.That(ag.Inodes.Select(r => (r.StartIno, r.FreeCount)), Is.EqualTo(new[] { (geo.InoToAgino(root), 0u), (geo.AgBlockToAgino(chunk), 63u) }));
            Assert.That((fs.Mount.Superblock.ICount, fs.Mount.Superblock.IFree), Is.EqualTo((128UL, 63UL)));
        });

        var reader = XfsMetadataReader.Open(fs.Device.Device);
        var inodes = Enumerable.Range(0, 64).Select(i => reader.ReadInode(ino + (ulong)i)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(inodes.Select(d => d.Version), Is.All.EqualTo(XfsDinode.Version3));
            Assert.That(inodes.Select(d => d.Mode), Is.All.Zero, "free inodes, and the allocated one is the caller's to set up");
            Assert.That(inodes.Select(d => d.NextUnlinked), Is.All.EqualTo(XfsFormat.NullAgIno));
            Assert.That(inodes.Select(d => d.Gen).Distinct().Count(), Is.EqualTo(1), "one generation for the whole chunk");
            Assert.That(inodes.Select(d => d.Uuid), Is.All.EqualTo(MetadataTestFs.Uuid));
        });
    }

    [Test]
    public void AFilesInodeComesFromItsParentsAgInAChunkOnTheInodeAlignment()
    {
        using var fs = MetadataTestFs.Create();
        var geo = fs.Mount.Geometry;
        ulong parent = geo.MakeIno(1, geo.AgBlockToAgino(4000));
        ulong ino = Allocate(fs, parent);
        uint firstFree = fs.Layout!.Ags[1].FreeExtents[0].StartBlock;
        uint align = fs.Mount.Superblock.InoAlignMt;
        Assert.Multiple(() =>
        {
            Assert.That(geo.InoToAgno(ino), Is.EqualTo(1u));
            // Near the inobt root at the start of the AG: the first aligned free block.
            Assert.That(geo.AginoToAgbno(geo.InoToAgino(ino)), Is.EqualTo((firstFree + align - 1) / align * align));
        });
        XfsSpaceAudit.Run(fs.Device.Device);
    }

    [Test]
    public void DirectoriesAreSpreadOverTheAgs()
    {
        using var fs = MetadataTestFs.Create();
        var geo = fs.Mount.Geometry;
        ulong root = fs.Mount.Superblock.RootIno;
        var ags = Enumerable.Range(0, 4).Select(_ => geo.InoToAgno(Allocate(fs, root, directory: true))).ToList();
        Assert.That(ags, Is.EqualTo(new uint[] { 0, 1, 0, 1 }));
    }

    [Test]
    public void FreeingAnInodeMarksItFreeInBothTreesAndCountsIt()
    {
        using var fs = MetadataTestFs.Create();
        ulong root = fs.Mount.Superblock.RootIno;
        var taken = Enumerable.Range(0, 61).Select(_ => Allocate(fs, root)).ToList();
        Assert.That(XfsSpaceAudit.Run(fs.Device.Device)[0].Agi.FreeCount, Is.Zero, "the root chunk is full and out of the finobt");
        Free(fs, taken[10]);
        var ag = XfsSpaceAudit.Run(fs.Device.Device)[0];
        Assert.Multiple(() =>
        {
            Assert.That(IsAllocated(fs, taken[10]), Is.False);
            Assert.That((ag.Agi.Count, ag.Agi.FreeCount), Is.EqualTo((64u, 1u)));
            Assert.That(fs.Mount.Superblock.IFree, Is.EqualTo(1UL));
            Assert.That(Allocate(fs, root), Is.EqualTo(taken[10]), "the only free inode is handed out again");
        });
    }

    [Test]
    public void FreeingTheLastUsedInodeOfAChunkFreesTheChunkAndItsBlocks()
    {
        using var fs = MetadataTestFs.Create();
        var geo = fs.Mount.Geometry;
        ulong parent = geo.MakeIno(1, geo.AgBlockToAgino(4000));
        ulong fdBefore = fs.Mount.Superblock.FdBlocks;
        var before = XfsSpaceAudit.Run(fs.Device.Device)[1];
        ulong a = Allocate(fs, parent), b = Allocate(fs, parent);
        ulong cluster = geo.AgBlockToDaddr(1, geo.AginoToAgbno(geo.InoToAgino(a)));
        Assert.That(fs.Mount.Buffers.Find(cluster, 16384), Is.Not.Null, "the new chunk's cluster is cached");
        Free(fs, a);
        Free(fs, b);
        var after = XfsSpaceAudit.Run(fs.Device.Device)[1];
        Assert.Multiple(() =>
        {
            Assert.That(after.Inodes, Is.Empty);
            Assert.That((after.Agi.Count, after.Agi.FreeCount), Is.EqualTo((0u, 0u)));
            Assert.That(after.Free, Is.EqualTo(before.Free));
            Assert.That(fs.Mount.Superblock.FdBlocks, Is.EqualTo(fdBefore));
            Assert.That((fs.Mount.Superblock.ICount, fs.Mount.Superblock.IFree), Is.EqualTo((64UL, 61UL)));
            Assert.That(fs.Mount.Buffers.Find(cluster, 16384), Is.Null, "the freed chunk's buffers are gone");
        });
    }

    [Test]
    public void WithIkeepAChunkWhoseInodesAreAllFreeStays()
    {
        using var fs = MetadataTestFs.Create(options: new XfsMountOptions { Ikeep = true });
        var geo = fs.Mount.Geometry;
        ulong parent = geo.MakeIno(1, geo.AgBlockToAgino(4000));
        ulong a = Allocate(fs, parent);
        Free(fs, a);
        var ag = XfsSpaceAudit.Run(fs.Device.Device)[1];
        Assert.Multiple(() =>
        {
            Assert.That(ag.Inodes.Select(r => (r.FreeCount, r.Free)), Is.EqualTo(new[] { (64u, ulong.MaxValue) }));
            Assert.That((ag.Agi.Count, ag.Agi.FreeCount), Is.EqualTo((64u, 64u)));
            Assert.That(Allocate(fs, parent), Is.EqualTo(a), "the kept chunk serves the next allocation");
        });
    }

    [Test]
    public void FreeingAFreeInodeOrOneOutsideEveryChunkIsCorruptionAndANonsenseNumberIsEinval()
    {
        using var fs = MetadataTestFs.Create();
        var geo = fs.Mount.Geometry;
        ulong root = fs.Mount.Superblock.RootIno;
        using var tp = fs.Begin(16);
        Assert.Multiple(() =>
        {
            Assert.That(Assert.Throws<XfsCorruptionException>(() => XfsIalloc.Free(tp, root + 10))!.Message, Does.Contain("already free"));
            Assert.That(Assert.Throws<XfsCorruptionException>(() => XfsIalloc.Free(tp, geo.MakeIno(0, geo.AgBlockToAgino(3000))))!.Message,
                Does.Contain("in no allocated chunk"));
            Assert.That(Assert.Throws<XfsException>(() => XfsIalloc.Free(tp, geo.MakeIno(7, 100)))!.Errno, Is.EqualTo(Errno.EINVAL));
        });
    }

    [Test]
    public void WithNoFreeInodeAndNoAgRoomForAChunkAllocationIsEnospc()
    {
        using var fs = MetadataTestFs.Create();
        ulong root = fs.Mount.Superblock.RootIno;
        // Allocate every free block but for 3-block holes: plenty of free blocks, none 8 long.
        for (uint agno = 0; agno < 2; agno++)
        {
            foreach (var free in fs.Layout!.Ags[(int)agno].FreeExtents)
            {
                for (uint b = free.StartBlock; b < free.StartBlock + free.BlockCount; b += 203)
                {
                    uint length = Math.Min(200, free.StartBlock + free.BlockCount - b);
                    using var tp = fs.Begin(length);
                    XfsAlloc.Allocate(tp, XfsAllocRequest.Exact(agno, b, length, length));
                    tp.Commit();
                }
            }
        }
        for (int i = 0; i < 61; i++)
            Allocate(fs, root);
        using var last = fs.Begin(XfsIalloc.AllocateReservation(fs.Mount));
        var e = Assert.Throws<XfsException>(() => XfsIalloc.Allocate(last, root));
        Assert.Multiple(() =>
        {
            Assert.That(e!.Errno, Is.EqualTo(Errno.ENOSPC));
            Assert.That(e.Message, Does.Contain("no room for a new inode chunk"));
            Assert.That(fs.Mount.FreeBlocksAvailable, Is.GreaterThan(100UL));
        });
    }

    [Test]
    public void ATransactionThatReservedNoBlocksOnlyTakesInodesThatAreAlreadyFree()
    {
        using var fs = MetadataTestFs.Create();
        ulong root = fs.Mount.Superblock.RootIno;
        for (int i = 0; i < 61; i++)
        {
            using var tp = XfsTransaction.Begin(fs.Mount);
            XfsIalloc.Allocate(tp, root);
            tp.Commit();
        }
        using var last = XfsTransaction.Begin(fs.Mount);
        var e = Assert.Throws<XfsException>(() => XfsIalloc.Allocate(last, root));
        Assert.Multiple(() =>
        {
            Assert.That(e!.Errno, Is.EqualTo(Errno.ENOSPC));
            Assert.That(e.Message, Does.Contain("reserved no blocks"));
        });
    }

    [Test]
    public void CancellingAnAllocationThatMadeAChunkLeavesNoTrace()
    {
        using var fs = MetadataTestFs.Create();
        var geo = fs.Mount.Geometry;
        ulong parent = geo.MakeIno(1, geo.AgBlockToAgino(4000));
        var before = XfsSpaceAudit.Run(fs.Device.Device);
        ulong ino;
        using (var tp = fs.Begin(XfsIalloc.AllocateReservation(fs.Mount)))
        {
            ino = XfsIalloc.Allocate(tp, parent);
            tp.Cancel();
        }
        var after = XfsSpaceAudit.Run(fs.Device.Device);
        Assert.Multiple(() =>
        {
            Assert.That(after[1].Inodes, Is.Empty);
            Assert.That(after[1].Free, Is.EqualTo(before[1].Free));
            Assert.That(fs.Mount.Buffers.Find(geo.AgBlockToDaddr(1, geo.AginoToAgbno(geo.InoToAgino(ino))), 16384), Is.Null);
            Assert.That(Allocate(fs, parent), Is.EqualTo(ino), "the same inode comes out when it is done for real");
        });
    }
}
