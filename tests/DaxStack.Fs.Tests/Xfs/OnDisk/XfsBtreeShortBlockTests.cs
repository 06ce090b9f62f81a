using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Tests.Xfs.OnDisk;

public class XfsBtreeShortBlockTests
{
    private static byte[] BnoLeaf(params XfsAllocRecord[] records)
    {
        var block = new byte[4096];
        var header = new XfsBtreeShortBlock
        {
            Kind = XfsBtreeKind.Bno,
            NumRecs = (ushort)records.Length,
            BlkNo = (4096 + 1) * 8,
            Uuid = MkfsXfsGolden.Uuid,
            Owner = 1,
        };
        for (int i = 0; i < records.Length; i++)
            records[i].WriteTo(block.AsSpan(header.RecordOffset(i)));
        header.WriteTo(block);
        return block;
    }

    [Test]
    public void ALeafRoundTripsWithItsRecordsAndCrcAtOffset52()
    {
        var block = BnoLeaf(new XfsAllocRecord(10, 2), new XfsAllocRecord(20, 4076));
        var header = XfsBtreeShortBlock.ReadFrom(block, XfsBtreeKind.Bno, 1, 1, (4096 + 1) * 8);
        Assert.Multiple(() =>
        {
            Assert.That(header.NumRecs, Is.EqualTo((ushort)2));
            Assert.That(header.LeftSib, Is.EqualTo(XfsFormat.NullAgBlock));
            Assert.That(XfsAllocRecord.ReadFrom(block.AsSpan(header.RecordOffset(1))), Is.EqualTo(new XfsAllocRecord(20, 4076)));
            Assert.That(XfsCrc.Stored(block, 52), Is.EqualTo(XfsCrc.Compute(block, 52)));
        });
    }

    [Test]
    public void AFlippedRecordBitIsACrcMismatchNamingTreeAgAndBlock()
    {
        var block = BnoLeaf(new XfsAllocRecord(10, 2));
        block[XfsBtreeShortBlock.HeaderSize + 5] ^= 0x80;
        var e = Assert.Throws<XfsCorruptionException>(() => XfsBtreeShortBlock.ReadFrom(block, XfsBtreeKind.Bno, 1, 1, (4096 + 1) * 8));
        Assert.That(e!.Message, Is.EqualTo("bnobt block 1/1: CRC mismatch"));
    }

    [Test]
    public void ABlockOfAnotherTreeIsABadMagicNumber()
    {
        var block = BnoLeaf();
        var e = Assert.Throws<XfsCorruptionException>(() => XfsBtreeShortBlock.ReadFrom(block, XfsBtreeKind.Cnt, 1, 1, (4096 + 1) * 8));
        Assert.That(e!.Message, Does.StartWith("cntbt block 1/1: bad magic number 0x41423342 (expected 0x41423343)"));
    }

    [Test]
    public void ABlockReadFromTheWrongAddressIsRefused()
    {
        var block = BnoLeaf();
        var e = Assert.Throws<XfsCorruptionException>(() => XfsBtreeShortBlock.ReadFrom(block, XfsBtreeKind.Bno, 1, 2, (4096 + 2) * 8));
        Assert.That(e!.Message, Does.StartWith("bnobt block 1/2: bad blkno 32776"));
    }

    [TestCase(XfsBtreeKind.Bno, 505)]
    [TestCase(XfsBtreeKind.Cnt, 505)]
    [TestCase(XfsBtreeKind.Ino, 252)]
    [TestCase(XfsBtreeKind.Fino, 252)]
    [TestCase(XfsBtreeKind.Refcount, 336)]
    public void LeavesHoldWhatFitsAfterThe56ByteHeader(XfsBtreeKind kind, int expected)
    {
        Assert.That(kind.MaxRecords(4096, leaf: true), Is.EqualTo(expected));
    }

    [Test]
    public void InobtAndRefcountRecordsRoundTrip()
    {
        var ino = new XfsInobtRecord(96, 61, 0xfffffffffffffff8);
        var refc = new XfsRefcountRecord(XfsRefcountRecord.CowFlag | 40, 3, 1);
        var bytes = new byte[32];
        ino.WriteTo(bytes);
        refc.WriteTo(bytes.AsSpan(16));
        Assert.Multiple(() =>
        {
            Assert.That(XfsInobtRecord.ReadFrom(bytes), Is.EqualTo(ino));
            Assert.That(XfsRefcountRecord.ReadFrom(bytes.AsSpan(16)), Is.EqualTo(refc));
            // Non-sparse inode chunks keep the free count in a 32-bit field.
            Assert.That(bytes.AsSpan(4, 4).ToArray(), Is.EqualTo(new byte[] { 0, 0, 0, 61 }));
        });
    }
}
