using DaxStack.Fs.Vfs;
using DaxStack.Fs.Xfs.Super;
using DaxStack.Fs.Xfs.Trans;
using VfsTree = DaxStack.Fs.Vfs.Vfs;

namespace DaxStack.Fs.Tests.Interop;

/// <summary>
/// DESIGN.md 5.6: we mount and read correctly images that real <c>mkfs.xfs -i sparse=0</c> makes,
/// populated with a protofile. The protofile holds files from empty to several MiB, sizes that end
/// inside a block, and directories in short-form, block, leaf and node form; everything is read
/// back through the VFS and compared with the source bytes, then changed and unmounted, and real
/// <c>xfs_repair -n</c> must still accept the image.
/// </summary>
[TestFixture]
[Category("Interop")]
public sealed class MkfsXfsMountTests
{
    private const long MiB = 1 << 20;
    private const uint Mode644 = 0x1A4;

    private string _dir = "";
    private string _content = "";
    private readonly Dictionary<string, byte[]> _files = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string[]> _dirs = new(StringComparer.Ordinal);

    [SetUp]
    public void SetUp()
    {
        _dir = Directory.CreateTempSubdirectory("daxstack-mkfsmount-").FullName;
        _content = Path.Combine(_dir, "content");
        Directory.CreateDirectory(_content);
        _files.Clear();
        _dirs.Clear();
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [TestCase(64 * MiB, "agcount=2")]
    [TestCase(512 * MiB, "agcount=8")]
    public void EveryFileAndDirectoryOfAPopulatedMkfsXfsImageReadsBackThroughOurVfs(long size, string agcount)
    {
        string image = MakeImage(size, agcount);
        using var dev = FsTestDevice.Image(image);
        var type = new XfsFileSystemType(dev.Device, new XfsMountOptions());
        var p = new VfsTree(type).CreateProcess(Credentials.Root);
        try
        {
            AssertTreeMatches(p);
        }
        finally
        {
            p.Dispose();
        }

        type.Super!.Sb.Operations.PutSuper();
    }

    [Test]
    public void APopulatedMkfsXfsImageChangedThroughOurVfsStillPassesXfsRepair()
    {
        string image = MakeImage(128 * MiB, "agcount=4");
        using (var dev = FsTestDevice.Image(image))
        {
            var type = new XfsFileSystemType(dev.Device, new XfsMountOptions());
            var p = new VfsTree(type).CreateProcess(Credentials.Root);
            try
            {
                // Grow, overwrite, shrink, unlink and rename what mkfs.xfs wrote; add to its directories.
                var extra = Pattern(3 * 4096 + 100, 90);
                Append(p, "/d/big", extra);
                _files["d/big"] = [.. _files["d/big"], .. extra];
                p.Truncate("/mid", 5000);
                _files["mid"] = _files["mid"][..5000];
                p.Unlink("/node/n00017");
                _dirs["node"] = [.. _dirs["node"].Where(n => n != "n00017")];
                _files.Remove("node/n00017");
                p.Rename("/leaf/l0003", "/node/moved");
                _files["node/moved"] = _files["leaf/l0003"];
                _files.Remove("leaf/l0003");
                _dirs["leaf"] = [.. _dirs["leaf"].Where(n => n != "l0003")];
                _dirs["node"] = [.. _dirs["node"], "moved"];
                Write(p, "/block/new", Pattern(70000, 91));
                _files["block/new"] = Pattern(70000, 91);
                _dirs["block"] = [.. _dirs["block"], "new"];
                p.Mkdir("/sf/newdir", 0x1ED);
                _dirs["sf"] = [.. _dirs["sf"], "newdir"];
                _dirs["sf/newdir"] = [];
                AssertTreeMatches(p);
            }
            finally
            {
                p.Dispose();
            }

            type.Super!.Sb.Operations.PutSuper();
        }

        XfsProgs.AssertRepairPasses(image, "after our changes to a populated mkfs.xfs image");

        // And a second mount sees the changes.
        using var again = FsTestDevice.Image(image, readOnly: true);
        var type2 = new XfsFileSystemType(again.Device, new XfsMountOptions());
        var p2 = new VfsTree(type2, readOnly: true).CreateProcess(Credentials.Root);
        try
        {
            AssertTreeMatches(p2);
        }
        finally
        {
            p2.Dispose();
        }
    }

    /// <summary>The protofile's tree: files of assorted sizes and one directory of each form.</summary>
    private string MakeImage(long size, string agcount)
    {
        var proto = new List<string> { "/dev/null", "0 0", "d--755 0 0" };
        AddFile(proto, "", "empty", 0, 1);
        AddFile(proto, "", "tiny", 6, 2);
        AddFile(proto, "", "oneblock", 4096, 3);
        AddFile(proto, "", "mid", 20001, 4);
        AddFile(proto, "", "multi", (int)(2 * MiB) + 513, 5);
        AddDir(proto, "sf", 5, i => $"s{i}", 10);
        AddDir(proto, "block", 40, i => $"b{i:D3}", 20);
        AddDir(proto, "leaf", 300, i => $"l{i:D4}", 30);
        AddDir(proto, "node", 2000, i => $"n{i:D5}-a-longer-name-so-the-leaf-overflows", 40, shortNameEvery: 1000);
        proto.Add("d d--755 0 0");
        _dirs["d"] = ["big"];
        AddFile(proto, "d", "big", (int)(5 * MiB) + 77, 6);
        proto.Add("$");
        proto.Add("$");
        _dirs[""] = ["empty", "tiny", "oneblock", "block", "mid", "multi", "sf", "leaf", "node", "d"];
        string protoPath = Path.Combine(_dir, "proto");
        File.WriteAllLines(protoPath, proto);
        string image = FsTestDevice.SparseImage(_dir, "populated.img", size);
        XfsProgs.MkfsXfs(image, "-d", agcount, "-p", protoPath);
        XfsProgs.AssertRepairPasses(image, "on the fresh mkfs.xfs image (the reference)");
        return image;
    }

    private void AddFile(List<string> proto, string dir, string name, int length, int seed)
    {
        var data = Pattern(length, seed);
        string src = Path.Combine(_content, $"{seed}-{name}");
        File.WriteAllBytes(src, data);
        proto.Add($"{name} ---644 0 0 {src}");
        _files[dir.Length == 0 ? name : $"{dir}/{name}"] = data;
    }

    private void AddDir(List<string> proto, string dir, int count, Func<int, string> name, int seed, int shortNameEvery = 0)
    {
        proto.Add($"{dir} d--755 0 0");
        var names = new List<string>();
        for (int i = 0; i < count; i++)
        {
            // A few names are short so the node directory is not all of one length.
            string n = shortNameEvery > 0 && i % shortNameEvery == 17 ? $"n{i:D5}" : name(i);
            AddFile(proto, dir, n, i % 7 == 0 ? 100 + i : 0, seed * 10000 + i);
            names.Add(n);
        }

        proto.Add("$");
        _dirs[dir] = [.. names];
    }

    private void AssertTreeMatches(Process p)
    {
        foreach (var (dir, expected) in _dirs)
        {
            string path = "/" + dir;
            var listed = p.ReadDirectory(path).Select(e => e.Name).Where(n => n is not ("." or "..")).Order(StringComparer.Ordinal).ToArray();
            Assert.That(listed, Is.EqualTo(expected.Order(StringComparer.Ordinal).ToArray()), $"listing of {path}");
        }

        foreach (var (file, expected) in _files)
        {
            string path = "/" + file;
            var st = p.Stat(path);
            Assert.That(st.Size, Is.EqualTo(expected.Length), $"size of {path}");
            var actual = Read(p, path, expected.Length);
            if (!actual.AsSpan().SequenceEqual(expected))
                Assert.Fail($"{path}: contents differ from the source (first difference at byte {FirstDifference(actual, expected)})");
        }
    }

    private static int FirstDifference(byte[] a, byte[] b)
    {
        int n = Math.Min(a.Length, b.Length);
        for (int i = 0; i < n; i++)
        {
            if (a[i] != b[i])
                return i;
        }

        return n;
    }

    private static byte[] Read(Process p, string path, int length)
    {
        int fd = p.Open(path, OpenFlags.O_RDONLY);
        try
        {
            // One byte more than the size: a read must stop at EOF.
            var buffer = new byte[length + 1];
            int n = p.Pread(fd, buffer, 0);
            Assert.That(n, Is.EqualTo(length), $"bytes read from {path}");
            return buffer[..n];
        }
        finally
        {
            p.Close(fd);
        }
    }

    private static void Write(Process p, string path, byte[] data)
    {
        int fd = p.Open(path, OpenFlags.O_CREAT | OpenFlags.O_WRONLY | OpenFlags.O_TRUNC, Mode644);
        try
        {
            Assert.That(p.Write(fd, data), Is.EqualTo(data.Length));
        }
        finally
        {
            p.Close(fd);
        }
    }

    private static void Append(Process p, string path, byte[] data)
    {
        int fd = p.Open(path, OpenFlags.O_WRONLY | OpenFlags.O_APPEND);
        try
        {
            Assert.That(p.Write(fd, data), Is.EqualTo(data.Length));
        }
        finally
        {
            p.Close(fd);
        }
    }

    private static byte[] Pattern(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }
}
