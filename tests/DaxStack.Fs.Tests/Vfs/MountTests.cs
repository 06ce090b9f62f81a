using DaxStack.Device.Errors;
using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Tests.Vfs;

[TestFixtureSource(typeof(VfsFileSystems), nameof(VfsFileSystems.All))]
public class MountTests : VfsTestBase
{
    public MountTests(FileSystemUnderTest fs)
        : base(fs)
    {
    }

    private void MountAtMnt(bool readOnly = false)
    {
        Root.Mkdir("/mnt", Mode755);
        Root.Mount(NewFileSystem(), "/mnt", readOnly);
    }

    [Test]
    public void AMountedFilesystemHidesTheDirectoryAndDotDotLeavesIt()
    {
        Root.Mkdir("/mnt", Mode755);
        WriteFile(Root, "/mnt/hidden", [1]);
        Root.Mount(NewFileSystem(), "/mnt");
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Stat("/mnt/hidden")), Is.EqualTo(Errno.ENOENT));
            Assert.That(Root.Stat("/mnt").Dev, Is.Not.EqualTo(Root.Stat("/").Dev));
            Assert.That(Root.Stat("/mnt/..").Ino, Is.EqualTo(Root.Stat("/").Ino));
            Assert.That(Root.Stat("/mnt/..").Dev, Is.EqualTo(Root.Stat("/").Dev));
        });
        Root.Umount("/mnt");
        Assert.That(Root.Stat("/mnt/hidden").Size, Is.EqualTo(1));
    }

    [Test]
    public void UmountIsEbusyWhileAFileIsOpenOrAProcessWorksInside()
    {
        MountAtMnt();
        int fd = Root.Open("/mnt/f", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
        Assert.That(ErrnoOf(() => Root.Umount("/mnt")), Is.EqualTo(Errno.EBUSY));
        Root.Close(fd);
        var p = Spawn(Credentials.Root);
        p.Chdir("/mnt");
        Assert.That(ErrnoOf(() => Root.Umount("/mnt")), Is.EqualTo(Errno.EBUSY));
        p.Chdir("/");
        Root.Umount("/mnt");
    }

    [Test]
    public void UmountIsEbusyWhileSomethingIsMountedBelow()
    {
        MountAtMnt();
        Root.Mkdir("/mnt/inner", Mode755);
        Root.Mount(NewFileSystem(), "/mnt/inner");
        Assert.That(ErrnoOf(() => Root.Umount("/mnt")), Is.EqualTo(Errno.EBUSY));
        Root.Umount("/mnt/inner");
        Root.Umount("/mnt");
    }

    [Test]
    public void UmountOfANonMountPointIsEinvalAndWithoutCapSysAdminEperm()
    {
        MountAtMnt();
        Root.Mkdir("/d", Mode755);
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Umount("/d")), Is.EqualTo(Errno.EINVAL));
            Assert.That(ErrnoOf(() => User().Umount("/mnt")), Is.EqualTo(Errno.EPERM));
            Assert.That(ErrnoOf(() => User().Mount(NewFileSystem(), "/d")), Is.EqualTo(Errno.EPERM));
            Assert.That(ErrnoOf(() => Root.Umount("/")), Is.EqualTo(Errno.EBUSY));
            Assert.That(ErrnoOf(() => Root.Umount("/missing")), Is.EqualTo(Errno.ENOENT));
        });
    }

    [Test]
    public void MountingOnAFileIsEnotdir()
    {
        WriteFile(Root, "/f", [1]);
        Assert.That(ErrnoOf(() => Root.Mount(NewFileSystem(), "/f")), Is.EqualTo(Errno.ENOTDIR));
    }

    [Test]
    public void AMountPointCannotBeRemovedOrRenamed()
    {
        MountAtMnt();
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Rmdir("/mnt")), Is.EqualTo(Errno.EBUSY));
            Assert.That(ErrnoOf(() => Root.Rename("/mnt", "/other")), Is.EqualTo(Errno.EBUSY));
        });
    }

    [Test]
    public void RenameAcrossMountsIsExdev()
    {
        MountAtMnt();
        WriteFile(Root, "/f", [1]);
        Assert.That(ErrnoOf(() => Root.Rename("/f", "/mnt/f")), Is.EqualTo(Errno.EXDEV));
    }

    [Test]
    public void AReadOnlyMountRefusesEveryChangeWithErofsAfterTheChecksThatComeFirst()
    {
        MountAtMnt(readOnly: true);
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Open("/mnt/f", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644)), Is.EqualTo(Errno.EROFS));
            Assert.That(ErrnoOf(() => Root.Open("/mnt/f", OpenFlags.O_RDONLY)), Is.EqualTo(Errno.ENOENT));
            Assert.That(ErrnoOf(() => Root.Mkdir("/mnt/d", Mode755)), Is.EqualTo(Errno.EROFS));
            Assert.That(ErrnoOf(() => Root.Mkdir("/mnt/.", Mode755)), Is.EqualTo(Errno.EEXIST));
            Assert.That(ErrnoOf(() => Root.Unlink("/mnt/x")), Is.EqualTo(Errno.EROFS));
            Assert.That(ErrnoOf(() => Root.Rmdir("/mnt/x")), Is.EqualTo(Errno.EROFS));
            Assert.That(ErrnoOf(() => Root.Rename("/mnt/x", "/mnt/y")), Is.EqualTo(Errno.EROFS));
            Assert.That(ErrnoOf(() => Root.Chmod("/mnt", Mode777)), Is.EqualTo(Errno.EROFS));
            Assert.That(ErrnoOf(() => Root.Open("/mnt", OpenFlags.O_RDONLY | OpenFlags.O_TRUNC)), Is.EqualTo(Errno.EISDIR));
            Assert.That(Root.Statfs("/mnt").Flags & StatFs.ST_RDONLY, Is.EqualTo(StatFs.ST_RDONLY));
            Assert.That(Root.ReadDirectory("/mnt").Select(e => e.Name), Is.EqualTo(new[] { ".", ".." }));
        });
    }
}
