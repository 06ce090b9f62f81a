using DaxStack.Device.Crash;
using DaxStack.Driver.Block;
using DaxStack.Fs.Tests.Xfs.Alloc;
using DaxStack.Fs.Xfs.Alloc;
using DaxStack.Fs.Xfs.Buffers;
using DaxStack.Fs.Xfs.Log;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Tests.Xfs.Mount;

/// <summary>Buffer cancel records: replay skips what was logged for a block before it was freed, and replays what was logged after it was reused as metadata.</summary>
public class XfsBufferCancelTests
{
    // Fills the root's chunk and a second one, then frees the second (its inode buffers are
    // invalidated and its blocks freed): returns the second chunk's extent.
    private static (XfsAgExtent Chunk, List<ulong> Kept) FreeASecondChunk(MountedFs fs)
    {
        var geo = fs.Mount.Geometry;
        ulong root = fs.Mount.Superblock.RootIno;
        var inodes = Enumerable.Range(0, 125).Select(_ => fs.AllocateInode().Ino).ToList();
        var second = inodes.Where(i => i < root || i >= root + 64).ToList();
        Assert.That(second, Has.Count.EqualTo(64), "one new chunk");
        foreach (ulong ino in second)
            fs.FreeInode(ino);
        uint agno = geo.InoToAgno(second.Min());
        uint agbno = geo.AginoToAgbno(geo.InoToAgino(second.Min()));
        fs.Mount.ForceLogAll();
        return (new XfsAgExtent(agno, agbno, fs.Mount.InodeChunkBlocks), inodes.Except(second).ToList());
    }

    [Test]
    public void AFreedMetadataBlockReusedAsDataKeepsItsDataThroughReplay()
    {
        using var fs = MountedFs.Create();
        var (chunk, kept) = FreeASecondChunk(fs);
        var (data, seq) = fs.Allocate(XfsAllocRequest.Exact(chunk.AgNo, chunk.AgBno, chunk.Length, chunk.Length));
        Assert.That(data, Is.EqualTo(chunk));
        fs.Mount.ForceLog(seq);
        // File data is written in place, never logged.
        long offset = fs.Mount.Geometry.AgBlockOffset(data.AgNo, data.AgBno);
        var pattern = new byte[data.Length * 4096];
        new Random(5).NextBytes(pattern);
        Assert.That(fs.Device.Device.Write(offset, pattern), Is.EqualTo(BlkStatus.Ok));
        Assert.That(fs.Device.Device.Flush(), Is.EqualTo(BlkStatus.Ok));

        // The log still holds the chunk's inode buffers as first logged, and the cancel after them.
        var log = XlogReader.Read(fs.Device.Device, XlogLocation.FromGeometry(fs.Mount.Geometry, fs.Mount.Superblock.Uuid));
        ulong daddr = fs.Mount.Geometry.AgBlockToDaddr(chunk.AgNo, chunk.AgBno);
        Assert.Multiple(() =>
        {
            Assert.That(log.Transactions.SelectMany(t => t.Transaction.Regions).Any(r => r.Daddr >= daddr && r.Daddr < daddr + chunk.Length * 8), Is.True, "the inode buffers were logged");
            Assert.That(log.Transactions.SelectMany(t => t.Transaction.BufferCancels).Any(c => c.Daddr >= daddr && c.Daddr < daddr + chunk.Length * 8), Is.True, "and cancelled");
        });

        fs.CrashAndRemount(CrashPolicy.Strict);
        var back = new byte[pattern.Length];
        Assert.That(fs.Device.Device.Read(offset, back), Is.EqualTo(BlkStatus.Ok));
        Assert.Multiple(() =>
        {
            Assert.That(fs.Mount.ReplayedTransactions, Is.GreaterThan(100));
            Assert.That(back, Is.EqualTo(pattern), "replay wrote old inode buffers over file data");
            Assert.That(kept.All(fs.IsAllocated), Is.True);
        });
        var owned = new OwnedExtents();
        owned.Add(data);
        XfsSpaceAudit.Run(fs.Device.Device, owned.In);
    }

    // Logs a whole refcount B+tree leaf at the block of `at` with left sibling `left`, or invalidates it.
    private static void LogLeaf(MountedFs fs, XfsAgExtent at, uint? left)
    {
        var geo = fs.Mount.Geometry;
        ulong daddr = geo.AgBlockToDaddr(at.AgNo, at.AgBno);
        using var tp = XfsTransaction.Begin(fs.Mount);
        var ops = XfsBtreeBufferOps.For(XfsBtreeKind.Refcount);
        if (left is uint sibling)
        {
            var bp = tp.GetBuffer(daddr, geo.BlockSize, ops);
            new XfsBtreeShortBlock { Kind = XfsBtreeKind.Refcount, BlkNo = daddr, Uuid = fs.Mount.MetadataUuid, Owner = at.AgNo, LeftSib = sibling }.WriteTo(bp.Data);
            tp.LogBuffer(bp, 0, bp.Length);
        }
        else
        {
            tp.Invalidate(tp.ReadBuffer(daddr, geo.BlockSize, ops));
        }
        tp.Commit();
    }

    [Test]
    public void ABlockReusedAsMetadataAfterItsCancelIsReplayedAsReused()
    {
        using var fs = MountedFs.Create();
        var (block, seq) = fs.Allocate(XfsAllocRequest.Near(1, 4000, 1, 1));
        LogLeaf(fs, block, left: 11);
        LogLeaf(fs, block, left: null);
        LogLeaf(fs, block, left: 22);
        fs.Mount.ForceLogAll();
        fs.CrashAndRemount(CrashPolicy.Strict);
        var geo = fs.Mount.Geometry;
        var bytes = new byte[geo.BlockSize];
        Assert.That(fs.Device.Device.Read(geo.AgBlockOffset(block.AgNo, block.AgBno), bytes), Is.EqualTo(BlkStatus.Ok));
        var leaf = XfsBtreeShortBlock.ReadFrom(bytes, XfsBtreeKind.Refcount, block.AgNo, block.AgBno, geo.AgBlockToDaddr(block.AgNo, block.AgBno));
        Assert.That(leaf.LeftSib, Is.EqualTo(22u), "the block as logged after the cancel");
    }

    [Test]
    public void ACancelledBlockNotReusedKeepsWhatTheDeviceHolds()
    {
        using var fs = MountedFs.Create();
        var (block, _) = fs.Allocate(XfsAllocRequest.Near(1, 4000, 1, 1));
        LogLeaf(fs, block, left: 11);
        LogLeaf(fs, block, left: null);
        fs.Mount.ForceLogAll();
        var geo = fs.Mount.Geometry;
        var zeros = new byte[geo.BlockSize];
        Assert.That(fs.Device.Device.Write(geo.AgBlockOffset(block.AgNo, block.AgBno), zeros), Is.EqualTo(BlkStatus.Ok));
        fs.Device.Device.Flush();
        fs.CrashAndRemount(CrashPolicy.Strict);
        var bytes = new byte[geo.BlockSize];
        Assert.That(fs.Device.Device.Read(geo.AgBlockOffset(block.AgNo, block.AgBno), bytes), Is.EqualTo(BlkStatus.Ok));
        Assert.Multiple(() =>
        {
            Assert.That(fs.Mount.ReplayedTransactions, Is.GreaterThanOrEqualTo(3));
            Assert.That(bytes, Is.EqualTo(zeros), "the leaf logged before the cancel was replayed");
        });
    }
}
