using DaxStack.Device.Errors;
using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Tests.Vfs;

[TestFixtureSource(typeof(VfsFileSystems), nameof(VfsFileSystems.All))]
public class FsyncFcntlTests : VfsTestBase
{
    public FsyncFcntlTests(FileSystemUnderTest fs)
        : base(fs)
    {
    }

    [Test]
    public void FsyncAndFdatasyncSucceedOnFilesAndDirectoriesAndFailOnBadDescriptors()
    {
        Root.Mkdir("/d", Mode755);
        int f = Root.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_RDONLY, Mode644);
        int d = Root.Open("/d", OpenFlags.O_RDONLY);
        Root.Fsync(f);
        Root.Fdatasync(f);
        Root.Fsync(d);
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Fsync(42)), Is.EqualTo(Errno.EBADF));
            Assert.That(ErrnoOf(() => Root.Fdatasync(-3)), Is.EqualTo(Errno.EBADF));
        });
    }

    [Test]
    public void GetflReportsTheAccessModeAndStatusFlagsButNotTheOpenTimeFlags()
    {
        int fd = Root.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_EXCL | OpenFlags.O_RDWR | OpenFlags.O_APPEND | OpenFlags.O_TRUNC, Mode644);
        var fl = (OpenFlags)Root.Fcntl(fd, FcntlCommand.F_GETFL);
        Assert.Multiple(() =>
        {
            Assert.That(fl & OpenFlags.O_ACCMODE, Is.EqualTo(OpenFlags.O_RDWR));
            Assert.That(fl & OpenFlags.O_APPEND, Is.EqualTo(OpenFlags.O_APPEND));
            Assert.That(fl & OpenFlags.O_LARGEFILE, Is.EqualTo(OpenFlags.O_LARGEFILE));
            Assert.That(fl & (OpenFlags.O_CREAT | OpenFlags.O_EXCL | OpenFlags.O_TRUNC), Is.EqualTo(OpenFlags.O_RDONLY));
        });
    }

    [Test]
    public void SetflChangesOnlyTheSettableFlags()
    {
        int fd = Root.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_WRONLY, Mode644);
        Root.Fcntl(fd, FcntlCommand.F_SETFL, (int)(OpenFlags.O_APPEND | OpenFlags.O_RDWR | OpenFlags.O_DIRECT | OpenFlags.O_SYNC));
        var fl = (OpenFlags)Root.Fcntl(fd, FcntlCommand.F_GETFL);
        Assert.Multiple(() =>
        {
            Assert.That(fl & OpenFlags.O_ACCMODE, Is.EqualTo(OpenFlags.O_WRONLY));
            Assert.That(fl & (OpenFlags.O_APPEND | OpenFlags.O_DIRECT), Is.EqualTo(OpenFlags.O_APPEND | OpenFlags.O_DIRECT));
            Assert.That(fl & OpenFlags.O_DSYNC, Is.EqualTo(OpenFlags.O_RDONLY), "O_SYNC cannot be set by F_SETFL");
        });
        Root.Write(fd, new byte[] { 1 });
        Root.Fcntl(fd, FcntlCommand.F_SETFL, 0);
        Root.Pwrite(fd, new byte[] { 2 }, 0);
        Assert.That(ReadFile(Root, "/f"), Is.EqualTo(new byte[] { 2 }));
    }

    [Test]
    public void ClearingOAppendOnAnAppendOnlyFileIsEperm()
    {
        int fd = Root.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_WRONLY | OpenFlags.O_APPEND, Mode644);
        Root.FsSetXattr(fd, Root.FsGetXattr(fd) with { XFlags = FsXflags.FS_XFLAG_APPEND });
        Assert.That(ErrnoOf(() => Root.Fcntl(fd, FcntlCommand.F_SETFL, 0)), Is.EqualTo(Errno.EPERM));
    }

    [Test]
    public void SettingONoatimeOnSomeoneElsesFileIsEperm()
    {
        WriteFile(Root, "/f", [1]);
        var user = User();
        int fd = user.Open("/f", OpenFlags.O_RDONLY);
        Assert.That(ErrnoOf(() => user.Fcntl(fd, FcntlCommand.F_SETFL, (int)OpenFlags.O_NOATIME)), Is.EqualTo(Errno.EPERM));
    }

    [Test]
    public void CloexecIsKeptPerDescriptor()
    {
        int a = Root.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_RDWR | OpenFlags.O_CLOEXEC, Mode644);
        int b = Root.Open("/f", OpenFlags.O_RDWR);
        Root.Fcntl(b, FcntlCommand.F_SETFD, 1);
        Root.Fcntl(a, FcntlCommand.F_SETFD, 0);
        Assert.Multiple(() =>
        {
            Assert.That(Root.Fcntl(a, FcntlCommand.F_GETFD), Is.Zero);
            Assert.That(Root.Fcntl(b, FcntlCommand.F_GETFD), Is.EqualTo(1));
        });
    }

    [Test]
    public void AnUnknownCommandIsEinvalAndABadDescriptorEbadf()
    {
        int fd = Root.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Fcntl(fd, (FcntlCommand)999)), Is.EqualTo(Errno.EINVAL));
            Assert.That(ErrnoOf(() => Root.Fcntl(fd + 10, FcntlCommand.F_GETFL)), Is.EqualTo(Errno.EBADF));
        });
    }
}
