using DaxStack.Fs.Xfs.Dir2;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Tests.Xfs.Dir2;

/// <summary>
/// Directories that real mkfs.xfs made from a protofile, in every form: our read-only path lists
/// exactly what xfs_db lists, the checker finds nothing wrong, every block re-encodes to the same
/// bytes, and the entry counts where the forms change are XFS's.
/// </summary>
[NonParallelizable]
public class XfsDirectoryImageTests
{
    private static readonly (string Dir, int Count, Func<int, string> Name)[] Dirs =
    [
        ("d0", 0, i => $"f{i}"),
        ("d5", 5, i => $"f{i}"),
        ("d100", 100, i => $"f{i:D3}"),
        ("dlong", 40, i => $"{i:D4}" + new string('y', 251)),
        ("d1000", 1000, i => $"file_{i:D4}"),
        ("d5000", 5000, i => $"n{i:D5}"),
        ("b18", 18, i => $"name_{i:D5}"),
        ("b19", 19, i => $"name_{i:D5}"),
        ("b124", 124, i => $"name_{i:D5}"),
        ("b125", 125, i => $"name_{i:D5}"),
        ("b500", 500, i => $"name_{i:D5}"),
        ("b501", 501, i => $"name_{i:D5}"),
    ];

    private MkfsXfsDirectoryImage _image = null!;

    [OneTimeSetUp]
    public void MakeImage() => _image = MkfsXfsDirectoryImage.Create(Dirs);

    [OneTimeTearDown]
    public void DropImage() => _image.Dispose();

    [TestCase("d0")]
    [TestCase("d5")]
    [TestCase("d100")]
    [TestCase("dlong")]
    [TestCase("d1000")]
    [TestCase("d5000")]
    public void OurListingIsWhatXfsDbLists(string dir)
    {
        ulong ino = _image.DirIno(dir);
        var ours = _image.List(ino);
        var theirs = _image.XfsDbLs(ino);
        Assert.That(ours.Select(e => (e.NameText, e.Ino, TypeName(e.FileType))),
            Is.EqualTo(theirs.Select(t => (t.Name, t.Ino, t.Type))), dir);
        Assert.That(ours.Select(e => XfsDaHash.HashName(e.Name)), Is.EqualTo(theirs.Select(t => t.Hash)), "hashes");
    }

    [TestCase("d0")]
    [TestCase("d5")]
    [TestCase("d100")]
    [TestCase("dlong")]
    [TestCase("d1000")]
    [TestCase("d5000")]
    public void OurListingHoldsEveryProtofileName(string dir)
    {
        var (_, count, name) = Dirs.Single(d => d.Dir == dir);
        var ours = _image.List(_image.DirIno(dir));
        var expected = new[] { ".", ".." }.Concat(Enumerable.Range(0, count).Select(name));
        Assert.That(ours.Select(e => e.NameText), Is.EquivalentTo(expected));
        Assert.That(ours.Where(e => e.NameText == "..").Single().Ino, Is.EqualTo(_image.Reader.Superblock.RootIno));
    }

    [TestCase("d0", XfsDir2Form.Shortform)]
    [TestCase("d5", XfsDir2Form.Shortform)]
    [TestCase("d100", XfsDir2Form.Block)]
    [TestCase("dlong", XfsDir2Form.Leaf)]
    [TestCase("d1000", XfsDir2Form.Node)]
    [TestCase("d5000", XfsDir2Form.Node)]
    [TestCase("b18", XfsDir2Form.Shortform)]
    [TestCase("b19", XfsDir2Form.Block)]
    [TestCase("b124", XfsDir2Form.Block)]
    [TestCase("b125", XfsDir2Form.Leaf)]
    [TestCase("b500", XfsDir2Form.Leaf)]
    [TestCase("b501", XfsDir2Form.Node)]
    public void RealXfsChoseTheFormOurCodeChoosesForTheSameEntries(string dir, XfsDir2Form form)
    {
        ulong ino = _image.DirIno(dir);
        Assert.That(XfsDirectoryReader.FormOf(_image.Inode(ino), _image.Geometry, _image.Uuid, _image.ReadBlock), Is.EqualTo(form), "real XFS");
        // The same names added one by one by our code land in the same form.
        var (_, count, name) = Dirs.Single(d => d.Dir == dir);
        using var rig = DirTestRig.Create();
        for (int i = 0; i < count; i++)
            rig.Add(name(i), 1000 + (ulong)i);
        Assert.That(rig.Form, Is.EqualTo(form), "ours");
    }

    [Test]
    public void TheCheckerFindsNothingWrongInRealDirectories()
    {
        foreach (var (dir, count, _) in Dirs)
        {
            var result = XfsDirectoryCheck.Check(_image.Source(_image.DirIno(dir)), _image.Geometry.IsValidIno);
            Assert.That(result.Problems, Is.Empty, dir);
            Assert.That(result.Entries, Has.Count.EqualTo(count + 2), dir);
        }
    }

    [TestCase("d100")]
    [TestCase("dlong")]
    [TestCase("d1000")]
    [TestCase("d5000")]
    public void EveryRealDirectoryBlockReencodesToTheSameBytesAndCrc(string dir)
    {
        // XFS leaves old bytes in unused space (free regions, entry padding, past the last leaf,
        // node or bests entry); those are copied over, everything else and the CRC must come out
        // identical.
        var source = _image.Source(_image.DirIno(dir));
        int blocks = 0;
        foreach (var (dablk, fsb) in source.Map)
        {
            byte[] real = _image.ReadBlock(fsb);
            string what = $"{dir} block {dablk}";
            byte[] ours;
            int crc;
            var unused = new List<(int Start, int End)>();
            if (Be32(real, 0) is XfsDir2Format.BlockMagic or XfsDir2Format.DataMagic)
            {
                var d = XfsDir2DataBlock.ReadFrom(real, what);
                (ours, crc) = (d.ToBytes(), XfsDir2Format.DataCrcOffset);
                unused.AddRange(d.FreeRegions().Select(f => (f.Offset + 4, f.End - 2)));
                unused.AddRange(d.Entries.Select(e => (e.Offset + 8 + 1 + e.Name.Length + 1, e.Offset + e.Size - 2)));
            }
            else if (Be32(real, 0) == XfsDir2Format.FreeMagic)
            {
                var f = XfsDir2FreeBlock.ReadFrom(real, what);
                (ours, crc) = (f.ToBytes(), XfsDir2Format.DataCrcOffset);
                unused.Add((XfsDir2Format.DaHeaderSize + (2 * f.Bests.Count), real.Length));
            }
            else if (Be16(real, 8) == XfsDir2Format.NodeMagic)
            {
                var n = XfsDa3NodeBlock.ReadFrom(real, what);
                (ours, crc) = (n.ToBytes(), XfsDir2Format.DaCrcOffset);
                unused.Add((XfsDir2Format.DaHeaderSize + (8 * n.Entries.Count), real.Length));
            }
            else
            {
                var l = XfsDir2LeafBlock.ReadFrom(real, what);
                (ours, crc) = (l.ToBytes(), XfsDir2Format.DaCrcOffset);
                int end = l.IsLeafN ? real.Length : real.Length - 4 - (2 * l.Bests.Count);
                unused.Add((XfsDir2Format.DaHeaderSize + (8 * l.Entries.Count), end));
            }
            foreach (var (start, end) in unused)
                Array.Copy(real, start, ours, start, end - start);
            XfsCrc.Stamp(ours, crc);
            Assert.That(ours, Is.EqualTo(real), what);
            blocks++;
        }
        Assert.That(blocks, Is.GreaterThan(0));
    }

    private static uint Be32(byte[] b, int o) => (uint)((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]);

    private static ushort Be16(byte[] b, int o) => (ushort)((b[o] << 8) | b[o + 1]);

    private static string TypeName(XfsDirFileType t) => t switch
    {
        XfsDirFileType.Directory => "directory",
        XfsDirFileType.RegularFile => "regular",
        _ => t.ToString(),
    };
}
