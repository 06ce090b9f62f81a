using DaxStack.Device.Errors;
using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Tests.Vfs;

[TestFixtureSource(typeof(VfsFileSystems), nameof(VfsFileSystems.All))]
public class FsXattrTests : VfsTestBase
{
    public FsXattrTests(FileSystemUnderTest fs)
        : base(fs)
    {
    }

    [TestCase(FsXflags.FS_XFLAG_NODUMP)]
    [TestCase(FsXflags.FS_XFLAG_NOATIME)]
    [TestCase(FsXflags.FS_XFLAG_SYNC)]
    [TestCase(FsXflags.FS_XFLAG_DAX)]
    [TestCase(FsXflags.FS_XFLAG_IMMUTABLE | FsXflags.FS_XFLAG_APPEND)]
    public void FlagsSetAreReadBack(FsXflags flags)
    {
        int fd = Root.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
        Root.FsSetXattr(fd, Root.FsGetXattr(fd) with { XFlags = flags });
        Assert.That(Root.FsGetXattr(fd).XFlags & ~FsXflags.FS_XFLAG_HASATTR, Is.EqualTo(flags));
        Root.FsSetXattr(fd, Root.FsGetXattr(fd) with { XFlags = FsXflags.None });
        Assert.That(Root.FsGetXattr(fd).XFlags & ~FsXflags.FS_XFLAG_HASATTR, Is.EqualTo(FsXflags.None));
    }

    [Test]
    public void TheExtentCountFollowsTheData()
    {
        int fd = Root.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
        Assert.That(Root.FsGetXattr(fd).NExtents, Is.Zero);
        Root.Pwrite(fd, new byte[4096], 0);
        Root.Pwrite(fd, new byte[4096], 1 << 20);
        Assert.That(Root.FsGetXattr(fd).NExtents, Is.EqualTo(2u));
    }

    [TestCase(FsXflags.FS_XFLAG_IMMUTABLE)]
    [TestCase(FsXflags.FS_XFLAG_APPEND)]
    public void ChangingImmutableOrAppendWithoutCapLinuxImmutableIsEperm(FsXflags flag)
    {
        var owner = Spawn(Credentials.Root.Drop(Capabilities.CAP_LINUX_IMMUTABLE));
        int fd = owner.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
        Assert.That(ErrnoOf(() => owner.FsSetXattr(fd, owner.FsGetXattr(fd) with { XFlags = flag })), Is.EqualTo(Errno.EPERM));
        int rootFd = Root.Open("/f", OpenFlags.O_RDONLY);
        Root.FsSetXattr(rootFd, Root.FsGetXattr(rootFd) with { XFlags = flag });
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => owner.FsSetXattr(fd, owner.FsGetXattr(fd) with { XFlags = FsXflags.None })), Is.EqualTo(Errno.EPERM));
            Assert.That(() => owner.FsSetXattr(fd, owner.FsGetXattr(fd) with { XFlags = flag | FsXflags.FS_XFLAG_NODUMP }), Throws.Nothing, "other flags may change");
        });
    }

    [Test]
    public void OnlyTheOwnerMaySetAttributes()
    {
        WriteFile(Root, "/f", [1]);
        var user = User();
        int fd = user.Open("/f", OpenFlags.O_RDONLY);
        Assert.Multiple(() =>
        {
            Assert.That(user.FsGetXattr(fd).XFlags & FsXflags.FS_XFLAG_NODUMP, Is.EqualTo(FsXflags.None));
            Assert.That(ErrnoOf(() => user.FsSetXattr(fd, new FsXattr(FsXflags.FS_XFLAG_NODUMP, 0, 0, 0, 0))), Is.EqualTo(Errno.EPERM));
            Assert.That(ErrnoOf(() => user.FsGetXattr(fd + 1)), Is.EqualTo(Errno.EBADF));
        });
    }

    [Test]
    public void TheExtentSizeHintIsKeptWithItsFlag()
    {
        int fd = Root.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
        Root.FsSetXattr(fd, new FsXattr(FsXflags.FS_XFLAG_EXTSIZE, 1 << 20, 0, 0, 0));
        var fa = Root.FsGetXattr(fd);
        Assert.Multiple(() =>
        {
            Assert.That(fa.ExtSize, Is.EqualTo(1u << 20));
            Assert.That(fa.XFlags & FsXflags.FS_XFLAG_EXTSIZE, Is.EqualTo(FsXflags.FS_XFLAG_EXTSIZE));
        });
    }

    [Test]
    public void AnImmutableFileCannotBeRemovedRenamedOrLinked()
    {
        Root.Mkdir("/d", Mode755);
        WriteFile(Root, "/d/f", [1]);
        int fd = Root.Open("/d/f", OpenFlags.O_RDONLY);
        Root.FsSetXattr(fd, Root.FsGetXattr(fd) with { XFlags = FsXflags.FS_XFLAG_IMMUTABLE });
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Unlink("/d/f")), Is.EqualTo(Errno.EPERM));
            Assert.That(ErrnoOf(() => Root.Rename("/d/f", "/d/g")), Is.EqualTo(Errno.EPERM));
            Assert.That(ErrnoOf(() => Root.Link("/d/f", "/d/g")), Is.EqualTo(Errno.EPERM));
            Assert.That(ErrnoOf(() => Root.Chmod("/d/f", Mode777)), Is.EqualTo(Errno.EPERM));
        });
    }
}
