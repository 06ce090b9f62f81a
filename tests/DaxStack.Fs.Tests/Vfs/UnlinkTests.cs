using DaxStack.Device.Errors;
using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Tests.Vfs;

[TestFixtureSource(typeof(VfsFileSystems), nameof(VfsFileSystems.All))]
public class UnlinkTests : VfsTestBase
{
    public UnlinkTests(FileSystemUnderTest fs)
        : base(fs)
    {
    }

    [Test]
    public void UnlinkRemovesTheName()
    {
        WriteFile(Root, "/f", [1]);
        Root.Unlink("/f");
        Assert.That(ErrnoOf(() => Root.Stat("/f")), Is.EqualTo(Errno.ENOENT));
    }

    [Test]
    public void UnlinkOfADirectoryOrDotsIsEisdir()
    {
        Root.Mkdir("/d", Mode755);
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Unlink("/d")), Is.EqualTo(Errno.EISDIR));
            Assert.That(ErrnoOf(() => Root.Unlink("/d/.")), Is.EqualTo(Errno.EISDIR));
            Assert.That(ErrnoOf(() => Root.Unlink("/d/..")), Is.EqualTo(Errno.EISDIR));
            Assert.That(ErrnoOf(() => Root.Unlink("/d/")), Is.EqualTo(Errno.EISDIR));
        });
    }

    [Test]
    public void UnlinkOfAFileWithATrailingSlashIsEnotdirAndOfAMissingOneEnoent()
    {
        WriteFile(Root, "/f", [1]);
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Unlink("/f/")), Is.EqualTo(Errno.ENOTDIR));
            Assert.That(ErrnoOf(() => Root.Unlink("/missing")), Is.EqualTo(Errno.ENOENT));
            Assert.That(ErrnoOf(() => Root.Unlink("/f/x")), Is.EqualTo(Errno.ENOTDIR));
        });
    }

    [Test]
    public void UnlinkNeedsWriteAndSearchPermissionOnTheDirectory()
    {
        Root.Mkdir("/d", Mode755);
        WriteFile(Root, "/d/f", [1]);
        var user = User();
        Assert.That(ErrnoOf(() => user.Unlink("/d/f")), Is.EqualTo(Errno.EACCES));
        Root.Chmod("/d", 0x1FE);
        Assert.That(ErrnoOf(() => user.Unlink("/d/f")), Is.EqualTo(Errno.EACCES), "write without search");
    }

    [Test]
    public void UnlinkInAnAppendOnlyDirectoryIsEperm()
    {
        Root.Mkdir("/d", Mode755);
        WriteFile(Root, "/d/f", [1]);
        int fd = Root.Open("/d", OpenFlags.O_RDONLY);
        Root.FsSetXattr(fd, Root.FsGetXattr(fd) with { XFlags = FsXflags.FS_XFLAG_APPEND });
        Assert.That(ErrnoOf(() => Root.Unlink("/d/f")), Is.EqualTo(Errno.EPERM));
        WriteFile(Root, "/d/g", [2]);
        Assert.That(Names(Root, "/d"), Is.EqualTo(new[] { ".", "..", "f", "g" }), "append-only directories still accept new names");
    }

    [Test]
    public void UnlinkDropsOneLinkOfAHardLinkedFile()
    {
        WriteFile(Root, "/f", [1, 2]);
        Root.Link("/f", "/g");
        Root.Unlink("/f");
        Assert.Multiple(() =>
        {
            Assert.That(Root.Stat("/g").Nlink, Is.EqualTo(1u));
            Assert.That(ReadFile(Root, "/g"), Is.EqualTo(new byte[] { 1, 2 }));
        });
    }
}
