using DaxStack.Device.Errors;
using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Tests.Vfs;

[TestFixtureSource(typeof(VfsFileSystems), nameof(VfsFileSystems.All))]
public class PathWalkTests : VfsTestBase
{
    public PathWalkTests(FileSystemUnderTest fs)
        : base(fs)
    {
    }

    [Test]
    public void DotDotDotAndRepeatedSlashesResolve()
    {
        Root.Mkdir("/a", Mode755);
        Root.Mkdir("/a/b", Mode755);
        WriteFile(Root, "/a/b/f", [1]);
        long ino = Root.Stat("/a/b/f").Ino;
        Assert.Multiple(() =>
        {
            Assert.That(Root.Stat("//a/./b//f").Ino, Is.EqualTo(ino));
            Assert.That(Root.Stat("/a/b/../b/f").Ino, Is.EqualTo(ino));
            Assert.That(Root.Stat("/../../a/b/f").Ino, Is.EqualTo(ino), ".. at the root stays at the root");
            Assert.That(Root.Stat("/a/b/").Ino, Is.EqualTo(Root.Stat("/a/b").Ino));
        });
    }

    [Test]
    public void RelativePathsStartAtTheWorkingDirectory()
    {
        Root.Mkdir("/a", Mode755);
        WriteFile(Root, "/a/f", [1]);
        Root.Chdir("/a");
        Assert.Multiple(() =>
        {
            Assert.That(Root.Stat("f").Ino, Is.EqualTo(Root.Stat("/a/f").Ino));
            Assert.That(Root.Stat("..").Ino, Is.EqualTo(Root.Stat("/").Ino));
            Assert.That(Root.Stat(".").Ino, Is.EqualTo(Root.Stat("/a").Ino));
        });
    }

    [Test]
    public void AnEmptyPathOrAMissingComponentIsEnoent()
    {
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Stat("")), Is.EqualTo(Errno.ENOENT));
            Assert.That(ErrnoOf(() => Root.Stat("/no/such")), Is.EqualTo(Errno.ENOENT));
        });
    }

    [Test]
    public void AFileUsedAsADirectoryIsEnotdir()
    {
        WriteFile(Root, "/f", [1]);
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Stat("/f/x")), Is.EqualTo(Errno.ENOTDIR));
            Assert.That(ErrnoOf(() => Root.Stat("/f/")), Is.EqualTo(Errno.ENOTDIR));
            Assert.That(ErrnoOf(() => Root.Stat("/f/.")), Is.EqualTo(Errno.ENOTDIR));
            Assert.That(ErrnoOf(() => Root.Chdir("/f")), Is.EqualTo(Errno.ENOTDIR));
        });
    }

    [Test]
    public void AComponentLongerThan255BytesIsEnametoolong()
    {
        string name255 = new('n', 255);
        WriteFile(Root, "/" + name255, [1]);
        Assert.Multiple(() =>
        {
            Assert.That(Root.Stat("/" + name255).Size, Is.EqualTo(1));
            Assert.That(ErrnoOf(() => Root.Stat("/" + new string('n', 256))), Is.EqualTo(Errno.ENAMETOOLONG));
            Assert.That(ErrnoOf(() => Root.Mkdir("/" + new string('n', 256), Mode755)), Is.EqualTo(Errno.ENAMETOOLONG));
            Assert.That(ErrnoOf(() => Root.Open("/" + new string('é', 128), OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644)), Is.EqualTo(Errno.ENAMETOOLONG), "256 bytes of UTF-8");
        });
    }

    [Test]
    public void APathOf4096BytesOrMoreIsEnametoolong()
    {
        string path = string.Concat(Enumerable.Repeat("/.", 2048));
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Stat(path)), Is.EqualTo(Errno.ENAMETOOLONG));
            Assert.That(Root.Stat(path[..4095]).IsDirectory, Is.True);
        });
    }

    [Test]
    public void WalkingThroughADirectoryNeedsSearchPermission()
    {
        Root.Mkdir("/d", 0x1E4);
        WriteFile(Root, "/d/f", [1]);
        var user = User();
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => user.Stat("/d/f")), Is.EqualTo(Errno.EACCES));
            Assert.That(ErrnoOf(() => user.Stat("/d/missing")), Is.EqualTo(Errno.EACCES));
            Assert.That(ErrnoOf(() => user.Chdir("/d")), Is.EqualTo(Errno.EACCES));
            Assert.That(user.Stat("/d").IsDirectory, Is.True);
            Assert.That(Spawn(new Credentials(1000, 1000, Capabilities.CAP_DAC_READ_SEARCH)).Stat("/d/f").Size, Is.EqualTo(1));
        });
    }

    [Test]
    public void GroupPermissionsApplyToGroupMembers()
    {
        Root.Mkdir("/d", 0x1C8);
        Root.Chown("/d", 0, 50);
        WriteFile(Root, "/d/f", [1]);
        Assert.Multiple(() =>
        {
            Assert.That(User(1000, 50).Stat("/d/f").Size, Is.EqualTo(1));
            Assert.That(ErrnoOf(() => User(1000, 51).Stat("/d/f")), Is.EqualTo(Errno.EACCES));
        });
    }
}
