using DaxStack.Device.Errors;
using DaxStack.Fs.Xfs;
using DaxStack.Fs.Xfs.Buffers;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Tests.Xfs.Trans;

public class XfsTransactionTests
{
    private static XfsAgf MediaAgf(MetadataTestFs fs, uint agno) => XfsMetadataReader.Open(fs.Device.Device).ReadAgf(agno);

    [Test]
    public void ACommitWritesTheChangedHeaderHomeWithAValidCrc()
    {
        using var fs = MetadataTestFs.Create();
        uint before = MediaAgf(fs, 1).Longest;
        using (var tp = fs.Begin())
        {
            var agf = XfsAgHeaders.ReadAgf(tp, 1);
            agf.Longest = before - 5;
            XfsAgHeaders.WriteAgf(tp, 1, agf);
            Assert.That(MediaAgf(fs, 1).Longest, Is.EqualTo(before), "nothing reaches the media before commit");
            tp.Commit();
        }
        Assert.That(MediaAgf(fs, 1).Longest, Is.EqualTo(before - 5));
    }

    [Test]
    public void EachBufferKeepsTheRangesItsTransactionLoggedSortedAndMerged()
    {
        var committer = new KeepDirtyCommitter();
        using var fs = MetadataTestFs.Create(options: new XfsMountOptions { Committer = committer });
        using (var tp = fs.Begin())
        {
            var bp = tp.ReadBuffer(fs.Mount.Geometry.AgBlockToDaddr(1, 1), 4096, XfsBtreeBufferOps.For(XfsBtreeKind.Bno));
            tp.LogBuffer(bp, 100, 4);
            tp.LogBuffer(bp, 50, 2);
            tp.LogBuffer(bp, 104, 4);
            tp.LogBuffer(bp, 102, 1);
            var agf = XfsAgHeaders.ReadAgf(tp, 1);
            agf.Longest--;
            XfsAgHeaders.WriteAgf(tp, 1, agf);
            tp.Commit();
        }
        var commit = committer.Commits.Single();
        Assert.Multiple(() =>
        {
            Assert.That(commit[0].Buffer, Is.EqualTo("bnobt block 1/1"));
            Assert.That(commit[0].Ranges, Is.EqualTo(new[] { new XfsBufferRange(50, 2), new XfsBufferRange(100, 8) }));
            // Only agf_longest's changed low byte is logged, never the CRC.
            Assert.That(commit[1].Buffer, Is.EqualTo("agf 1"));
            Assert.That(commit[1].Ranges, Is.EqualTo(new[] { new XfsBufferRange(59, 1) }));
        });
    }

    [Test]
    public void CancelPutsEveryBufferBackAndForgetsTheOnesItCreated()
    {
        using var fs = MetadataTestFs.Create();
        var mp = fs.Mount;
        var geo = mp.Geometry;
        var agfBuffer = mp.Buffers.Read(XfsAgHeaders.AgfDaddr(geo, 1), 512, XfsAgfBufferOps.Instance);
        byte[] original = (byte[])agfBuffer.Data.Clone();
        ulong newBlock = geo.AgBlockToDaddr(1, 2000);
        var tp = fs.Begin();
        var agf = XfsAgHeaders.ReadAgf(tp, 1);
        agf.FreeBlks -= 10;
        agf.Longest -= 10;
        XfsAgHeaders.WriteAgf(tp, 1, agf);
        var created = tp.GetBuffer(newBlock, 4096, XfsBtreeBufferOps.For(XfsBtreeKind.Bno));
        created.Data[0] = 1;
        tp.LogBuffer(created, 0, 1);
        tp.Cancel();

        Assert.Multiple(() =>
        {
            Assert.That(agfBuffer.Data, Is.EqualTo(original));
            Assert.That(agfBuffer.IsDirty, Is.False);
            Assert.That(mp.Buffers.Find(newBlock, 4096), Is.Null);
            Assert.That(tp.IsActive, Is.False);
            Assert.That(mp.ReservedBlocks, Is.Zero);
        });
        using var again = fs.Begin();
        Assert.That(XfsAgHeaders.ReadAgf(again, 1).FreeBlks, Is.EqualTo(XfsAgf.Decode(original).FreeBlks), "a new transaction can take the buffer");
    }

    [Test]
    public void DisposingATransactionThatDidNotCommitCancelsIt()
    {
        using var fs = MetadataTestFs.Create();
        uint before;
        using (var tp = fs.Begin(4))
        {
            var agf = XfsAgHeaders.ReadAgf(tp, 0);
            before = agf.FreeBlks;
            agf.FreeBlks--;
            XfsAgHeaders.WriteAgf(tp, 0, agf);
            tp.ModifyFreeBlocks(-1);
        }
        using var check = fs.Begin();
        Assert.Multiple(() =>
        {
            Assert.That(XfsAgHeaders.ReadAgf(check, 0).FreeBlks, Is.EqualTo(before));
            Assert.That(fs.Mount.ReservedBlocks, Is.Zero);
        });
    }

    [Test]
    public void ReservingMoreBlocksThanAreAvailableIsEnospcUpFront()
    {
        using var fs = MetadataTestFs.Create();
        var mp = fs.Mount;
        ulong available = mp.FreeBlocksAvailable;
        Assert.That(available, Is.EqualTo(mp.Superblock.FdBlocks - mp.AllocSetAside));

        var e = Assert.Throws<XfsException>(() => XfsTransaction.Begin(mp, (uint)available + 1));
        Assert.That(e!.Errno, Is.EqualTo(Errno.ENOSPC));
        using var big = XfsTransaction.Begin(mp, (uint)available - 10);
        var second = Assert.Throws<XfsException>(() => XfsTransaction.Begin(mp, 11));
        Assert.That(second!.Errno, Is.EqualTo(Errno.ENOSPC), "live reservations count against later ones");
        using var small = XfsTransaction.Begin(mp, 10);
    }

    [Test]
    public void AllocatingMoreThanTheReservationIsRefusedAsABug()
    {
        using var fs = MetadataTestFs.Create();
        using var tp = fs.Begin(5);
        tp.ModifyFreeBlocks(-5);
        Assert.Throws<InvalidOperationException>(() => tp.ModifyFreeBlocks(-1));
    }

    [Test]
    public void SuperblockCountersChangeOnlyAtCommitAndReachTheMedia()
    {
        using var fs = MetadataTestFs.Create();
        var sb = fs.Mount.Superblock;
        ulong fd = sb.FdBlocks, icount = sb.ICount, ifree = sb.IFree;
        using (var tp = fs.Begin(3))
        {
            tp.ModifyFreeBlocks(-3);
            tp.ModifyInodeCount(64);
            tp.ModifyFreeInodes(63);
            Assert.That(sb.FdBlocks, Is.EqualTo(fd));
            tp.Commit();
        }
        var media = XfsMetadataReader.Open(fs.Device.Device).Superblock;
        Assert.Multiple(() =>
        {
            Assert.That((sb.FdBlocks, sb.ICount, sb.IFree), Is.EqualTo((fd - 3, icount + 64, ifree + 63)));
            Assert.That((media.FdBlocks, media.ICount, media.IFree), Is.EqualTo((fd - 3, icount + 64, ifree + 63)));
        });
    }

    [Test]
    public void AnInvalidatedBufferIsHandedOverStaleAndLeavesTheCacheUnwritten()
    {
        var committer = new KeepDirtyCommitter();
        using var fs = MetadataTestFs.Create(options: new XfsMountOptions { Committer = committer });
        ulong daddr = fs.Mount.Geometry.AgBlockToDaddr(1, 3);
        using (var tp = fs.Begin())
        {
            var bp = tp.ReadBuffer(daddr, 4096, XfsBtreeBufferOps.For(XfsBtreeKind.Ino));
            bp.Data[100] ^= 0xFF;
            tp.LogBuffer(bp, 100, 1);
            tp.Invalidate(bp);
            tp.Commit();
        }
        var item = committer.Commits.Single().Single();
        Assert.Multiple(() =>
        {
            Assert.That(item.Stale, Is.True);
            Assert.That(item.Ranges, Is.Empty);
            Assert.That(fs.Mount.Buffers.Find(daddr, 4096), Is.Null);
        });
    }

    [Test]
    public void ABufferHeldByOneTransactionCannotJoinAnother()
    {
        using var fs = MetadataTestFs.Create();
        using var first = fs.Begin();
        XfsAgHeaders.ReadAgf(first, 0);
        using var second = fs.Begin();
        Assert.Throws<InvalidOperationException>(() => XfsAgHeaders.ReadAgf(second, 0));
    }

    [Test]
    public void ACommitTheWriteVerifierRefusesShutsTheFilesystemDown()
    {
        using var fs = MetadataTestFs.Create();
        using (var tp = fs.Begin())
        {
            var bp = XfsAgHeaders.ReadAgfBuffer(tp, 1);
            Be.Put32(bp.Data, 8, 5); // agf_seqno of another AG
            tp.LogBuffer(bp, 8, 4);
            var e = Assert.Throws<XfsCorruptionException>(tp.Commit);
            Assert.That(e!.Message, Does.StartWith("agf 1: write verifier refused the buffer"));
        }
        Assert.Multiple(() =>
        {
            Assert.That(fs.Mount.IsShutdown, Is.True);
            Assert.That(Assert.Throws<XfsException>(() => fs.Begin())!.Errno, Is.EqualTo(Errno.EIO));
            Assert.That(XfsMetadataReader.Open(fs.Device.Device).ReadAgf(1).SeqNo, Is.EqualTo(1u), "the bad AGF never reached the media");
        });
    }

    [TestCase(true)]
    [TestCase(false)]
    public void AFreedInodeClusterAndANewBlockAtItsAddressCoexistUntilTheTransactionEnds(bool commit)
    {
        using var fs = MetadataTestFs.Create();
        var mp = fs.Mount;
        ulong daddr = mp.Geometry.AgBlockToDaddr(1, 3000);
        using (var tp = fs.Begin())
        {
            var cluster = tp.GetBuffer(daddr, 16384, XfsInodeBufferOps.Instance);
            tp.Invalidate(cluster);
            // The freed cluster's first block comes back as a B+tree block in the same transaction.
            var block = tp.GetBuffer(daddr, 4096, XfsBtreeBufferOps.For(XfsBtreeKind.Bno));
            Assert.That(block, Is.Not.SameAs(cluster));
            new XfsBtreeShortBlock { Kind = XfsBtreeKind.Bno, BlkNo = daddr, Uuid = mp.MetadataUuid, Owner = 1 }.WriteTo(block.Data);
            tp.LogBuffer(block, 0, XfsBtreeShortBlock.HeaderSize);
            if (commit)
                tp.Commit();
            else
                tp.Cancel();
        }
        Assert.Multiple(() =>
        {
            Assert.That(mp.Buffers.Find(daddr, 16384), Is.Null, "the stale cluster is gone either way");
            Assert.That(mp.Buffers.Find(daddr, 4096) is { IsDirty: false }, Is.EqualTo(commit));
        });
        if (commit)
        {
            var block = new byte[4096];
            Assert.That(XfsMetadataReader.Open(fs.Device.Device).ReadBtreeBlock(XfsBtreeKind.Bno, 1, 3000, block).NumRecs, Is.Zero);
        }
    }
}
