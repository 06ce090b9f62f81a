using DaxStack.Device.Errors;
using DaxStack.Driver.Block;
using DaxStack.Fs.Xfs;
using DaxStack.Fs.Xfs.Buffers;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Tests.Xfs.Trans;

public class XfsBufferCacheTests
{
    private static ulong AgfDaddr(XfsMount mp, uint agno) => XfsAgHeaders.AgfDaddr(mp.Geometry, agno);

    private static ulong AgiDaddr(XfsMount mp, uint agno) => XfsAgHeaders.AgiDaddr(mp.Geometry, agno);

    [Test]
    public void AReadIsVerifiedOnceAndThenServedFromTheCache()
    {
        using var fs = MetadataTestFs.Create();
        var cache = fs.Mount.Buffers;
        // Opening read every AGF; the AGIs are read on first use.
        long reads = cache.DeviceReads;
        var first = cache.Read(AgiDaddr(fs.Mount, 1), 512, XfsAgiBufferOps.Instance);
        var second = cache.Read(AgiDaddr(fs.Mount, 1), 512, XfsAgiBufferOps.Instance);
        Assert.Multiple(() =>
        {
            Assert.That(second, Is.SameAs(first));
            Assert.That(cache.DeviceReads - reads, Is.EqualTo(1));
            Assert.That(first.Name, Is.EqualTo("agi 1"));
            Assert.That(XfsAgi.Decode(first.Data).SeqNo, Is.EqualTo(1u));
        });
    }

    [Test]
    public void AFlippedBitOnTheMediaIsACrcMismatchNamingTheStructureAndNothingIsCached()
    {
        using var fs = MetadataTestFs.Create();
        var mp = fs.Mount;
        FlipBit(fs, (long)AgiDaddr(mp, 1) * 512 + 31); // agi_freecount
        int cached = fs.Mount.Buffers.Count;

        var e = Assert.Throws<XfsCorruptionException>(() => fs.Mount.Buffers.Read(AgiDaddr(mp, 1), 512, XfsAgiBufferOps.Instance));
        Assert.Multiple(() =>
        {
            Assert.That(e!.Message, Is.EqualTo("agi 1: CRC mismatch"));
            Assert.That(e.Errno, Is.EqualTo(Errno.EBADMSG));
            Assert.That(fs.Mount.Buffers.Count, Is.EqualTo(cached));
        });
    }

    [Test]
    public void OpeningRefusesAFilesystemWithACorruptAgfNamingIt()
    {
        using var fs = MetadataTestFs.Create();
        FlipBit(fs, (long)AgfDaddr(fs.Mount, 1) * 512 + 55); // agf_freeblks
        var e = Assert.Throws<XfsCorruptionException>(fs.Remount);
        Assert.That(e!.Message, Is.EqualTo("agf 1: CRC mismatch"));
    }

    private static void FlipBit(MetadataTestFs fs, long offset)
    {
        var sector = new byte[512];
        Assert.That(fs.Device.Device.Read(offset & ~511L, sector), Is.EqualTo(BlkStatus.Ok));
        sector[offset & 511] ^= 0x10;
        Assert.That(fs.Device.Device.Write(offset & ~511L, sector), Is.EqualTo(BlkStatus.Ok));
    }

    [Test]
    public void ASectorReadAsTheWrongStructureFailsItsVerifier()
    {
        using var fs = MetadataTestFs.Create();
        var e = Assert.Throws<XfsCorruptionException>(() =>
            fs.Mount.Buffers.Read(XfsAgHeaders.AgiDaddr(fs.Mount.Geometry, 1), 512, XfsAgfBufferOps.Instance));
        Assert.That(e!.Message, Does.StartWith("agf 1: an agf is sector 1 of its AG"));
    }

    [Test]
    public void ABtreeBlockReadAsAnotherTreeFailsItsMagicCheck()
    {
        using var fs = MetadataTestFs.Create();
        var geo = fs.Mount.Geometry;
        // Block 1 of AG 0 is the bnobt root; read as the cntbt it has the wrong magic number.
        var e = Assert.Throws<XfsCorruptionException>(() =>
            fs.Mount.Buffers.Read(geo.AgBlockToDaddr(0, 1), geo.BlockSize, XfsBtreeBufferOps.For(XfsBtreeKind.Cnt)));
        Assert.That(e!.Message, Does.StartWith("cntbt block 0/1: bad magic number 0x41423342"));
    }

    [Test]
    public void WritingStampsTheCrcSoTheMediaReadsBackVerified()
    {
        using var fs = MetadataTestFs.Create();
        var cache = fs.Mount.Buffers;
        var bp = cache.Read(AgfDaddr(fs.Mount, 1), 512, XfsAgfBufferOps.Instance);
        var agf = XfsAgf.Decode(bp.Data);
        Be.Put32(bp.Data, 56, agf.Longest - 1); // agf_longest, CRC now stale in memory
        cache.Write(bp);
        cache.FlushDevice();

        var reread = XfsMetadataReader.Open(fs.Device.Device).ReadAgf(1);
        Assert.That(reread.Longest, Is.EqualTo(agf.Longest - 1));
    }

    [Test]
    public void TheWriteVerifierRefusesCorruptMetadataAndTheMediaKeepsTheOldBytes()
    {
        using var fs = MetadataTestFs.Create();
        var cache = fs.Mount.Buffers;
        var bp = cache.Read(AgfDaddr(fs.Mount, 1), 512, XfsAgfBufferOps.Instance);
        Be.Put32(bp.Data, 8, 7); // agf_seqno of another AG

        var e = Assert.Throws<XfsCorruptionException>(() => cache.Write(bp));
        Assert.Multiple(() =>
        {
            Assert.That(e!.Message, Does.Contain("agf 1: write verifier refused the buffer"));
            Assert.That(XfsMetadataReader.Open(fs.Device.Device).ReadAgf(1).SeqNo, Is.EqualTo(1u));
        });
    }

    [Test]
    public void AReadOfABadSectorIsEio()
    {
        using var fs = MetadataTestFs.Create();
        fs.Device.Region.InjectError(fs.Device.Device.Namespace, block: (long)AgiDaddr(fs.Mount, 1), count: 1);
        var e = Assert.Throws<XfsException>(() => fs.Mount.Buffers.Read(AgiDaddr(fs.Mount, 1), 512, XfsAgiBufferOps.Instance));
        Assert.Multiple(() =>
        {
            Assert.That(e!.Errno, Is.EqualTo(Errno.EIO));
            Assert.That(e.Message, Does.StartWith("agi 1: read of 512 bytes"));
        });
    }

    [Test]
    public void GetHandsOutAZeroFilledBufferWithoutReadingTheDevice()
    {
        using var fs = MetadataTestFs.Create();
        var cache = fs.Mount.Buffers;
        long reads = cache.DeviceReads;
        var bp = cache.Get(fs.Mount.Geometry.AgBlockToDaddr(1, 100), 4096, XfsBtreeBufferOps.For(XfsBtreeKind.Bno), out bool created);
        Assert.Multiple(() =>
        {
            Assert.That(created, Is.True);
            Assert.That(bp.Data, Is.All.Zero);
            Assert.That(cache.DeviceReads, Is.EqualTo(reads));
        });
    }

    [Test]
    public void CleanBuffersBeyondCapacityAreDroppedButDirtyOnesStayUntilWrittenBack()
    {
        var committer = new KeepDirtyCommitter();
        using var fs = MetadataTestFs.Create(options: new XfsMountOptions { BufferCacheCapacity = 16, Committer = committer });
        var mp = fs.Mount;
        using (var tp = fs.Begin())
        {
            var agf = XfsAgHeaders.ReadAgf(tp, 1);
            agf.Longest--;
            XfsAgHeaders.WriteAgf(tp, 1, agf);
            tp.Commit();
        }
        var dirty = mp.Buffers.Find(AgfDaddr(mp, 1), 512)!;
        for (uint b = 100; b < 140; b++)
            mp.Buffers.Get(mp.Geometry.AgBlockToDaddr(1, b), 4096, XfsBtreeBufferOps.For(XfsBtreeKind.Bno), out _);

        Assert.Multiple(() =>
        {
            Assert.That(mp.Buffers.Count, Is.LessThanOrEqualTo(16));
            Assert.That(mp.Buffers.Find(AgfDaddr(mp, 1), 512), Is.SameAs(dirty));
            Assert.That(dirty.IsDirty, Is.True);
            Assert.That(XfsMetadataReader.Open(fs.Device.Device).ReadAgf(1).Longest, Is.EqualTo(XfsAgf.Decode(dirty.Data).Longest + 1), "not written yet");
        });
        mp.Buffers.WriteBackDirty();
        Assert.Multiple(() =>
        {
            Assert.That(dirty.IsDirty, Is.False);
            Assert.That(XfsMetadataReader.Open(fs.Device.Device).ReadAgf(1).Longest, Is.EqualTo(XfsAgf.Decode(dirty.Data).Longest));
        });
    }
}
