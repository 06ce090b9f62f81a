using DaxStack.Device.Errors;
using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Tests.Vfs;

[TestFixtureSource(typeof(VfsFileSystems), nameof(VfsFileSystems.All))]
public class MkdirRmdirTests : VfsTestBase
{
    public MkdirRmdirTests(FileSystemUnderTest fs)
        : base(fs)
    {
    }

    [Test]
    public void MkdirMakesADirectoryWithTwoLinksAndCountsItInTheParent()
    {
        uint before = Root.Stat("/").Nlink;
        Root.Mkdir("/d", Mode777);
        var st = Root.Stat("/d");
        Assert.Multiple(() =>
        {
            Assert.That(st.IsDirectory, Is.True);
            Assert.That(st.Nlink, Is.EqualTo(2u));
            Assert.That(st.Mode & InodeMode.S_IALLUGO, Is.EqualTo(Mode755), "umask 022 applies");
            Assert.That(Root.Stat("/").Nlink, Is.EqualTo(before + 1));
        });
        Root.Rmdir("/d");
        Assert.That(Root.Stat("/").Nlink, Is.EqualTo(before));
    }

    [Test]
    public void MkdirOfAnExistingNameOrOfDotsOrRootIsEexist()
    {
        Root.Mkdir("/d", Mode755);
        WriteFile(Root, "/f", [1]);
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Mkdir("/d", Mode755)), Is.EqualTo(Errno.EEXIST));
            Assert.That(ErrnoOf(() => Root.Mkdir("/f", Mode755)), Is.EqualTo(Errno.EEXIST));
            Assert.That(ErrnoOf(() => Root.Mkdir("/d/.", Mode755)), Is.EqualTo(Errno.EEXIST));
            Assert.That(ErrnoOf(() => Root.Mkdir("/d/..", Mode755)), Is.EqualTo(Errno.EEXIST));
            Assert.That(ErrnoOf(() => Root.Mkdir("/", Mode755)), Is.EqualTo(Errno.EEXIST));
        });
    }

    [Test]
    public void MkdirWithATrailingSlashWorks()
    {
        Root.Mkdir("/d/", Mode755);
        Assert.That(Root.Stat("/d").IsDirectory, Is.True);
    }

    [Test]
    public void MkdirUnderAMissingOrNonDirectoryParentIsEnoentOrEnotdir()
    {
        WriteFile(Root, "/f", [1]);
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Mkdir("/missing/d", Mode755)), Is.EqualTo(Errno.ENOENT));
            Assert.That(ErrnoOf(() => Root.Mkdir("/f/d", Mode755)), Is.EqualTo(Errno.ENOTDIR));
        });
    }

    [Test]
    public void MkdirWithoutWritePermissionOnTheParentIsEacces() =>
        Assert.That(ErrnoOf(() => User().Mkdir("/d", Mode755)), Is.EqualTo(Errno.EACCES));

    [Test]
    public void RmdirOfANonEmptyDirectoryIsEnotempty()
    {
        Root.Mkdir("/d", Mode755);
        WriteFile(Root, "/d/f", [1]);
        Assert.That(ErrnoOf(() => Root.Rmdir("/d")), Is.EqualTo(Errno.ENOTEMPTY));
        Root.Unlink("/d/f");
        Root.Rmdir("/d");
        Assert.That(ErrnoOf(() => Root.Stat("/d")), Is.EqualTo(Errno.ENOENT));
    }

    [Test]
    public void RmdirOfDotIsEinvalOfDotDotEnotemptyOfRootEbusy()
    {
        Root.Mkdir("/d", Mode755);
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Rmdir("/d/.")), Is.EqualTo(Errno.EINVAL));
            Assert.That(ErrnoOf(() => Root.Rmdir("/d/..")), Is.EqualTo(Errno.ENOTEMPTY));
            Assert.That(ErrnoOf(() => Root.Rmdir("/")), Is.EqualTo(Errno.EBUSY));
        });
    }

    [Test]
    public void RmdirOfAFileIsEnotdirAndOfAMissingNameEnoent()
    {
        WriteFile(Root, "/f", [1]);
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Rmdir("/f")), Is.EqualTo(Errno.ENOTDIR));
            Assert.That(ErrnoOf(() => Root.Rmdir("/missing")), Is.EqualTo(Errno.ENOENT));
        });
    }

    [Test]
    public void NothingCanBeCreatedInARemovedWorkingDirectory()
    {
        Root.Mkdir("/d", Mode755);
        var p = Spawn(Credentials.Root);
        p.Chdir("/d");
        Root.Rmdir("/d");
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => p.Mkdir("x", Mode755)), Is.EqualTo(Errno.ENOENT));
            Assert.That(ErrnoOf(() => p.Open("y", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644)), Is.EqualTo(Errno.ENOENT));
            Assert.That(ErrnoOf(() => p.ReadDirectory(".")), Is.EqualTo(Errno.ENOENT));
            Assert.That(p.Stat(".").Nlink, Is.Zero);
            Assert.That(p.Stat("..").Ino, Is.EqualTo(Root.Stat("/").Ino), ".. of a removed directory leads where it was");
        });
    }

    [Test]
    public void RmdirInAStickyDirectoryNeedsOwnership()
    {
        Root.Mkdir("/tmp", Mode777);
        Root.Chmod("/tmp", Mode777 | InodeMode.S_ISVTX);
        var alice = User(1001, 1001);
        var bob = User(1002, 1002);
        alice.Mkdir("/tmp/a", Mode755);
        Assert.That(ErrnoOf(() => bob.Rmdir("/tmp/a")), Is.EqualTo(Errno.EPERM));
        alice.Rmdir("/tmp/a");
    }
}
