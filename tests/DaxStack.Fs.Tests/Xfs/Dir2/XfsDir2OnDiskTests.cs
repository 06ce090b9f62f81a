using System.Text;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Tests.Xfs.Dir2;

/// <summary>The directory block formats on their own: layout, round trips and the checks of their readers.</summary>
public class XfsDir2OnDiskTests
{
    private const int Bs = 4096;
    private static readonly Guid Uuid = Guid.Parse("6d1b3f0e-2c4a-4e8b-9f7d-1a2b3c4d5e6f");

    private static XfsDir2DataEntry Entry(int offset, string name, ulong ino) =>
        new(offset, ino, Encoding.ASCII.GetBytes(name), XfsDirFileType.RegularFile);

    [TestCase(1, 16)]
    [TestCase(4, 16)]
    [TestCase(5, 24)]
    [TestCase(12, 24)]
    [TestCase(13, 32)]
    [TestCase(255, 272)]
    public void DataEntriesTakeWhatXfsDir2DataEntsizeSays(int nameLength, int size) =>
        Assert.That(XfsDir2Format.DataEntrySize(nameLength), Is.EqualTo(size));

    [Test]
    public void TheAddressSpacesAndDataptrsAreXfss()
    {
        Assert.Multiple(() =>
        {
            Assert.That(XfsDir2Format.LeafBlock(Bs), Is.EqualTo(8388608UL));
            Assert.That(XfsDir2Format.FreeBlock(Bs), Is.EqualTo(16777216UL));
            Assert.That(XfsDir2Format.Dataptr(3, 120, Bs), Is.EqualTo((3u * 4096 + 120) / 8));
            Assert.That(XfsDir2Format.DataptrToDb(XfsDir2Format.Dataptr(3, 120, Bs), Bs), Is.EqualTo(3UL));
            Assert.That(XfsDir2Format.DataptrToOffset(XfsDir2Format.Dataptr(3, 120, Bs), Bs), Is.EqualTo(120));
            Assert.That(XfsDir2Format.FreeMaxBests(Bs), Is.EqualTo(2016));
        });
    }

    [Test]
    public void ADataBlockRoundTripsWithItsFreeRegionsAndBestfree()
    {
        var d = XfsDir2DataBlock.Create(Bs, blockForm: false, 1234, Uuid, 99);
        d.Insert(Entry(64, "alpha", 10));
        d.Insert(Entry(200, "beta", 11));
        d.Insert(Entry(1000, "gamma-long-name", 12));
        var bytes = d.ToBytes();
        XfsCrc.Stamp(bytes, XfsDir2Format.DataCrcOffset);
        var back = XfsDir2DataBlock.ReadFrom(bytes, "test");
        Assert.Multiple(() =>
        {
            Assert.That(back.Entries.Select(e => (e.Offset, e.NameText, e.Ino)), Is.EqualTo(d.Entries.Select(e => (e.Offset, e.NameText, e.Ino))));
            Assert.That((back.Blkno, back.Uuid, back.Owner), Is.EqualTo((1234UL, Uuid, 99UL)));
            Assert.That(back.StoredBestFree, Is.EqualTo(new[] { new XfsDir2DataFree(1032, 3064), new XfsDir2DataFree(216, 784), new XfsDir2DataFree(88, 112) }));
            // The unused entry before "beta" carries the free tag, its length and its offset as tag.
            Assert.That(bytes.AsSpan(88, 4).ToArray(), Is.EqualTo(new byte[] { 0xff, 0xff, 0, 112 }));
            Assert.That(bytes.AsSpan(198, 2).ToArray(), Is.EqualTo(new byte[] { 0, 88 }));
        });
    }

    [Test]
    public void TwoAdjacentFreeRegionsAreRejected()
    {
        var d = XfsDir2DataBlock.Create(Bs, blockForm: false, 1, Uuid, 99);
        d.Insert(Entry(64, "alpha", 10));
        var bytes = d.ToBytes();
        // Split the one free region (88..4096, after the 24-byte entry) into two adjacent unused entries.
        bytes[88 + 2] = 0;
        bytes[88 + 3] = 16;
        bytes[102] = 0;
        bytes[103] = 88;
        bytes[104] = 0xff;
        bytes[105] = 0xff;
        bytes[106] = (4096 - 104) >> 8;
        bytes[107] = (4096 - 104) & 0xff;
        bytes[4094] = 0;
        bytes[4095] = 104;
        var e = Assert.Throws<XfsCorruptionException>(() => XfsDir2DataBlock.ReadFrom(bytes, "data block 7"));
        Assert.That(e!.Message, Does.StartWith("data block 7: ").And.Contain("adjacent"));
    }

    [Test]
    public void ABlockFormBlockWhoseLeafMissesAnEntryIsRejected()
    {
        var d = XfsDir2DataBlock.Create(Bs, blockForm: true, 1, Uuid, 99);
        d.Insert(Entry(64, "alpha", 10));
        d.Leaf.Add(new XfsDir2LeafEntry(XfsDaHash.HashName("alpha"u8) + 1, 8));
        var e = Assert.Throws<XfsCorruptionException>(() => XfsDir2DataBlock.ReadFrom(d.ToBytes(), "block"));
        Assert.That(e!.Message, Does.Contain("has no leaf entry"));
    }

    [Test]
    public void ALeaf1BlockKeepsItsBestsAtTheEnd()
    {
        var leaf = XfsDir2LeafBlock.Create(Bs, leafN: false, 55, Uuid, 99);
        leaf.Entries.Add(new XfsDir2LeafEntry(5, 8));
        leaf.Entries.Add(new XfsDir2LeafEntry(5, 0));
        leaf.Entries.Add(new XfsDir2LeafEntry(9, 20));
        leaf.Bests.AddRange([100, XfsDir2Format.NullDataOff, 7]);
        var bytes = leaf.ToBytes();
        var back = XfsDir2LeafBlock.ReadFrom(bytes, "leaf");
        Assert.Multiple(() =>
        {
            Assert.That(back.Entries, Is.EqualTo(leaf.Entries));
            Assert.That(back.Bests, Is.EqualTo(leaf.Bests));
            Assert.That(back.Stale, Is.EqualTo(1));
            Assert.That(bytes.AsSpan(Bs - 4).ToArray(), Is.EqualTo(new byte[] { 0, 0, 0, 3 }));
            Assert.That(bytes.AsSpan(Bs - 10, 2).ToArray(), Is.EqualTo(new byte[] { 0, 100 }));
            Assert.That(back.Capacity, Is.EqualTo((Bs - 64 - 4 - 6) / 8));
        });
        bytes[58] = 0;
        bytes[59] = 2;
        Assert.That(Assert.Throws<XfsCorruptionException>(() => XfsDir2LeafBlock.ReadFrom(bytes, "leaf"))!.Message, Does.Contain("stale"));
    }

    [Test]
    public void NodeAndFreeBlocksRejectImpossibleHeaders()
    {
        var node = XfsDa3NodeBlock.Create(Bs, 1, 9, Uuid, 99);
        node.Entries.Add(new XfsDa3NodeEntry(10, 8388609));
        var nb = node.ToBytes();
        Assert.That(XfsDa3NodeBlock.ReadFrom(nb, "node").Entries, Is.EqualTo(node.Entries));
        nb[59] = 9;
        Assert.That(Assert.Throws<XfsCorruptionException>(() => XfsDa3NodeBlock.ReadFrom(nb, "node"))!.Message, Does.Contain("level"));
        var free = XfsDir2FreeBlock.Create(Bs, 2016, 9, Uuid, 99);
        free.Bests.AddRange([12, XfsDir2Format.NullDataOff]);
        var fb = free.ToBytes();
        var back = XfsDir2FreeBlock.ReadFrom(fb, "free");
        Assert.That((back.FirstDb, back.NUsed, back.StoredNUsed), Is.EqualTo((2016, 1, 1)));
        fb[51] = 5;
        Assert.That(Assert.Throws<XfsCorruptionException>(() => XfsDir2FreeBlock.ReadFrom(fb, "free"))!.Message, Does.Contain("firstdb"));
    }
}
