using System.Buffers.Binary;
using DaxStack.Fs.Xfs.Dir2;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Tests.Xfs.Dir2;

/// <summary>The checker names each kind of damage instead of stopping, and still returns what it could read.</summary>
public class XfsDirectoryCheckTests
{
    private const int Bs = 4096;
    private static readonly ulong LeafBlk = XfsDir2Format.LeafBlock(Bs);
    private static readonly ulong FreeBlk = XfsDir2Format.FreeBlock(Bs);

    private static DirTestRig WithNames(int count)
    {
        var rig = DirTestRig.Create();
        for (int i = 0; i < count; i++)
            rig.Add($"entry-{i:D4}", 500 + (ulong)i);
        Assert.That(rig.Check().Problems, Is.Empty, "before the damage");
        return rig;
    }

    private static List<string> ProblemsAfter(DirTestRig rig, ulong dablk, int crcOffset, Action<byte[]> change)
    {
        rig.Corrupt(dablk, crcOffset, change);
        var problems = rig.Check().Problems;
        Assert.That(problems, Is.Not.Empty);
        return problems;
    }

    private static void Put32(byte[] b, int offset, uint value) => BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(offset), value);

    private static uint Get32(byte[] b, int offset) => BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(offset));

    [Test]
    public void AShortFormWithAWrongI8CountIsReported()
    {
        using var rig = WithNames(5);
        rig.Add("wide", 1UL << 40);
        var bytes = rig.Dir.LocalData.ToArray();
        Assert.That(bytes[1], Is.EqualTo((byte)1));
        bytes[1] = 2;
        rig.Run(tp => rig.Dir.SetLocal(tp, bytes));
        Assert.That(rig.Check().Problems, Has.Some.Contains("i8count 2 but 1"));
    }

    [Test]
    public void ACrcMismatchIsReportedNotThrown()
    {
        using var rig = WithNames(200);
        var problems = ProblemsAfter(rig, 0, -1, b => b[300] ^= 1);
        Assert.That(problems, Has.Some.Contains("data block 0").And.Contains("CRC mismatch"));
    }

    [Test]
    public void AWrongDotEntryIsReported()
    {
        using var rig = WithNames(30);
        var problems = ProblemsAfter(rig, 0, XfsDir2Format.DataCrcOffset, b => b[71] ^= 2);
        Assert.That(problems, Has.Some.Contains("'.' names inode"));
    }

    [Test]
    public void AWrongSizeIsReported()
    {
        using var rig = WithNames(30);
        rig.Run(tp => rig.Dir.SetSize(tp, 8192));
        Assert.That(rig.Check().Problems, Has.Some.Contains("di_size 8192"));
    }

    [Test]
    public void AWrongStaleCountIsReported()
    {
        using var rig = WithNames(200);
        rig.Remove("entry-0007");
        var problems = ProblemsAfter(rig, LeafBlk, XfsDir2Format.DaCrcOffset, b => b[59] = 3);
        Assert.That(problems, Has.Some.Contains("stale"));
    }

    [Test]
    public void ALeafEntryPointingAtNoDataEntryIsReported()
    {
        using var rig = WithNames(200);
        var problems = ProblemsAfter(rig, LeafBlk, XfsDir2Format.DaCrcOffset, b => Put32(b, 64 + 4, Get32(b, 64 + 4) + 1));
        Assert.Multiple(() =>
        {
            Assert.That(problems, Has.Some.Contains("points at no data entry"));
            Assert.That(problems, Has.Some.Contains("has no leaf entry"));
        });
    }

    [Test]
    public void ALeafEntryWithAnotherNamesHashIsReported()
    {
        using var rig = WithNames(200);
        var problems = ProblemsAfter(rig, LeafBlk, XfsDir2Format.DaCrcOffset, b =>
        {
            int count = (b[56] << 8) | b[57];
            Put32(b, 64 + (8 * (count - 1)), 0xffffffff);
        });
        Assert.That(problems, Has.Some.Contains("the name's is"));
    }

    [Test]
    public void AWrongBestsEntryIsReported()
    {
        using var rig = WithNames(200);
        var problems = ProblemsAfter(rig, LeafBlk, XfsDir2Format.DaCrcOffset, b =>
        {
            int bestCount = (int)Get32(b, Bs - 4);
            b[Bs - 4 - (2 * bestCount) + 1] ^= 0x08;
        });
        Assert.That(problems, Has.Some.Contains("bests[0]"));
    }

    [Test]
    public void ADuplicateNameIsReported()
    {
        using var rig = WithNames(200);
        // entry-0199 sits in data block 1: make it a second entry-0198.
        var problems = ProblemsAfter(rig, 1, XfsDir2Format.DataCrcOffset, b =>
        {
            int at = b.AsSpan().IndexOf("entry-0199"u8);
            b[at + 9] = (byte)'8';
        });
        Assert.That(problems, Has.Some.Contains("'entry-0198' appears more than once"));
    }

    [Test]
    public void AFreeIndexBlockThatDisagreesWithTheDataIsReported()
    {
        using var rig = WithNames(900);
        Assert.That(rig.Form, Is.EqualTo(XfsDir2Form.Node));
        var problems = ProblemsAfter(rig, FreeBlk, XfsDir2Format.DataCrcOffset, b =>
        {
            b[64 + 3] ^= 0x10;
            Put32(b, 56, Get32(b, 56) - 1);
        });
        Assert.Multiple(() =>
        {
            Assert.That(problems, Has.Some.Contains("free block").And.Contains("bests[1]"));
            Assert.That(problems, Has.Some.Contains("nused"));
        });
    }

    [Test]
    public void ANodeHashThatIsNotItsChildsLastIsReported()
    {
        using var rig = WithNames(2000);
        var problems = ProblemsAfter(rig, LeafBlk, XfsDir2Format.DaCrcOffset, b =>
        {
            Assert.That((b[8] << 8) | b[9], Is.EqualTo(XfsDir2Format.NodeMagic), "the root is a node");
            Put32(b, 64, Get32(b, 64) - 1);
        });
        Assert.That(problems, Has.Some.Contains("ends with"));
    }

    [Test]
    public void BrokenSiblingLinksAreReported()
    {
        using var rig = WithNames(2000);
        var leaves = rig.Dir.Map.Keys.Where(k => k > LeafBlk && k < FreeBlk).ToList();
        Assert.That(leaves, Has.Count.GreaterThan(2));
        var problems = ProblemsAfter(rig, leaves[1], XfsDir2Format.DaCrcOffset, b => Put32(b, 0, Get32(b, 0) + 7));
        Assert.That(problems, Has.Some.Contains("sibling links"));
    }

    [Test]
    public void TheEntriesAreReturnedForLinkCounting()
    {
        using var rig = WithNames(700);
        var result = rig.Check();
        Assert.Multiple(() =>
        {
            Assert.That(result.IsClean, Is.True);
            Assert.That(result.Form, Is.EqualTo(XfsDir2Form.Node));
            Assert.That(result.Entries, Has.Count.EqualTo(702));
            Assert.That(result.Entries.Count(e => e.FileType == XfsDirFileType.Directory), Is.EqualTo(2));
        });
    }
}
