using DaxStack.Device.Errors;
using DaxStack.Fs.Xfs.Alloc;
using DaxStack.Fs.Xfs.Dir2;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Tests.Xfs.Dir2;

public class XfsDirectoryTests
{
    // Ten-byte names: 18 fit a 336-byte short-form fork, 124 a 4 KiB block, 500 a leaf block
    // (see the comments of each boundary test for the arithmetic).
    private static string Name(int i) => $"name_{i:D5}";

    private static ulong InoOf(int i) => 1000 + (ulong)i;

    private static Dictionary<string, ulong> Fill(DirTestRig rig, int count)
    {
        var model = new Dictionary<string, ulong>();
        for (int i = 0; i < count; i++)
        {
            rig.Add(Name(i), InoOf(i));
            model[Name(i)] = InoOf(i);
        }
        return model;
    }

    [Test]
    public void ANewDirectoryIsAnEmptyShortFormWithItsParent()
    {
        using var rig = DirTestRig.Create();
        Assert.Multiple(() =>
        {
            Assert.That(rig.Form, Is.EqualTo(XfsDir2Form.Shortform));
            Assert.That(rig.IsEmpty, Is.True);
            Assert.That(rig.Dir.Size, Is.EqualTo(6UL));
            Assert.That(rig.Lookup(".")!.Ino, Is.EqualTo(DirTestRig.DirIno));
            Assert.That(rig.Lookup("..")!.Ino, Is.EqualTo(DirTestRig.ParentIno));
            Assert.That(rig.List().Select(e => e.NameText), Is.EqualTo(new[] { ".", ".." }));
        });
    }

    [TestCase(0)]
    [TestCase(5)]
    [TestCase(50)]
    [TestCase(300)]
    [TestCase(1500)]
    public void AddedNamesAreFoundInEveryForm(int count)
    {
        using var rig = DirTestRig.Create();
        var model = Fill(rig, count);
        foreach (var (name, ino) in model)
        {
            var e = rig.Lookup(name);
            Assert.That(e, Is.Not.Null, name);
            Assert.That(e!.Ino, Is.EqualTo(ino), name);
            Assert.That(e.FileType, Is.EqualTo(XfsDirFileType.RegularFile));
        }
        Assert.That(rig.Lookup("missing"), Is.Null);
        rig.AssertMatches(model, $"{count} names");
        Assert.That(rig.IsEmpty, Is.EqualTo(count == 0));
    }

    [Test]
    public void ShortFormBecomesBlockAtTheNineteenthTenByteName()
    {
        // Header 6 bytes + 18 entries of 1+2+10+1+4 = 330 <= 336; the 19th needs 348.
        using var rig = DirTestRig.Create();
        Fill(rig, 18);
        Assert.That(rig.Form, Is.EqualTo(XfsDir2Form.Shortform));
        Assert.That(rig.Dir.Size, Is.EqualTo(330UL));
        rig.Add(Name(18), InoOf(18));
        Assert.That(rig.Form, Is.EqualTo(XfsDir2Form.Block));
        Assert.That(rig.Dir.Size, Is.EqualTo(4096UL));
        rig.Remove(Name(18));
        Assert.That(rig.Form, Is.EqualTo(XfsDir2Form.Shortform));
        Assert.That(rig.Dir.Size, Is.EqualTo(330UL));
    }

    [Test]
    public void BlockBecomesLeafAtTheHundredTwentyFifthTenByteName()
    {
        // Entries of 24 bytes from offset 96; leaf of (n + 2) * 8 bytes and an 8-byte tail: with
        // 124 names 8 bytes are left, too few for one more entry and its leaf slot.
        using var rig = DirTestRig.Create();
        var model = Fill(rig, 124);
        Assert.That(rig.Form, Is.EqualTo(XfsDir2Form.Block));
        rig.Add(Name(124), InoOf(124));
        model[Name(124)] = InoOf(124);
        Assert.That(rig.Form, Is.EqualTo(XfsDir2Form.Leaf));
        Assert.That(rig.Dir.Size, Is.EqualTo(4096UL));
        rig.AssertMatches(model, "after block to leaf");
        rig.Remove(Name(124));
        model.Remove(Name(124));
        Assert.That(rig.Form, Is.EqualTo(XfsDir2Form.Block));
        rig.AssertMatches(model, "after leaf to block");
    }

    [Test]
    public void LeafBecomesNodeAtTheFiveHundredFirstTenByteName()
    {
        // 500 names and "." / ".." fill three data blocks and 502 leaf entries: exactly what a
        // LEAF1 block with a three-entry bests table holds ((4096 - 64 - 4 - 6) / 8).
        using var rig = DirTestRig.Create();
        var model = Fill(rig, 500);
        Assert.That(rig.Form, Is.EqualTo(XfsDir2Form.Leaf));
        Assert.That(rig.Dir.Size, Is.EqualTo(3 * 4096UL));
        rig.Add(Name(500), InoOf(500));
        model[Name(500)] = InoOf(500);
        Assert.That(rig.Form, Is.EqualTo(XfsDir2Form.Node));
        rig.AssertMatches(model, "after leaf to node");
        rig.Remove(Name(500));
        model.Remove(Name(500));
        Assert.That(rig.Form, Is.EqualTo(XfsDir2Form.Leaf));
        rig.AssertMatches(model, "after node to leaf");
    }

    [Test]
    public void ANodeDirectoryShrinksBackToShortFormAndFreesEveryBlock()
    {
        using var rig = DirTestRig.Create();
        ulong free = rig.FreeBlocks;
        var model = Fill(rig, 2000);
        Assert.That(rig.Form, Is.EqualTo(XfsDir2Form.Node));
        Assert.That(rig.FreeBlocks, Is.LessThan(free));
        for (int i = 1999; i >= 0; i--)
        {
            rig.Remove(Name(i));
            model.Remove(Name(i));
            if (i % 250 == 0)
                rig.AssertMatches(model, $"after removing down to {i}");
        }
        Assert.Multiple(() =>
        {
            Assert.That(rig.Form, Is.EqualTo(XfsDir2Form.Shortform));
            Assert.That(rig.IsEmpty, Is.True);
            Assert.That(rig.Dir.Map, Is.Empty);
            Assert.That(rig.FreeBlocks, Is.EqualTo(free));
        });
    }

    [Test]
    public void ANodeDirectoryGrowsPastOneLevelOfLeaves()
    {
        // 206-byte names: 18 per data block, so 6000 names take about 340 data blocks and a dozen
        // leaves under the root node, split one by one as they fill.
        using var rig = DirTestRig.Create(size: 256 * Trans.MetadataTestFs.MiB);
        var model = new Dictionary<string, ulong>();
        for (int i = 0; i < 6000; i++)
        {
            string name = $"{i:D6}" + new string('x', 200);
            rig.Add(name, 5000 + (ulong)i);
            model[name] = 5000 + (ulong)i;
        }
        rig.AssertMatches(model, "6000 long names");
        Assert.That(rig.Form, Is.EqualTo(XfsDir2Form.Node));
    }

    [Test]
    public void AddingAnExistingNameFailsWithEexistInEveryForm()
    {
        using var rig = DirTestRig.Create();
        foreach (int count in new[] { 3, 50, 300, 700 })
        {
            Fill(rig, count);
            var e = Assert.Throws<XfsException>(() => rig.Add(Name(count / 2), 99));
            Assert.That(e!.Errno, Is.EqualTo(Errno.EEXIST), $"{count} names");
            var dot = Assert.Throws<XfsException>(() => rig.Add("..", 99));
            Assert.That(dot!.Errno, Is.EqualTo(Errno.EEXIST));
            Assert.That(rig.Lookup(Name(count / 2))!.Ino, Is.EqualTo(InoOf(count / 2)));
            Assert.That(rig.Check().Problems, Is.Empty);
            for (int i = 0; i < count; i++)
                rig.Remove(Name(i));
        }
    }

    [Test]
    public void RemovingOrReplacingAMissingNameFailsWithEnoentInEveryForm()
    {
        using var rig = DirTestRig.Create();
        foreach (int count in new[] { 0, 50, 300, 700 })
        {
            Fill(rig, count);
            var r = Assert.Throws<XfsException>(() => rig.Remove("absent"));
            Assert.That(r!.Errno, Is.EqualTo(Errno.ENOENT), $"{count} names");
            var p = Assert.Throws<XfsException>(() => rig.Replace("absent", 5));
            Assert.That(p!.Errno, Is.EqualTo(Errno.ENOENT), $"{count} names");
            var l = Assert.Throws<XfsException>(() => rig.Run(tp => XfsDirectory.Lookup(tp, rig.Dir, DirTestRig.B("absent"))));
            Assert.That(l!.Errno, Is.EqualTo(Errno.ENOENT));
            for (int i = 0; i < count; i++)
                rig.Remove(Name(i));
        }
    }

    [Test]
    public void BadNamesAreRejected()
    {
        using var rig = DirTestRig.Create();
        var tooLong = Assert.Throws<XfsException>(() => rig.Add(new string('a', 256), 5));
        var empty = Assert.Throws<XfsException>(() => rig.Add("", 5));
        var slash = Assert.Throws<XfsException>(() => rig.Add("a/b", 5));
        var dot = Assert.Throws<XfsException>(() => rig.Remove("."));
        var zeroIno = Assert.Throws<XfsException>(() => rig.Add("zero", 0));
        Assert.Multiple(() =>
        {
            Assert.That(tooLong!.Errno, Is.EqualTo(Errno.ENAMETOOLONG));
            Assert.That(empty!.Errno, Is.EqualTo(Errno.EINVAL));
            Assert.That(slash!.Errno, Is.EqualTo(Errno.EINVAL));
            Assert.That(dot!.Errno, Is.EqualTo(Errno.EINVAL));
            Assert.That(zeroIno!.Errno, Is.EqualTo(Errno.EINVAL));
        });
        rig.Add(new string('a', 255), 5);
        Assert.That(rig.Lookup(new string('a', 255))!.Ino, Is.EqualTo(5UL));
    }

    [Test]
    public void ReplaceChangesTheInodeAndTypeInEveryForm()
    {
        using var rig = DirTestRig.Create();
        foreach (int count in new[] { 4, 60, 300, 800 })
        {
            var model = Fill(rig, count);
            rig.Replace(Name(1), 777_777, XfsDirFileType.Directory);
            model[Name(1)] = 777_777;
            var e = rig.Lookup(Name(1))!;
            Assert.That((e.Ino, e.FileType), Is.EqualTo((777_777UL, XfsDirFileType.Directory)), $"{count} names");
            rig.Replace("..", 555);
            Assert.That(rig.Lookup("..")!.Ino, Is.EqualTo(555UL));
            rig.AssertMatches(model, $"{count} names");
            rig.Replace("..", DirTestRig.ParentIno);
            for (int i = 0; i < count; i++)
                rig.Remove(Name(i));
        }
    }

    [Test]
    public void AnInodeNumberAboveThirtyTwoBitsWidensTheShortFormAndRemovingItNarrowsIt()
    {
        using var rig = DirTestRig.Create();
        Fill(rig, 3);
        ulong narrow = rig.Dir.Size;
        rig.Add("big", 1UL << 40);
        Assert.Multiple(() =>
        {
            Assert.That(rig.Form, Is.EqualTo(XfsDir2Form.Shortform));
            Assert.That(rig.Dir.LocalData[1], Is.EqualTo((byte)1), "i8count");
            // Four more bytes for the parent and each of the three entries, plus the new entry.
            Assert.That(rig.Dir.Size, Is.EqualTo(narrow + (4 * 4) + 1 + 2 + 3 + 1 + 8));
            Assert.That(rig.Lookup("big")!.Ino, Is.EqualTo(1UL << 40));
            Assert.That(rig.Lookup(Name(1))!.Ino, Is.EqualTo(InoOf(1)));
        });
        rig.Remove("big");
        Assert.Multiple(() =>
        {
            Assert.That(rig.Dir.LocalData[1], Is.Zero);
            Assert.That(rig.Dir.Size, Is.EqualTo(narrow));
        });
        rig.Replace("..", 1UL << 35);
        Assert.That(rig.Dir.LocalData[1], Is.EqualTo((byte)1));
        Assert.That(rig.Lookup("..")!.Ino, Is.EqualTo(1UL << 35));
        Assert.That(rig.Check().Problems, Is.Empty);
    }

    [Test]
    public void WideningAFullShortFormConvertsItToABlock()
    {
        using var rig = DirTestRig.Create();
        var model = Fill(rig, 17);
        Assert.That(rig.Form, Is.EqualTo(XfsDir2Form.Shortform));
        rig.Replace(Name(3), 1UL << 36);
        model[Name(3)] = 1UL << 36;
        Assert.That(rig.Form, Is.EqualTo(XfsDir2Form.Block));
        rig.AssertMatches(model, "after widening");
    }

    [Test]
    public void CookiesStayTheSameAcrossFormChangesAndResumeAReaddir()
    {
        using var rig = DirTestRig.Create();
        Fill(rig, 10);
        var before = rig.List().ToDictionary(e => e.NameText, e => e.Cookie);
        for (int i = 10; i < 600; i++)
            rig.Add(Name(i), InoOf(i));
        Assert.That(rig.Form, Is.EqualTo(XfsDir2Form.Node));
        var after = rig.List();
        foreach (var (name, cookie) in before)
            Assert.That(after.Single(e => e.NameText == name).Cookie, Is.EqualTo(cookie), name);
        // Reading in pieces of 37 from each last cookie + 1 yields the same sequence.
        var pieces = new List<XfsDirEntry>();
        uint from = 0;
        while (true)
        {
            var chunk = rig.List(from).Take(37).ToList();
            if (chunk.Count == 0)
                break;
            pieces.AddRange(chunk);
            from = chunk[^1].Cookie + 1;
        }
        Assert.That(pieces.Select(e => e.NameText), Is.EqualTo(after.Select(e => e.NameText)));
        Assert.That(after.Select(e => e.Cookie), Is.Ordered.Ascending);
    }

    [Test]
    public void ASmallForkTurnsIntoABlockSoonerAndBackWhenTheEntriesFitAgain()
    {
        // An attribute fork can leave the data fork room for one 20-byte name only.
        using var rig = DirTestRig.Create(localCapacity: 40);
        rig.Add("aaaaaaaaaaaaaaaaaaaa", 10);
        rig.Add("bbbbbbbbbbbbbbbbbbbb", 11);
        Assert.That(rig.Form, Is.EqualTo(XfsDir2Form.Block));
        rig.Remove("aaaaaaaaaaaaaaaaaaaa");
        Assert.That(rig.Form, Is.EqualTo(XfsDir2Form.Shortform));
        Assert.That(rig.Lookup("bbbbbbbbbbbbbbbbbbbb")!.Ino, Is.EqualTo(11UL));
    }

    [Test]
    public void AddingANameThatNeedsABlockOnAFullFilesystemFailsWithEnospcAndChangesNothing()
    {
        using var rig = DirTestRig.Create();
        var model = Fill(rig, 18);
        // Use up every block a transaction may reserve.
        while (rig.Fs.Mount.FreeBlocksAvailable > 0)
        {
            uint want = (uint)Math.Min(rig.Fs.Mount.FreeBlocksAvailable, 512UL);
            using var tp = rig.Fs.Begin(want);
            uint got = 0;
            while (got < want && XfsAlloc.TryAllocateAnyAg(tp, 0, 1, want - got, 1, out var ext))
                got += ext.Length;
            tp.Commit();
            if (got == 0)
                break;
        }
        var e = Assert.Throws<XfsException>(() => rig.Add(Name(18), InoOf(18)));
        Assert.That(e!.Errno, Is.EqualTo(Errno.ENOSPC));
        Assert.That(rig.Form, Is.EqualTo(XfsDir2Form.Shortform));
        rig.AssertMatches(model, "after ENOSPC");
    }
}
