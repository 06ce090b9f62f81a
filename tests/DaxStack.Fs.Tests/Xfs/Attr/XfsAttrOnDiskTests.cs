using DaxStack.Fs.Xfs.Attr;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Tests.Xfs.Attr;

/// <summary>The short-form attribute fork and the attribute leaf block encode, decode, and name what is wrong with damaged copies.</summary>
public class XfsAttrOnDiskTests
{
    private static readonly XfsAttrSfEntry[] Sample =
    [
        new(0, "colour"u8.ToArray(), "blue"u8.ToArray()),
        new(XfsAttrShortform.FlagRoot, "seal"u8.ToArray(), [1, 0, 0, 0]),
        new(XfsAttrShortform.FlagSecure, "selinux"u8.ToArray(), []),
    ];

    [Test]
    public void AShortFormForkRoundTripsWithTotsizeAndCount()
    {
        var bytes = XfsAttrShortform.Encode(Sample);
        var back = XfsAttrShortform.Decode(bytes, "test fork");
        Assert.Multiple(() =>
        {
            Assert.That(Be.U16(bytes, 0), Is.EqualTo(bytes.Length));
            Assert.That(bytes[2], Is.EqualTo(3));
            Assert.That(bytes, Has.Length.EqualTo(4 + (3 + 6 + 4) + (3 + 4 + 4) + (3 + 7)));
            Assert.That(back.Select(e => (e.Flags, System.Text.Encoding.ASCII.GetString(e.Name), Convert.ToHexString(e.Value))),
                Is.EqualTo(Sample.Select(e => (e.Flags, System.Text.Encoding.ASCII.GetString(e.Name), Convert.ToHexString(e.Value)))));
            Assert.That(XfsAttrShortform.NamespaceOf(back[1].Flags), Is.EqualTo(DaxStack.Fs.Vfs.XattrNamespace.Trusted));
            Assert.That(XfsAttrShortform.Decode(XfsAttrShortform.Encode([]), "empty"), Is.Empty);
        });
    }

    [TestCase(1, 0x00, "below the 4-byte header")]
    [TestCase(1, 0xFF, "beyond")]
    [TestCase(2, 0x04, "past totsize")]
    [TestCase(2, 0x02, "end at byte")]
    [TestCase(4, 0x00, "zero-length name")]
    [TestCase(6, 0x80, "unknown flags")]
    [TestCase(6, 0x06, "two namespaces")]
    [TestCase(7, 0x00, "NUL")]
    public void ADamagedShortFormForkIsNamed(int offset, byte value, string problem)
    {
        var fork = new byte[64];
        XfsAttrShortform.Encode(Sample).CopyTo(fork, 0);
        fork[offset] = value;
        Assert.Multiple(() =>
        {
            Assert.That(XfsAttrShortform.Verify(fork), Does.Contain(problem));
            Assert.That(() => XfsAttrShortform.Decode(fork, "inode 99 attr fork"),
                Throws.TypeOf<XfsCorruptionException>().With.Message.StartsWith("inode 99 attr fork: "));
        });
    }

    private static XfsAttr3LeafBlock Leaf()
    {
        var leaf = XfsAttr3LeafBlock.Create(4096, 88, Guid.Parse("6f1c9a5e-2b7d-4c1e-9f3a-0d8e7b6a5c41"), 99);
        foreach (var e in Sample)
            leaf.Add(e);
        leaf.Add(new XfsAttrSfEntry(0, "long"u8.ToArray(), new byte[1000]));
        return leaf;
    }

    [Test]
    public void ALeafBlockRoundTripsInHashOrderAndCompacted()
    {
        var bytes = Leaf().ToBytes();
        var back = XfsAttr3LeafBlock.ReadFrom(bytes, "test leaf");
        var hashes = back.Entries.Select(e => XfsDaHash.HashName(e.Name)).ToList();
        int used = back.Entries.Sum(e => XfsAttr3LeafBlock.LocalSize(e.Name.Length, e.Value.Length));
        Assert.Multiple(() =>
        {
            Assert.That(XfsAttr3LeafBlock.Check(bytes), Is.Null);
            Assert.That(Be.U16(bytes, 8), Is.EqualTo(XfsAttr3LeafBlock.Magic));
            Assert.That(back.Entries, Has.Count.EqualTo(4));
            Assert.That(hashes, Is.Ordered);
            Assert.That(Be.U16(bytes, 58), Is.EqualTo(used), "usedbytes");
            Assert.That(Be.U16(bytes, 60), Is.EqualTo(4096 - used), "firstused");
            Assert.That(Be.U16(bytes, 64), Is.EqualTo(XfsAttr3LeafBlock.HeaderSize + (4 * XfsAttr3LeafBlock.EntrySize)), "freemap[0].base");
            Assert.That(back.Owner, Is.EqualTo(99UL));
            Assert.That(back.Blkno, Is.EqualTo(88UL));
            Assert.That(back.Entries.Single(e => e.Name.AsSpan().SequenceEqual("long"u8)).Value, Has.Length.EqualTo(1000));
        });
    }

    [TestCase(9, 0x00, "magic")]
    [TestCase(57, 0x00, "no entries")]
    [TestCase(59, 0x01, "usedbytes")]
    [TestCase(61, 0x08, "firstused")]
    [TestCase(81, 0x01, "hashval")]
    [TestCase(86, 0x80, "unknown flags")]
    [TestCase(65, 0x02, "freemap")]
    public void ADamagedLeafBlockIsNamed(int offset, byte value, string problem)
    {
        var bytes = Leaf().ToBytes();
        bytes[offset] ^= value == 0 ? (byte)0xFF : value;
        if (value == 0 && offset == 57)
            bytes[offset] = 0;
        Assert.Multiple(() =>
        {
            Assert.That(XfsAttr3LeafBlock.Check(bytes), Does.Contain(problem));
            Assert.That(() => XfsAttr3LeafBlock.ReadFrom(bytes, "inode 99 attr leaf"), Throws.TypeOf<XfsCorruptionException>());
        });
    }

    [Test]
    public void EntriesBeyondOneBlockDoNotFit()
    {
        var many = Enumerable.Range(0, 200).Select(i => new XfsAttrSfEntry(0, System.Text.Encoding.ASCII.GetBytes($"name{i:D4}"), new byte[8])).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(XfsAttr3LeafBlock.Fits(many.Take(100), 4096), Is.True);
            Assert.That(XfsAttr3LeafBlock.Fits(many, 4096), Is.False);
            Assert.That(XfsAttr3LeafBlock.LocalMax(4096), Is.EqualTo(3072));
        });
    }
}
