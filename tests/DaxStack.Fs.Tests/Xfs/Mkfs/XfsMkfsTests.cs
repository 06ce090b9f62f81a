using DaxStack.Device.Crash;
using DaxStack.Device.Errors;
using DaxStack.Fs.Xfs;
using DaxStack.Fs.Xfs.Mkfs;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Tests.Xfs.Mkfs;

public class XfsMkfsTests
{
    private const long MiB = 1 << 20;

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static readonly DateTimeOffset Now = new(2026, 11, 30, 7, 45, 4, 617, TimeSpan.Zero);

    private static XfsMkfsOptions Options(uint? agcount = null, bool reflink = true) =>
        new() { AgCount = agcount, Reflink = reflink, Uuid = Guid.Parse("3b7a1e81-7bd2-44f1-939a-b79991af432e"), Clock = new FixedClock(Now) };

    [TestCase(64, null, true)]
    [TestCase(64, 2u, true)]
    [TestCase(96, 3u, false)]
    [TestCase(128, 8u, true)]
    public void EveryStructureMkfsWritesReadsBackVerified(int mib, uint? agcount, bool reflink)
    {
        using var dev = FsTestDevice.InMemory(mib * MiB);
        var layout = XfsMkfs.Format(dev.Device, Options(agcount, reflink));
        var reader = XfsMetadataReader.Open(dev.Device);
        var sb = reader.Superblock;
        ulong free = 0, inodes = 0, freeInodes = 0;
        var block = new byte[4096];
        for (uint agno = 0; agno < sb.AgCount; agno++)
        {
            if (agno > 0)
                Assert.That(reader.ReadSuperblock(agno).InProgress, Is.EqualTo((byte)1));
            var agf = reader.ReadAgf(agno);
            var agi = reader.ReadAgi(agno);
            var agfl = reader.ReadAgfl(agno);
            var bno = reader.ReadBtreeBlock(XfsBtreeKind.Bno, agno, agf.BnoRoot, block);
            var records = Enumerable.Range(0, bno.NumRecs).Select(i => XfsAllocRecord.ReadFrom(block.AsSpan(bno.RecordOffset(i)))).ToArray();
            reader.ReadBtreeBlock(XfsBtreeKind.Cnt, agno, agf.CntRoot, block);
            reader.ReadBtreeBlock(XfsBtreeKind.Ino, agno, agi.Root, block);
            reader.ReadBtreeBlock(XfsBtreeKind.Fino, agno, agi.FreeRoot, block);
            if (reflink)
                reader.ReadBtreeBlock(XfsBtreeKind.Refcount, agno, agf.RefcountRoot, block);
            Assert.Multiple(() =>
            {
                Assert.That(records, Is.EqualTo(layout.Ags[(int)agno].FreeExtents));
                Assert.That(agf.FreeBlks, Is.EqualTo((uint)records.Sum(r => r.BlockCount)));
                Assert.That(agfl.Bno.Skip((int)agf.FlFirst).Take((int)agf.FlCount), Is.EqualTo(layout.Ags[(int)agno].AgflBlocks));
                Assert.That(agf.RefcountLevel, Is.EqualTo(reflink ? 1u : 0u));
            });
            free += agf.FreeBlks + agf.FlCount;
            inodes += agi.Count;
            freeInodes += agi.FreeCount;
        }
        Assert.Multiple(() =>
        {
            Assert.That(sb.FdBlocks, Is.EqualTo(free));
            Assert.That((sb.ICount, sb.IFree), Is.EqualTo((inodes, freeInodes)));
            Assert.That(reader.ReadLogHead().Header.FsUuid, Is.EqualTo(sb.Uuid));
        });
    }

    [Test]
    public void TheFirstInodeChunkHoldsTheRootDirectoryTheRealtimeInodesAndFreeInodes()
    {
        using var dev = FsTestDevice.InMemory(64 * MiB);
        XfsMkfs.Format(dev.Device, Options());
        var reader = XfsMetadataReader.Open(dev.Device);
        var root = reader.ReadInode(96);
        var rbm = reader.ReadInode(97);
        var rsum = reader.ReadInode(98);
        var free = Enumerable.Range(99, 61).Select(i => reader.ReadInode((ulong)i)).ToList();
        var dir = XfsDir2Shortform.ReadFrom(root.DataFork, root.Size, 96);
        Assert.Multiple(() =>
        {
            Assert.That(root.FileType, Is.EqualTo(XfsDinode.TypeDirectory));
            Assert.That(root.Mode & 0xFFF, Is.EqualTo(0x1ED));
            Assert.That(root.Nlink, Is.EqualTo(2u));
            Assert.That(root.Mtime, Is.EqualTo(XfsTimestamp.From(Now)));
            Assert.That(dir.Parent, Is.EqualTo(96ul));
            Assert.That(dir.Entries, Is.Empty);
            Assert.That(rbm.Flags, Is.EqualTo(XfsDiFlags.NewRtBm));
            Assert.That((rbm.FileType, rsum.FileType), Is.EqualTo((XfsDinode.TypeRegular, XfsDinode.TypeRegular)));
            Assert.That((rbm.Size, rsum.Size, rsum.NExtents), Is.EqualTo((0ul, 0ul, 0u)));
            Assert.That(free.Select(i => i.InUse), Is.All.False);
            Assert.That(free.Select(i => i.NextUnlinked), Is.All.EqualTo(XfsFormat.NullAgIno));
        });
    }

    [Test]
    public void TheFilesystemSurvivesAPowerFailureRightAfterMkfs()
    {
        using var dev = FsTestDevice.InMemory(64 * MiB);
        XfsMkfs.Format(dev.Device, Options());
        // Strict: every store not yet flushed and fenced is lost; mkfs flushed everything.
        dev.Region.Space.Crash(CrashPolicy.Strict);
        var reader = XfsMetadataReader.Open(dev.Device);
        Assert.Multiple(() =>
        {
            Assert.That(reader.ReadAgf(3).Length, Is.EqualTo(4096u));
            Assert.That(reader.ReadInode(96).Nlink, Is.EqualTo(2u));
            Assert.That(reader.ReadLogHead().Header.Cycle, Is.EqualTo(1u));
        });
    }

    [Test]
    public void AnExistingFilesystemIsKeptWithoutForce()
    {
        using var dev = FsTestDevice.InMemory(64 * MiB);
        XfsMkfs.Format(dev.Device, Options());
        var e = Assert.Throws<XfsMkfsException>(() => XfsMkfs.Format(dev.Device, Options(agcount: 2) with { Uuid = Guid.NewGuid() }));
        Assert.Multiple(() =>
        {
            Assert.That(e!.Errno, Is.EqualTo(Errno.EEXIST));
            Assert.That(e.Message, Is.EqualTo("appears to contain an existing filesystem (xfs)"));
            Assert.That(XfsMetadataReader.Open(dev.Device).Superblock.AgCount, Is.EqualTo(4u));
        });
    }

    [Test]
    public void ADamagedFilesystemStillCountsAsExisting()
    {
        using var dev = FsTestDevice.InMemory(64 * MiB);
        XfsMkfs.Format(dev.Device, Options());
        var sector = new byte[512];
        dev.Device.SubmitBio(DaxStack.Driver.Block.Bio.Read(0, sector));
        sector[150] ^= 1;
        dev.Device.SubmitBio(DaxStack.Driver.Block.Bio.Write(0, sector));
        var e = Assert.Throws<XfsMkfsException>(() => XfsMkfs.Format(dev.Device, Options()));
        Assert.That(e!.Errno, Is.EqualTo(Errno.EEXIST));
    }

    [Test]
    public void ForceReplacesAFilesystemAndWipesItsOldSuperblocks()
    {
        using var dev = FsTestDevice.InMemory(64 * MiB);
        XfsMkfs.Format(dev.Device, Options(agcount: 4));
        XfsMkfs.Format(dev.Device, Options(agcount: 3) with { Force = true, Uuid = Guid.NewGuid() });
        var reader = XfsMetadataReader.Open(dev.Device);
        // The old AG 1 started at block 4096, now inside the new AG 0: its superblock is gone.
        var oldSecondary = new byte[512];
        dev.Device.SubmitBio(DaxStack.Driver.Block.Bio.Read(4096L * 4096, oldSecondary));
        Assert.Multiple(() =>
        {
            Assert.That(reader.Superblock.AgCount, Is.EqualTo(3u));
            Assert.That(oldSecondary, Is.All.EqualTo((byte)0));
            Assert.That(reader.ReadSuperblock(2).AgCount, Is.EqualTo(3u));
        });
    }

    [Test]
    public void ADeviceWith4096ByteLogicalBlocksIsRefused()
    {
        using var dev = FsTestDevice.InMemory(64 * MiB, logicalBlockSize: 4096);
        var e = Assert.Throws<XfsMkfsException>(() => XfsMkfs.Format(dev.Device, Options()));
        Assert.That(e!.Message, Does.Contain("4096-byte logical blocks"));
    }

    [Test]
    public void AReadOnlyImageIsRefusedBeforeAnyWrite()
    {
        string dir = Directory.CreateTempSubdirectory("daxstack-fs-").FullName;
        try
        {
            string path = FsTestDevice.SparseImage(dir, "ro.img", 64 * MiB);
            using var dev = FsTestDevice.Image(path, readOnly: true);
            var e = Assert.Throws<XfsMkfsException>(() => XfsMkfs.Format(dev.Device, Options()));
            Assert.That(e!.Errno, Is.EqualTo(Errno.EROFS));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void ACorruptedAgfIsReportedByTheReaderWithItsName()
    {
        using var dev = FsTestDevice.InMemory(64 * MiB);
        var layout = XfsMkfs.Format(dev.Device, Options());
        long offset = layout.Geometry.AgHeaderOffset(2, 1);
        var sector = new byte[512];
        dev.Device.SubmitBio(DaxStack.Driver.Block.Bio.Read(offset, sector));
        sector[55] ^= 1; // agf_freeblks
        dev.Device.SubmitBio(DaxStack.Driver.Block.Bio.Write(offset, sector));
        var reader = XfsMetadataReader.Open(dev.Device);
        var e = Assert.Throws<XfsCorruptionException>(() => reader.ReadAgf(2));
        Assert.Multiple(() =>
        {
            Assert.That(e!.Message, Is.EqualTo("agf 2: CRC mismatch"));
            Assert.That(reader.ReadAgf(1).SeqNo, Is.EqualTo(1u));
        });
    }
}
