using System.Text;
using DaxStack.Device.Errors;
using DaxStack.Fs.Tests.Cli;
using DaxStack.Fs.Tests.Interop;
using DaxStack.Fs.Vfs;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Tests.Xfs.Attr;

/// <summary>
/// The short-form attribute fork on disk: our code places di_forkoff and reshapes the data fork
/// exactly as libxfs does (real xfs_db's attr_set / attr_remove on a twin inode give the same
/// fields), the attributes survive a remount, real xfs_repair -n accepts every state and rejects
/// a damaged fork that our checker also reports, and daxstack db prints the fork as xfs_db does.
/// </summary>
[NonParallelizable]
public class XfsAttrForkTests
{
    private const int Bs = 4096;

    // The inode fields that say where the forks are and how they are stored, and the fork itself.
    private static readonly string[] ForkFields = ["core.format", "core.nextents", "core.naextents", "core.forkoff", "core.aformat", "core.size"];

    private static byte[] V(int length) => Enumerable.Repeat((byte)'v', length).ToArray();

    private static string Describe(DaxStack.Fs.Xfs.Repair.XfsRepairReport report)
    {
        var w = new StringWriter();
        report.WriteTo(w);
        return w.ToString();
    }

    private static List<KeyValuePair<string, string>> ForkView(List<KeyValuePair<string, string>> fields) =>
        [.. fields.Where(f => ForkFields.Contains(f.Key) || f.Key.StartsWith("a.", StringComparison.Ordinal))];

    private static void Fragment(Process p, string path, int extents)
    {
        int fd = p.Open(path, OpenFlags.O_CREAT | OpenFlags.O_RDWR, 0x1A4);
        var block = new byte[Bs];
        for (int i = 0; i < extents; i++)
        {
            Array.Fill(block, (byte)i);
            Assert.That(p.Pwrite(fd, block, 2L * i * Bs), Is.EqualTo(Bs));
        }
        p.Close(fd);
    }

    private static void Populate(Process p, string dir, int names)
    {
        p.Mkdir(dir, 0x1ED);
        for (int i = 0; i < names; i++)
            p.Close(p.Creat($"{dir}/name-number-{i:D2}", 0x1A4));
    }

    private static void AssertClean(AttrImage image, string when)
    {
        AssertOurCheckerClean(image, when);
        XfsProgs.AssertRepairPasses(image.Path, when);
    }

    // Before real xfs_db -x writes the image: libxfs logs the whole primary superblock, which
    // then differs from the secondaries in fields our checker compares and xfs_repair does not.
    private static void AssertOurCheckerClean(AttrImage image, string when)
    {
        var report = image.Check();
        Assert.That(report.IsClean, Is.True, $"{when}:\n{Describe(report)}");
    }

    // Two identical inodes made by `make`; ours gets user.<name> = valueLength 'v's through the
    // VFS, the twin the same through real xfs_db's attr_set (libxfs); then both lose it again.
    [TestCase("empty-file", 6)]
    [TestCase("empty-file", 254)]
    [TestCase("20-extents", 6)]
    [TestCase("btree-file", 6)]
    [TestCase("sf-dir-12", 6)]
    [TestCase("sf-dir-16", 6)]
    [TestCase("sf-dir-16", 140)]
    public void OurForkOffsetAndDataForkShapeMatchLibxfsForTheFirstAttributeAndItsRemoval(string shape, int valueLength)
    {
        using var image = new AttrImage();
        long ours = 0, twin = 0;
        void Make(Process p, string path)
        {
            switch (shape)
            {
                case "empty-file":
                    p.Close(p.Creat(path, 0x1A4));
                    break;
                case "20-extents":
                    Fragment(p, path, 20);
                    break;
                case "btree-file":
                    Fragment(p, path, 80);
                    break;
                default:
                    Populate(p, path, int.Parse(shape["sf-dir-".Length..], System.Globalization.CultureInfo.InvariantCulture));
                    break;
            }
        }
        image.Session(p =>
        {
            Make(p, "/ours");
            Make(p, "/twin");
            p.SetXattr("/ours", "user.attrname", V(valueLength));
            ours = p.Stat("/ours").Ino;
            twin = p.Stat("/twin").Ino;
        });
        AssertOurCheckerClean(image, $"{shape} with an attribute");
        image.XfsDbExpert($"inode {twin}", $"attr_set -u -v {valueLength} attrname");
        var expected = ForkView(image.XfsDbInode(twin));
        var actual = ForkView(image.XfsDbInode(ours));
        Assert.That(actual, Is.EqualTo(expected), $"{shape}: ours (inode {ours}) against libxfs (inode {twin}) after the first attribute");
        Assert.That(actual.Single(f => f.Key == "core.forkoff").Value, Is.Not.EqualTo("0"));
        XfsProgs.AssertRepairPasses(image.Path, $"{shape} with an attribute");

        image.Session(p =>
        {
            Assert.That(p.GetXattrValue("/ours", "user.attrname"), Is.EqualTo(V(valueLength)), "after a remount");
            p.RemoveXattr("/ours", "user.attrname");
        });
        image.XfsDbExpert($"inode {twin}", "attr_remove -u attrname");
        Assert.That(ForkView(image.XfsDbInode(ours)), Is.EqualTo(ForkView(image.XfsDbInode(twin))), $"{shape}: after the removal");
        XfsProgs.AssertRepairPasses(image.Path, $"{shape} after the removal");
    }

    [Test]
    public void GrowingAndShrinkingTheForkMatchesLibxfs()
    {
        using var image = new AttrImage();
        long ours = 0, twin = 0;
        string[] names = ["a", "bb", "ccc", "dddd", "eeeee", "ffffff"];
        int[] lengths = [10, 40, 20, 60, 5, 30];
        image.Session(p =>
        {
            Fragment(p, "/ours", 6);
            Fragment(p, "/twin", 6);
            for (int i = 0; i < names.Length; i++)
                p.SetXattr("/ours", "user." + names[i], V(lengths[i]));
            p.RemoveXattr("/ours", "user.ccc");
            p.SetXattr("/ours", "user.a", V(50));
            ours = p.Stat("/ours").Ino;
            twin = p.Stat("/twin").Ino;
        });
        AssertOurCheckerClean(image, "after growing and shrinking");
        var commands = new List<string> { $"inode {twin}" };
        for (int i = 0; i < names.Length; i++)
            commands.Add($"attr_set -u -v {lengths[i]} {names[i]}");
        commands.Add("attr_remove -u ccc");
        commands.Add("attr_set -u -v 50 a");
        image.XfsDbExpert([.. commands]);
        Assert.That(ForkView(image.XfsDbInode(ours)), Is.EqualTo(ForkView(image.XfsDbInode(twin))));
        XfsProgs.AssertRepairPasses(image.Path, "after growing and shrinking");
    }

    [Test]
    public void EveryNamespaceIsStoredWithItsFlagAndReadBackAfterARemount()
    {
        using var image = new AttrImage();
        long ino = 0;
        image.Session(p =>
        {
            p.Mkdir("/d", 0x1ED);
            p.SetXattr("/d", "user.u", Encoding.UTF8.GetBytes("user value"));
            p.SetXattr("/d", "trusted.t", [0, 1, 2, 255]);
            p.SetXattr("/d", "security.s", Encoding.UTF8.GetBytes("label"));
            ino = p.Stat("/d").Ino;
        });
        var fields = image.XfsDbInode(ino).ToDictionary(f => f.Key, f => f.Value);
        Assert.Multiple(() =>
        {
            Assert.That(fields["a.sfattr.hdr.count"], Is.EqualTo("3"));
            Assert.That(fields["a.sfattr.list[0].name"], Is.EqualTo("\"u\""));
            Assert.That(fields["a.sfattr.list[0].root"], Is.EqualTo("0"));
            Assert.That(fields["a.sfattr.list[0].secure"], Is.EqualTo("0"));
            Assert.That(fields["a.sfattr.list[1].name"], Is.EqualTo("\"t\""));
            Assert.That(fields["a.sfattr.list[1].root"], Is.EqualTo("1"));
            Assert.That(fields["a.sfattr.list[2].name"], Is.EqualTo("\"s\""));
            Assert.That(fields["a.sfattr.list[2].secure"], Is.EqualTo("1"));
            Assert.That(fields["a.sfattr.hdr.totsize"], Is.EqualTo((4 + 3 + 1 + 10 + 3 + 1 + 4 + 3 + 1 + 5).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        });
        image.Session(p =>
        {
            Assert.Multiple(() =>
            {
                Assert.That(p.GetXattrValue("/d", "user.u"), Is.EqualTo(Encoding.UTF8.GetBytes("user value")));
                Assert.That(p.GetXattrValue("/d", "trusted.t"), Is.EqualTo(new byte[] { 0, 1, 2, 255 }));
                Assert.That(p.GetXattrValue("/d", "security.s"), Is.EqualTo(Encoding.UTF8.GetBytes("label")));
                Assert.That(p.ListXattrNames("/d"), Is.EqualTo(new[] { "user.u", "trusted.t", "security.s" }));
            });
        });
        AssertClean(image, "after setting one attribute per namespace");
    }

    [Test]
    public void DaxstackDbPrintsTheAttrForkExactlyAsXfsDb()
    {
        using var image = new AttrImage();
        long file = 0, dir = 0, leaf = 0;
        image.Session(p =>
        {
            p.Close(p.Creat("/f", 0x1A4));
            p.SetXattr("/f", "user.plain", Encoding.UTF8.GetBytes("text"));
            // Every byte value, to compare how each is quoted.
            p.SetXattr("/f", "trusted.low", [.. Enumerable.Range(0, 128).Select(b => (byte)b)]);
            p.SetXattr("/f", "user.high", [.. Enumerable.Range(128, 128).Select(b => (byte)b).Where(b => b < 248)]);
            p.Mkdir("/d", 0x1ED);
            p.SetXattr("/d", "security.selinux", Encoding.UTF8.GetBytes("system_u:object_r:tmp_t:s0"));
            p.Close(p.Creat("/leaf", 0x1A4));
            p.SetXattr("/leaf", "user.long", V(1000));
            file = p.Stat("/f").Ino;
            dir = p.Stat("/d").Ino;
            leaf = p.Stat("/leaf").Ino;
        });
        foreach (long ino in new[] { file, dir, leaf })
        {
            var expected = XfsProgs.Db(image.Path, $"inode {ino}", "print");
            var (status, output, error) = CliRun.Run("db", image.Path, "-c", $"inode {ino}", "-c", "print");
            Assert.That(status, Is.Zero, error);
            var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.That(expected.Where(l => l.StartsWith("a.", StringComparison.Ordinal)), Is.Not.Empty);
            Assert.That(lines, Is.EqualTo(expected), $"inode {ino}");
        }
    }

    // xfs_db's print of attr fork block 0 without what differs between two inodes (addresses,
    // CRC, owner) and with each entry's nameidx dropped (libxfs lays names out in insertion
    // order, we compact them in hash order).
    private static List<string> LeafView(AttrImage image, long ino) =>
        [.. XfsProgs.Db(image.Path, $"inode {ino}", "ablock 0", "print")
            .Where(l => !l.StartsWith("hdr.info.crc", StringComparison.Ordinal) && !l.StartsWith("hdr.info.bno", StringComparison.Ordinal)
                && !l.StartsWith("hdr.info.owner", StringComparison.Ordinal))
            .Select(l => System.Text.RegularExpressions.Regex.Replace(l, @"^(\d+:\[0x[0-9a-f]+),\d+,", "$1,"))];

    private static readonly string[] LeafFields = ["core.format", "core.nextents", "core.naextents", "core.forkoff", "core.aformat", "core.size", "core.nblocks"];

    private static List<KeyValuePair<string, string>> LeafInodeView(AttrImage image, long ino) =>
        [.. image.XfsDbInode(ino).Where(f => LeafFields.Contains(f.Key))];

    // A sequence of sets and removes by us and, on a twin inode, by real xfs_db (libxfs): the
    // inode and its attr leaf block or short-form fork match at the end of each stage.
    [TestCase("empty-file", "a:10 r:big:300", "-r:big")]
    [TestCase("empty-file", "a:10 b:254 c:254", "-c -b")]
    [TestCase("empty-file", "many:40:20", "-many:35")]
    [TestCase("btree-file", "a:10 b:10 s:c:10", "-b -a")]
    [TestCase("sf-dir-16", "a:200 b:200", "-a")]
    public void LeafBlocksAndTheWayBackToShortFormMatchLibxfs(string shape, string sets, string removes)
    {
        using var image = new AttrImage();
        long ours = 0, twin = 0;
        // "name:len" user, "r:name:len" trusted, "s:name:len" security, "many:n:len" n user attrs.
        static IEnumerable<(string Ns, string Name, int Length)> Parse(string spec)
        {
            foreach (var item in spec.Split(' '))
            {
                var f = item.Split(':');
                if (f[0] == "many")
                {
                    for (int i = 0; i < int.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture); i++)
                        yield return ("u", $"attr{i:D2}", int.Parse(f[2], System.Globalization.CultureInfo.InvariantCulture));
                }
                else if (f.Length == 3)
                {
                    yield return (f[0], f[1], int.Parse(f[2], System.Globalization.CultureInfo.InvariantCulture));
                }
                else
                {
                    yield return ("u", f[0], int.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture));
                }
            }
        }

        static IEnumerable<(string Ns, string Name)> ParseRemoves(string spec)
        {
            foreach (var item in spec.Split(' '))
            {
                var f = item[1..].Split(':');
                if (f[0] == "many")
                {
                    for (int i = 0; i < int.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture); i++)
                        yield return ("u", $"attr{i:D2}");
                }
                else
                {
                    yield return f.Length == 2 ? (f[0], f[1]) : ("u", f[0]);
                }
            }
        }

        static string Full(string ns, string name) => (ns switch { "r" => "trusted.", "s" => "security.", _ => "user." }) + name;
        void Make(Process p, string path)
        {
            switch (shape)
            {
                case "empty-file":
                    p.Close(p.Creat(path, 0x1A4));
                    break;
                case "btree-file":
                    Fragment(p, path, 80);
                    break;
                default:
                    Populate(p, path, 16);
                    break;
            }
        }

        image.Session(p =>
        {
            Make(p, "/ours");
            Make(p, "/twin");
            foreach (var (ns, name, length) in Parse(sets))
                p.SetXattr("/ours", Full(ns, name), V(length));
            ours = p.Stat("/ours").Ino;
            twin = p.Stat("/twin").Ino;
        });
        AssertOurCheckerClean(image, $"{shape} after {sets}");
        image.XfsDbExpert([$"inode {twin}", .. Parse(sets).Select(a => $"attr_set -{(a.Ns == "u" ? "u" : a.Ns)} -v {a.Length} {a.Name}")]);
        Assert.Multiple(() =>
        {
            Assert.That(LeafInodeView(image, ours), Is.EqualTo(LeafInodeView(image, twin)), $"{shape} after {sets}: inode");
            Assert.That(image.XfsDbInode(ours).Single(f => f.Key == "core.aformat").Value, Is.EqualTo("2 (extents)"));
            Assert.That(LeafView(image, ours), Is.EqualTo(LeafView(image, twin)), $"{shape} after {sets}: leaf block");
        });
        XfsProgs.AssertRepairPasses(image.Path, $"{shape} after {sets}");

        image.Session(p =>
        {
            foreach (var (ns, name, length) in Parse(sets))
                Assert.That(p.GetXattrValue("/ours", Full(ns, name)), Is.EqualTo(V(length)), $"{Full(ns, name)} after a remount");
            foreach (var (ns, name) in ParseRemoves(removes))
                p.RemoveXattr("/ours", Full(ns, name));
        });
        image.XfsDbExpert([$"inode {twin}", .. ParseRemoves(removes).Select(a => $"attr_remove -{(a.Ns == "u" ? "u" : a.Ns)} {a.Name}")]);
        Assert.That(ForkView(image.XfsDbInode(ours)), Is.EqualTo(ForkView(image.XfsDbInode(twin))), $"{shape} after {removes}");
        Assert.That(LeafInodeView(image, ours), Is.EqualTo(LeafInodeView(image, twin)), $"{shape} after {removes}: inode");
        XfsProgs.AssertRepairPasses(image.Path, $"{shape} after {removes}");
    }

    [Test]
    public void RemoteValuesAndAFullLeafBlockAreEnospcAndChangeNothing()
    {
        using var image = new AttrImage();
        image.Session(p =>
        {
            p.Close(p.Creat("/f", 0x1A4));
            p.SetXattr("/f", "user.keep", V(3));
            Assert.Multiple(() =>
            {
                Assert.That(Assert.Catch<ErrnoException>(() => p.SetXattr("/f", "user.remote", V(3100)))!.Errno, Is.EqualTo(Errno.ENOSPC));
                Assert.That(Assert.Catch<ErrnoException>(() => p.SetXattr("/f", "user.keep", V(4000)))!.Errno, Is.EqualTo(Errno.ENOSPC));
                Assert.That(p.GetXattrValue("/f", "user.keep"), Is.EqualTo(V(3)), "a failed replace keeps the old value");
                Assert.That(p.ListXattrNames("/f"), Is.EqualTo(new[] { "user.keep" }));
            });
            // Records of 400 + 8 bytes: nine fit a 4096-byte leaf block beside its 80-byte header,
            // leaving 344 bytes: not enough for a 348-byte record and its entry.
            var names = Enumerable.Range(0, 9).Select(i => "user." + new string((char)('a' + i), 195)).ToList();
            foreach (var n in names.Skip(1))
                p.SetXattr("/f", n, V(200));
            p.RemoveXattr("/f", "user.keep");
            p.SetXattr("/f", names[0], V(200));
            Assert.That(Assert.Catch<ErrnoException>(() => p.SetXattr("/f", "user.more", V(340)))!.Errno, Is.EqualTo(Errno.ENOSPC));
            p.SetXattr("/f", "user.more", V(320));
            Assert.That(p.ListXattrNames("/f"), Is.EquivalentTo(names.Append("user.more")));
        });
        AssertClean(image, "after ENOSPC");
    }

    [TestCase(20)]
    [TestCase(600)]
    public void AFreedInodeWithAttributesIsReusedClean(int valueLength)
    {
        using var image = new AttrImage();
        long first = 0;
        image.Session(p =>
        {
            p.Close(p.Creat("/f", 0x1A4));
            p.SetXattr("/f", "user.a", V(valueLength));
            p.SetXattr("/f", "trusted.b", V(20));
            first = p.Stat("/f").Ino;
            p.Unlink("/f");
        });
        var freed = image.Inode(first);
        Assert.Multiple(() =>
        {
            Assert.That(freed.Mode, Is.Zero);
            Assert.That(freed.ForkOff, Is.Zero);
            Assert.That(freed.AFormat, Is.EqualTo(XfsDinodeFormat.Extents));
        });
        AssertClean(image, "after freeing an inode with attributes");
        image.Session(p =>
        {
            p.Close(p.Creat("/g", 0x1A4));
            Assert.That(p.ListXattr("/g", []), Is.Zero);
        });
    }

    [TestCase(0, "zero-length name")]
    [TestCase(1, "totsize")]
    [TestCase(2, "flags")]
    public void ADamagedForkIsReportedByOurCheckerAndByXfsRepair(int damage, string what)
    {
        using var image = new AttrImage();
        long ino = 0;
        int forkoff = 0;
        image.Session(p =>
        {
            p.Close(p.Creat("/f", 0x1A4));
            p.SetXattr("/f", "user.first", V(8));
            p.SetXattr("/f", "user.second", V(8));
            ino = p.Stat("/f").Ino;
        });
        forkoff = image.Inode(ino).ForkOff;
        image.PatchInode(ino, inode =>
        {
            int fork = XfsDinode.CoreSize + forkoff * 8;
            switch (damage)
            {
                case 0:
                    inode[fork + 4] = 0;
                    break;
                case 1:
                    inode[fork + 1] += 3;
                    break;
                default:
                    inode[fork + 4 + 2] = 0x80;
                    break;
            }
        });
        var report = image.Check();
        Assert.That(report.IsClean, Is.False, $"our checker missed a damaged attr fork ({what})");
        Assert.That(string.Join("\n", report.Errors), Does.Contain($"inode {ino}"));
        var (status, output, error) = XfsProgs.RepairNoModify(image.Path);
        Assert.That(status, Is.Not.Zero, $"xfs_repair -n accepted a damaged attr fork ({what}):\n{output}\n{error}");
        image.Session(p =>
        {
            var e = Assert.Catch<ErrnoException>(() => p.ListXattr("/f", []));
            Assert.That(e!.Errno, Is.EqualTo(XfsCorruptionException.EFSCORRUPTED));
        });
    }

    [TestCase(58, "usedbytes")]
    [TestCase(80, "hashval")]
    [TestCase(48, "owner")]
    public void ADamagedLeafBlockIsReportedByOurCheckerAndByXfsRepair(int offset, string what)
    {
        using var image = new AttrImage();
        long ino = 0;
        image.Session(p =>
        {
            p.Close(p.Creat("/f", 0x1A4));
            p.SetXattr("/f", "user.first", V(300));
            p.SetXattr("/f", "user.second", V(8));
            ino = p.Stat("/f").Ino;
        });
        var inode = image.Inode(ino);
        Assert.That(inode.AFormat, Is.EqualTo(XfsDinodeFormat.Extents));
        var rec = XfsBmbtRecord.ReadFrom(inode.Literal.AsSpan(inode.ForkOff * 8, XfsBmbtRecord.Size));
        long blockOffset;
        using (var dev = FsTestDevice.Image(image.Path, readOnly: true))
            blockOffset = DaxStack.Fs.Xfs.XfsMetadataReader.Open(dev.Device).Geometry.FsbToOffset(rec.StartBlock);
        using (var f = new FileStream(image.Path, FileMode.Open, FileAccess.ReadWrite))
        {
            var block = new byte[4096];
            f.Position = blockOffset;
            f.ReadExactly(block);
            block[offset + 1] ^= 0x04;
            XfsCrc.Stamp(block, 12);
            f.Position = blockOffset;
            f.Write(block);
        }
        var report = image.Check();
        Assert.That(report.IsClean, Is.False, $"our checker missed a damaged attr leaf ({what})");
        Assert.That(string.Join("\n", report.Errors), Does.Contain($"inode {ino}"));
        var (status, output, error) = XfsProgs.RepairNoModify(image.Path);
        Assert.That(status, Is.Not.Zero, $"xfs_repair -n accepted a damaged attr leaf ({what}):\n{output}\n{error}");
        image.Session(p =>
        {
            var e = Assert.Catch<ErrnoException>(() => p.GetXattr("/f", "user.second", []));
            Assert.That(e!.Errno, Is.EqualTo(XfsCorruptionException.EFSCORRUPTED));
        });
    }

    [Test]
    public void UserAttributesAreForRegularFilesAndDirectoriesOnlyWhileTrustedOnesGoAnywhere()
    {
        using var image = new AttrImage(protoBody: "link l--777 0 0 /some/target/of/the/link\nfifo p--644 0 0\nfile ---644 0 0 /dev/null\nchr c--600 0 0 4 67\n");
        long chr = 0;
        image.Session(p =>
        {
            Assert.Multiple(() =>
            {
                Assert.That(Assert.Catch<ErrnoException>(() => p.SetXattr("/link", "user.a", V(1)))!.Errno, Is.EqualTo(Errno.EPERM));
                Assert.That(Assert.Catch<ErrnoException>(() => p.SetXattr("/fifo", "user.a", V(1)))!.Errno, Is.EqualTo(Errno.EPERM));
                Assert.That(Assert.Catch<ErrnoException>(() => p.GetXattr("/fifo", "user.a", []))!.Errno, Is.EqualTo(Errno.ENODATA));
                Assert.That(Assert.Catch<ErrnoException>(() => p.RemoveXattr("/link", "user.a"))!.Errno, Is.EqualTo(Errno.EPERM));
            });
            p.SetXattr("/link", "trusted.t", V(5));
            p.SetXattr("/fifo", "security.s", V(600));
            p.SetXattr("/file", "user.u", V(5));
            p.SetXattr("/chr", "trusted.c", V(5));
            chr = p.Stat("/chr").Ino;
            Assert.Multiple(() =>
            {
                Assert.That(p.GetXattrValue("/link", "trusted.t"), Is.EqualTo(V(5)));
                Assert.That(p.GetXattrValue("/fifo", "security.s"), Is.EqualTo(V(600)));
                Assert.That(p.ListXattrNames("/link"), Is.EqualTo(new[] { "trusted.t" }));
            });
        });
        AssertClean(image, "after attributes on a symlink, a fifo and a file of a real mkfs.xfs image");
        var fields = image.XfsDbInode(chr).ToDictionary(f => f.Key, f => f.Value);
        Assert.Multiple(() =>
        {
            Assert.That(fields["core.forkoff"], Is.EqualTo("1"), "a device inode's attr fork starts after the device number");
            Assert.That(fields["u3.dev"], Is.Not.EqualTo("0"), "the device number is kept");
        });
    }
}
