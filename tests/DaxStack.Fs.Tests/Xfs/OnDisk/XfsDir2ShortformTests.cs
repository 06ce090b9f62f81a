using System.Text;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Tests.Xfs.OnDisk;

public class XfsDir2ShortformTests
{
    private static XfsDir2SfEntry Entry(string name, ushort offset, XfsDirFileType type, ulong ino) =>
        new(Encoding.UTF8.GetBytes(name), offset, type, ino);

    [Test]
    public void AnEmptyDirectoryIsSixBytes()
    {
        var fork = new byte[336];
        int size = new XfsDir2Shortform { Parent = 96 }.WriteTo(fork);
        Assert.Multiple(() =>
        {
            Assert.That(size, Is.EqualTo(6));
            Assert.That(fork.AsSpan(0, 6).ToArray(), Is.EqualTo(new byte[] { 0, 0, 0, 0, 0, 0x60 }));
        });
    }

    [Test]
    public void EntriesRoundTripInTheLayoutMkfsXfsUses()
    {
        // The root of an image mkfs.xfs -p made: f1 (99), big (100), sub (32864) at offsets 0x60, 0x70, 0x80.
        var dir = new XfsDir2Shortform { Parent = 96 };
        dir.Entries.Add(Entry("f1", 0x60, XfsDirFileType.RegularFile, 99));
        dir.Entries.Add(Entry("big", 0x70, XfsDirFileType.RegularFile, 100));
        dir.Entries.Add(Entry("sub", 0x80, XfsDirFileType.Directory, 32864));
        var fork = new byte[336];
        int size = dir.WriteTo(fork);
        var back = XfsDir2Shortform.ReadFrom(fork, (ulong)size, 96);
        Assert.Multiple(() =>
        {
            Assert.That(size, Is.EqualTo(6 + (1 + 2 + 2 + 1 + 4) + 2 * (1 + 2 + 3 + 1 + 4)));
            Assert.That(back.Entries.Select(e => e.NameText), Is.EqualTo(new[] { "f1", "big", "sub" }));
            Assert.That(back.Entries.Select(e => e.Ino), Is.EqualTo(new ulong[] { 99, 100, 32864 }));
            Assert.That(back.Entries[2].FileType, Is.EqualTo(XfsDirFileType.Directory));
        });
    }

    [Test]
    public void AnInodeNumberAbove32BitsMakesEveryNumberEightBytes()
    {
        var dir = new XfsDir2Shortform { Parent = 96 };
        dir.Entries.Add(Entry("far", 0x60, XfsDirFileType.RegularFile, 1UL << 40));
        var fork = new byte[336];
        int size = dir.WriteTo(fork);
        var back = XfsDir2Shortform.ReadFrom(fork, (ulong)size, 96);
        Assert.Multiple(() =>
        {
            Assert.That(fork[1], Is.EqualTo((byte)1));
            Assert.That(size, Is.EqualTo(2 + 8 + 1 + 2 + 3 + 1 + 8));
            Assert.That(back.Entries[0].Ino, Is.EqualTo(1UL << 40));
            Assert.That(back.Parent, Is.EqualTo(96ul));
        });
    }

    [Test]
    public void OverlappingOffsetsAreRefused()
    {
        var dir = new XfsDir2Shortform { Parent = 96 };
        dir.Entries.Add(Entry("a", 0x60, XfsDirFileType.RegularFile, 99));
        dir.Entries.Add(Entry("b", 0x68, XfsDirFileType.RegularFile, 100)); // "a" ends at 0x70
        var fork = new byte[336];
        int size = dir.WriteTo(fork);
        var e = Assert.Throws<XfsCorruptionException>(() => XfsDir2Shortform.ReadFrom(fork, (ulong)size, 96));
        Assert.That(e!.Message, Does.StartWith("inode 96: bad entry 1 offset 104"));
    }

    [Test]
    public void ASizeThatDoesNotMatchTheEntriesIsRefused()
    {
        var dir = new XfsDir2Shortform { Parent = 96 };
        dir.Entries.Add(Entry("a", 0x60, XfsDirFileType.RegularFile, 99));
        var fork = new byte[336];
        int size = dir.WriteTo(fork);
        var e = Assert.Throws<XfsCorruptionException>(() => XfsDir2Shortform.ReadFrom(fork, (ulong)size + 3, 96));
        Assert.That(e!.Message, Does.Contain("use 15 of di_size 18 bytes"));
    }

    [Test]
    public void ANameWithASlashIsRefused()
    {
        var dir = new XfsDir2Shortform { Parent = 96 };
        dir.Entries.Add(Entry("a/b", 0x60, XfsDirFileType.RegularFile, 99));
        var fork = new byte[336];
        int size = dir.WriteTo(fork);
        var e = Assert.Throws<XfsCorruptionException>(() => XfsDir2Shortform.ReadFrom(fork, (ulong)size, 96));
        Assert.That(e!.Message, Does.Contain("contains '/'"));
    }
}
