using DaxStack.Fs.Vfs;
using DaxStack.Fs.Xfs;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Repair;
using DaxStack.Fs.Xfs.Super;

namespace DaxStack.Fs.Tests.BadImage;

/// <summary>
/// The bad-image suite: a populated, cleanly unmounted image with one metadata structure damaged
/// (a flipped byte, or the image truncated where the structure starts). Mounting, or the first
/// VFS operation that reads the structure, fails with an <see cref="ErrnoException"/> naming it,
/// never another exception; the checker reports it.
/// </summary>
[NonParallelizable]
public class BadImageTests
{
    private const long ImageSize = 64L << 20;

    private string _dir = null!;
    private PopulatedImage _image = null!;

    private static IEnumerable<string> Targets() => BadImageTargets.All().Select(t => t.Name);

    [OneTimeSetUp]
    public void MakeImage()
    {
        _dir = Directory.CreateTempSubdirectory("daxstack-badimage-").FullName;
        _image = PopulatedImage.Create(Path.Combine(_dir, "populated.img"), ImageSize);
    }

    [OneTimeTearDown]
    public void RemoveImage() => Directory.Delete(_dir, recursive: true);

    private (IBadImageTarget Target, string Copy, long Offset, string Structure) Damageable(string name)
    {
        var target = BadImageTargets.All().Single(t => t.Name == name);
        (long offset, string structure) = Locate(target);
        string copy = Path.Combine(_dir, $"{name.Replace(' ', '-')}.img");
        File.Copy(_image.Path, copy, overwrite: true);
        return (target, copy, offset, structure);
    }

    private (long, string) Locate(IBadImageTarget target)
    {
        using var device = FsTestDevice.Image(_image.Path, readOnly: true);
        return target.Locate(XfsMetadataReader.Open(device.Device, trustPrimary: true), _image);
    }

    // Mounts the image and runs the sweep; returns the first failure (null when none).
    private static Exception? MountAndSweep(string image, out string stage)
    {
        using var device = FsTestDevice.Image(image);
        stage = "mount";
        DaxStack.Fs.Vfs.Vfs vfs;
        try
        {
            vfs = new DaxStack.Fs.Vfs.Vfs(new XfsFileSystemType(device.Device));
        }
        catch (Exception e)
        {
            return e;
        }
        var p = vfs.CreateProcess(Credentials.Root);
        foreach (var (name, op) in Sweep(p))
        {
            stage = name;
            try
            {
                op();
            }
            catch (Exception e)
            {
                return e;
            }
        }
        stage = "unmount";
        try
        {
            vfs.RootMount.Sb.Operations.PutSuper();
        }
        catch (Exception e)
        {
            return e;
        }
        return null;
    }

    // Operations that between them read every structure of the image: a walk that stats, lists
    // and reads everything, then changes that allocate and free blocks and inodes in AG 0.
    private static IEnumerable<(string, Action)> Sweep(Process p)
    {
        yield return ("walk", () => Walk(p, "/"));
        yield return ("write a new file", () =>
        {
            int fd = p.Open("/new", OpenFlags.O_CREAT | OpenFlags.O_RDWR, 0x1a4);
            p.Pwrite(fd, PopulatedImage.Pattern(64 * PopulatedImage.Block, 7), 0);
            p.Fallocate(fd, FallocateFlags.None, 64 * PopulatedImage.Block, 32 * PopulatedImage.Block);
            p.Fsync(fd);
            p.Close(fd);
        });
        yield return ("write into the B+tree file's holes", () =>
        {
            int fd = p.Open("/btree", OpenFlags.O_RDWR);
            for (int i = 0; i < PopulatedImage.BtreeExtents; i += 7)
                p.Pwrite(fd, PopulatedImage.Pattern(100, i), ((2L * i) + 1) * PopulatedImage.Block);
            p.Close(fd);
        });
        yield return ("write a shared block", () =>
        {
            int fd = p.Open("/clone", OpenFlags.O_RDWR);
            p.Pwrite(fd, PopulatedImage.Pattern(100, 8), PopulatedImage.Block);
            p.Close(fd);
        });
        yield return ("unlink the data file", () => p.Unlink("/data"));
        yield return ("fragment the free space", () =>
        {
            // More one-block free extents than a free-space B+tree leaf holds: the trees split
            // and take their new blocks from the AGFL.
            const int blocks = 1200;
            int fd = p.Open("/frag", OpenFlags.O_CREAT | OpenFlags.O_RDWR, 0x1a4);
            p.Fallocate(fd, FallocateFlags.None, 0, blocks * PopulatedImage.Block);
            for (int i = 0; i < blocks; i += 2)
                p.Fallocate(fd, FallocateFlags.FALLOC_FL_PUNCH_HOLE | FallocateFlags.FALLOC_FL_KEEP_SIZE, (long)i * PopulatedImage.Block, PopulatedImage.Block);
            p.Close(fd);
        });
        yield return ("create and remove files", () =>
        {
            for (int i = 0; i < 100; i++)
                p.Close(p.Open($"/many-{i}", OpenFlags.O_CREAT | OpenFlags.O_RDWR, 0x1a4));
            for (int i = 0; i < 100; i += 2)
                p.Unlink($"/many-{i}");
        });
        yield return ("change the directories", () =>
        {
            p.Unlink("/sf/s0");
            p.Unlink("/block/entry-000");
            p.Unlink("/leaf/a-long-directory-entry-name-0000");
            p.Close(p.Open("/leaf/another", OpenFlags.O_CREAT | OpenFlags.O_RDWR, 0x1a4));
        });
    }

    private static void Walk(Process p, string dir)
    {
        foreach (var entry in p.ReadDirectory(dir))
        {
            if (entry.Name is "." or "..")
                continue;
            string path = dir == "/" ? "/" + entry.Name : dir + "/" + entry.Name;
            var st = p.Stat(path);
            if (st.IsDirectory)
            {
                Walk(p, path);
            }
            else if (st.IsRegular)
            {
                int fd = p.Open(path, OpenFlags.O_RDONLY);
                var buffer = new byte[st.Size];
                long done = 0;
                while (done < st.Size)
                {
                    int n = p.Pread(fd, buffer.AsSpan((int)done), done);
                    if (n == 0)
                        break;
                    done += n;
                }
                p.Close(fd);
            }
        }
    }

    private static string Describe(XfsRepairReport report)
    {
        var w = new StringWriter();
        report.WriteTo(w);
        return w.ToString();
    }

    [Test]
    public void TheUndamagedImageMountsSweepsAndChecksClean()
    {
        string copy = Path.Combine(_dir, "pristine.img");
        File.Copy(_image.Path, copy, overwrite: true);
        using (var device = FsTestDevice.Image(copy, readOnly: true))
        {
            var report = XfsChecker.Check(device.Device);
            Assert.That(report.IsClean, Is.True, Describe(report));
        }
        var failure = MountAndSweep(copy, out string stage);
        Assert.That(failure, Is.Null, $"{stage}: {failure}");
    }

    [TestCaseSource(nameof(Targets))]
    public void AFlippedByteFailsTheFirstReadWithAnErrnoNamingTheStructure(string name)
    {
        var (target, copy, offset, structure) = Damageable(name);
        using (var f = new FileStream(copy, FileMode.Open, FileAccess.ReadWrite))
        {
            f.Position = offset;
            int b = f.ReadByte();
            f.Position = offset;
            f.WriteByte((byte)(b ^ 0x5A));
        }
        XfsRepairReport? report = null;
        Exception? checkFailure = null;
        using (var device = FsTestDevice.Image(copy, readOnly: true))
        {
            try
            {
                report = XfsChecker.Check(device.Device);
            }
            catch (XfsException e)
            {
                checkFailure = e;
            }
        }
        var failure = MountAndSweep(copy, out string stage);
        if (target.TornWrite)
        {
            // A damaged last log record is a torn write: mount moves the head back to the last
            // intact record, and the filesystem it leaves is whole.
            Assert.That(failure, Is.Null, $"{stage}: {failure}");
            using var device = FsTestDevice.Image(copy, readOnly: true);
            var after = XfsChecker.Check(device.Device);
            Assert.That(after.IsClean, Is.True, Describe(after));
            TestContext.Out.WriteLine($"{name}: mount treated the damaged {structure} record as a torn write; the filesystem checks clean");
            return;
        }
        Assert.Multiple(() =>
        {
            if (checkFailure != null)
                Assert.That(checkFailure.Message, Does.StartWith(structure), "the checker gave up without naming the structure");
            else if (target.CheckerVerifies)
                Assert.That(report!.Errors.Select(e => e.ToString()), Has.Some.Contains(target.CheckerStructure(_image) ?? structure), Describe(report));
            Assert.That(failure, Is.Not.Null, $"the sweep never noticed the damaged {structure}");
            Assert.That(failure, Is.InstanceOf<ErrnoException>(), $"{stage}: {failure}");
            Assert.That(failure?.Message, Does.Contain(structure), $"{stage}: {failure}");
        });
        TestContext.Out.WriteLine($"{name}: {stage} failed: {failure?.Message}");
    }

    [TestCaseSource(nameof(Targets))]
    public void AnImageTruncatedAtTheStructureFailsToMountNamingTheSuperblock(string name)
    {
        var (_, copy, offset, _) = Damageable(name);
        // Images are whole pages; the cut keeps the page before the structure's (at least one).
        long length = Math.Max(PopulatedImage.Block, offset / PopulatedImage.Block * PopulatedImage.Block);
        using (var f = new FileStream(copy, FileMode.Open, FileAccess.ReadWrite))
            f.SetLength(length);
        Exception? checkFailure = null;
        using (var device = FsTestDevice.Image(copy, readOnly: true))
        {
            try
            {
                XfsChecker.Check(device.Device);
            }
            catch (XfsException e)
            {
                checkFailure = e;
            }
        }
        var failure = MountAndSweep(copy, out string stage);
        Assert.Multiple(() =>
        {
            Assert.That(checkFailure?.Message, Does.StartWith("sb 0"), "the checker names the superblock whose geometry no longer fits");
            Assert.That(failure, Is.InstanceOf<ErrnoException>(), $"{stage}: {failure}");
            Assert.That(stage, Is.EqualTo("mount"));
            Assert.That(failure?.Message, Does.Contain("sb 0"), $"{stage}: {failure}");
        });
    }
}
