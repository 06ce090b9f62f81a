using DaxStack.Device.Errors;
using DaxStack.Fs.Ramfs;
using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Tests.Ramfs;

public class RamfsLimitTests : RamfsTestBase
{
    [Test]
    public void LinkBeyondTheLinkLimitIsEmlink()
    {
        var p = Mount(new RamfsOptions { MaxLinks = 3 });
        p.Close(p.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644));
        p.Link("/f", "/g");
        p.Link("/f", "/h");
        Assert.That(ErrnoOf(() => p.Link("/f", "/i")), Is.EqualTo(Errno.EMLINK));
    }

    [Test]
    public void MkdirOrMovingADirectoryIntoAParentAtTheLinkLimitIsEmlink()
    {
        var p = Mount(new RamfsOptions { MaxLinks = 4 });
        p.Mkdir("/p", Mode755);
        p.Mkdir("/p/a", Mode755);
        p.Mkdir("/p/b", Mode755);
        p.Mkdir("/c", Mode755);
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => p.Mkdir("/p/x", Mode755)), Is.EqualTo(Errno.EMLINK));
            Assert.That(ErrnoOf(() => p.Rename("/c", "/p/c")), Is.EqualTo(Errno.EMLINK));
        });
        p.Close(p.Open("/p/file", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644));
        Assert.That(p.Stat("/p").Nlink, Is.EqualTo(4u), "files do not count in a directory's links");
    }

    [Test]
    public void TheMaximumFileSizeBoundsWritesTruncateAndFallocate()
    {
        var p = Mount(new RamfsOptions { MaxFileSize = 1 << 20 });
        int fd = p.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => p.Pwrite(fd, new byte[1], 1 << 20)), Is.EqualTo(Errno.EFBIG));
            Assert.That(p.Pwrite(fd, new byte[100], (1 << 20) - 10), Is.EqualTo(10));
            Assert.That(ErrnoOf(() => p.Ftruncate(fd, (1 << 20) + 1)), Is.EqualTo(Errno.EFBIG));
            Assert.That(ErrnoOf(() => p.Fallocate(fd, FallocateFlags.FALLOC_FL_KEEP_SIZE, 0, (1 << 20) + 1)), Is.EqualTo(Errno.EFBIG));
            Assert.That(ErrnoOf(() => p.Lseek(fd, (1 << 20) + 1, SeekWhence.SEEK_SET)), Is.EqualTo(Errno.EINVAL));
        });
    }

    [Test]
    public void RenameWhiteoutIsEinvalOnRamfs()
    {
        var p = Mount(new RamfsOptions());
        p.Close(p.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644));
        Assert.That(ErrnoOf(() => p.Rename("/f", "/g", RenameFlags.RENAME_WHITEOUT)), Is.EqualTo(Errno.EINVAL));
    }

    [Test]
    public void ASetgidDirectoryPassesItsGroupOn()
    {
        var p = Mount(new RamfsOptions());
        p.Mkdir("/d", 0x1FF);
        p.Chown("/d", 0, 42);
        p.Chmod("/d", 0x1FF | InodeMode.S_ISGID);
        p.Close(p.Open("/d/f", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644));
        p.Mkdir("/d/sub", Mode755);
        Assert.Multiple(() =>
        {
            Assert.That(p.Stat("/d/f").Gid, Is.EqualTo(42u));
            Assert.That(p.Stat("/d/sub").Gid, Is.EqualTo(42u));
            Assert.That(p.Stat("/d/sub").Mode & InodeMode.S_ISGID, Is.EqualTo(InodeMode.S_ISGID));
        });
    }

    [Test]
    public void StatfsReportsRamfsMagicAndTheConfiguredCapacity()
    {
        var p = Mount(new RamfsOptions { CapacityBytes = 1 << 20, MaxInodes = 100 });
        var st = p.Statfs("/");
        Assert.Multiple(() =>
        {
            Assert.That(st.Type, Is.EqualTo(RamfsSuper.Magic));
            Assert.That(st.Blocks, Is.EqualTo(256));
            Assert.That(st.Files, Is.EqualTo(100));
            Assert.That(st.FilesFree, Is.EqualTo(99));
        });
    }
}
