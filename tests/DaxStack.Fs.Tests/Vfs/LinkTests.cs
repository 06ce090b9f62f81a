using DaxStack.Device.Errors;
using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Tests.Vfs;

[TestFixtureSource(typeof(VfsFileSystems), nameof(VfsFileSystems.All))]
public class LinkTests : VfsTestBase
{
    public LinkTests(FileSystemUnderTest fs)
        : base(fs)
    {
    }

    [Test]
    public void LinkAddsANameForTheSameInode()
    {
        WriteFile(Root, "/a", [1, 2, 3]);
        Root.Mkdir("/d", Mode755);
        Root.Link("/a", "/d/b");
        Assert.Multiple(() =>
        {
            Assert.That(Root.Stat("/d/b").Ino, Is.EqualTo(Root.Stat("/a").Ino));
            Assert.That(Root.Stat("/a").Nlink, Is.EqualTo(2u));
        });
    }

    [Test]
    public void LinkToADirectoryIsEperm()
    {
        Root.Mkdir("/d", Mode755);
        Assert.That(ErrnoOf(() => Root.Link("/d", "/e")), Is.EqualTo(Errno.EPERM));
    }

    [Test]
    public void LinkOverAnExistingNameIsEexistAndFromAMissingOneEnoent()
    {
        WriteFile(Root, "/a", [1]);
        WriteFile(Root, "/b", [2]);
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Link("/a", "/b")), Is.EqualTo(Errno.EEXIST));
            Assert.That(ErrnoOf(() => Root.Link("/a", "/")), Is.EqualTo(Errno.EEXIST));
            Assert.That(ErrnoOf(() => Root.Link("/missing", "/c")), Is.EqualTo(Errno.ENOENT));
            Assert.That(ErrnoOf(() => Root.Link("/a", "/c/")), Is.EqualTo(Errno.ENOENT));
            Assert.That(ErrnoOf(() => Root.Link("/a/", "/c")), Is.EqualTo(Errno.ENOTDIR));
        });
    }

    [Test]
    public void LinkAcrossMountsIsExdev()
    {
        WriteFile(Root, "/a", [1]);
        Root.Mkdir("/mnt", Mode755);
        Root.Mount(NewFileSystem(), "/mnt");
        Assert.That(ErrnoOf(() => Root.Link("/a", "/mnt/a")), Is.EqualTo(Errno.EXDEV));
    }

    [Test]
    public void LinkNeedsWritePermissionOnTheTargetDirectory()
    {
        WriteFile(Root, "/a", [1]);
        Assert.That(ErrnoOf(() => User().Link("/a", "/b")), Is.EqualTo(Errno.EACCES));
    }

    [Test]
    public void LinkToAnAppendOnlyFileIsEperm()
    {
        WriteFile(Root, "/a", [1]);
        int fd = Root.Open("/a", OpenFlags.O_RDONLY);
        Root.FsSetXattr(fd, Root.FsGetXattr(fd) with { XFlags = FsXflags.FS_XFLAG_APPEND });
        Assert.That(ErrnoOf(() => Root.Link("/a", "/b")), Is.EqualTo(Errno.EPERM));
    }
}
