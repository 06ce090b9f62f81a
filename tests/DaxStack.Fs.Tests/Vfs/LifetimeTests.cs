using DaxStack.Device.Errors;
using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Tests.Vfs;

[TestFixtureSource(typeof(VfsFileSystems), nameof(VfsFileSystems.All))]
public class LifetimeTests : VfsTestBase
{
    public LifetimeTests(FileSystemUnderTest fs)
        : base(fs)
    {
    }

    [Test]
    public void AnUnlinkedOpenFileStaysReadableAndWritableThroughItsDescriptor()
    {
        int fd = Root.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
        Root.Write(fd, Pattern(20000, 1));
        Root.Unlink("/f");
        Assert.That(ErrnoOf(() => Root.Stat("/f")), Is.EqualTo(Errno.ENOENT));
        Root.Pwrite(fd, Pattern(5000, 2), 20000);
        var back = new byte[25000];
        Assert.Multiple(() =>
        {
            Assert.That(Root.Pread(fd, back, 0), Is.EqualTo(25000));
            Assert.That(back.AsSpan(0, 20000).SequenceEqual(Pattern(20000, 1)), Is.True);
            Assert.That(back.AsSpan(20000).SequenceEqual(Pattern(5000, 2)), Is.True);
            Assert.That(Root.Fstat(fd).Nlink, Is.Zero);
        });
    }

    [Test]
    public void TheSpaceOfAnUnlinkedFileIsFreedOnlyAtTheLastClose()
    {
        long free0 = Root.Statfs("/").BlocksFree;
        int a = Root.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
        Root.Write(a, new byte[1 << 20]);
        int b = Root.Open("/f", OpenFlags.O_RDONLY);
        long used = Root.Statfs("/").BlocksFree;
        Root.Unlink("/f");
        Root.Close(a);
        Assert.That(Root.Statfs("/").BlocksFree, Is.EqualTo(used), "still open through b");
        Root.Close(b);
        Assert.That(Root.Statfs("/").BlocksFree, Is.EqualTo(free0));
    }

    [Test]
    public void ReplacingAnOpenFileByRenameKeepsTheOldContentsReadable()
    {
        WriteFile(Root, "/old", [1, 1]);
        WriteFile(Root, "/new", [2, 2]);
        int fd = Root.Open("/old", OpenFlags.O_RDONLY);
        Root.Rename("/new", "/old");
        var buf = new byte[2];
        Root.Pread(fd, buf, 0);
        Assert.Multiple(() =>
        {
            Assert.That(buf, Is.EqualTo(new byte[] { 1, 1 }));
            Assert.That(ReadFile(Root, "/old"), Is.EqualTo(new byte[] { 2, 2 }));
        });
    }

    [Test]
    public void AnUnlinkedFileCannotBeLinkedBackThroughAnotherName()
    {
        WriteFile(Root, "/f", [1]);
        int fd = Root.Open("/f", OpenFlags.O_RDONLY);
        Root.Unlink("/f");
        Assert.Multiple(() =>
        {
            Assert.That(Root.Fstat(fd).Nlink, Is.Zero);
            Assert.That(ErrnoOf(() => Root.Link("/f", "/g")), Is.EqualTo(Errno.ENOENT));
        });
    }

    [Test]
    public void ProcessExitClosesItsDescriptors()
    {
        var p = Spawn(Credentials.Root);
        Root.Mkdir("/mnt", Mode755);
        Root.Mount(NewFileSystem(), "/mnt");
        p.Open("/mnt/f", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
        Assert.That(ErrnoOf(() => Root.Umount("/mnt")), Is.EqualTo(Errno.EBUSY));
        p.Dispose();
        Root.Umount("/mnt");
        Assert.That(Tree.Mounts, Has.Count.EqualTo(1));
    }
}
