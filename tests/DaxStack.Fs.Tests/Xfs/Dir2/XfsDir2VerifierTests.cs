using DaxStack.Device.Errors;
using DaxStack.Fs.Xfs.Dir2;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Tests.Xfs.Dir2;

/// <summary>Damaged directory blocks on the device are refused when read, with the errno and block kind in the error.</summary>
public class XfsDir2VerifierTests
{
    private static DirTestRig WithNames(int count)
    {
        var rig = DirTestRig.Create();
        for (int i = 0; i < count; i++)
            rig.Add($"entry-{i:D4}", 500 + (ulong)i);
        return rig;
    }

    private static XfsCorruptionException LookupFails(DirTestRig rig, string name) =>
        Assert.Throws<XfsCorruptionException>(() => rig.Lookup(name))!;

    [Test]
    public void AFlippedBitInABlockDirectoryIsACrcMismatch()
    {
        using var rig = WithNames(30);
        rig.Corrupt(0, -1, b => b[200] ^= 0x10);
        var e = LookupFails(rig, "entry-0001");
        Assert.That(e.Errno, Is.EqualTo(Errno.EBADMSG));
        Assert.That(e.Message, Does.Contain("dir3 block").And.Contain("CRC mismatch"));
    }

    [Test]
    public void ABlockWithAnotherMagicIsRejected()
    {
        using var rig = WithNames(30);
        rig.Corrupt(0, XfsDir2Format.DataCrcOffset, b => b[2] = (byte)'D');
        var e = LookupFails(rig, "entry-0001");
        Assert.That(e.Errno, Is.EqualTo(Errno.EUCLEAN));
        Assert.That(e.Message, Does.Contain("bad magic number 0x58444433 (expected 0x58444233)"));
    }

    [Test]
    public void AWrongBestfreeTableIsRejectedEvenWithAGoodCrc()
    {
        using var rig = WithNames(30);
        rig.Corrupt(0, XfsDir2Format.DataCrcOffset, b => b[51] ^= 0x08);
        Assert.That(LookupFails(rig, "entry-0001").Message, Does.Contain("bestfree"));
    }

    [Test]
    public void ABadEntryTagIsRejected()
    {
        using var rig = WithNames(30);
        // The "." entry's tag (its last two bytes) must hold its offset, 64.
        rig.Corrupt(0, XfsDir2Format.DataCrcOffset, b => b[64 + 15] = 65);
        Assert.That(LookupFails(rig, "entry-0001").Message, Does.Contain("tag"));
    }

    [Test]
    public void ALeafBlockOutOfHashOrderIsRejected()
    {
        using var rig = WithNames(200);
        Assert.That(rig.Form, Is.EqualTo(XfsDir2Form.Leaf));
        ulong leaf = XfsDir2Format.LeafBlock(4096);
        rig.Corrupt(leaf, XfsDir2Format.DaCrcOffset, b =>
        {
            // Swap the first two entries' hashes when they differ.
            (b[64], b[72]) = (b[72], b[64]);
            (b[65], b[73]) = (b[73], b[65]);
            (b[66], b[74]) = (b[74], b[66]);
            (b[67], b[75]) = (b[75], b[67]);
        });
        var e = LookupFails(rig, "entry-0001");
        Assert.That(e.Message, Does.Contain("dir3 leaf1").And.Contain("below the previous"));
    }

    [Test]
    public void ABlockOfAnotherDirectoryIsRejected()
    {
        using var rig = WithNames(30);
        rig.Corrupt(0, XfsDir2Format.DataCrcOffset, b => b[47] ^= 1);
        Assert.That(LookupFails(rig, "entry-0001").Message, Does.Contain("owner"));
    }

    [Test]
    public void AFreeIndexBlockWithTooManyBestsIsRejected()
    {
        using var rig = WithNames(800);
        Assert.That(rig.Form, Is.EqualTo(XfsDir2Form.Node));
        ulong free = XfsDir2Format.FreeBlock(4096);
        rig.Corrupt(free, XfsDir2Format.DataCrcOffset, b => b[52] = 0x7f);
        var e = Assert.Throws<XfsCorruptionException>(() => rig.Add("new-name", 9))!;
        Assert.That(e.Message, Does.Contain("dir3 free").And.Contain("nvalid"));
    }

    [Test]
    public void ADataBlockWithBlockFormMagicInANodeDirectoryIsRejected()
    {
        using var rig = WithNames(800);
        rig.Corrupt(1, XfsDir2Format.DataCrcOffset, b => b[2] = (byte)'B');
        var e = Assert.Throws<XfsCorruptionException>(() => rig.List())!;
        Assert.That(e.Message, Does.Contain("dir3 data").And.Contain("bad magic"));
    }
}
