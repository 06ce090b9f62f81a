using DaxStack.Device.Errors;
using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Tests.Vfs;

[TestFixtureSource(typeof(VfsFileSystems), nameof(VfsFileSystems.All))]
public class LseekTests : VfsTestBase
{
    public LseekTests(FileSystemUnderTest fs)
        : base(fs)
    {
    }

    [Test]
    public void SeekSetCurAndEndMoveThePosition()
    {
        int fd = Root.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
        Root.Write(fd, new byte[1000]);
        Assert.Multiple(() =>
        {
            Assert.That(Root.Lseek(fd, 10, SeekWhence.SEEK_SET), Is.EqualTo(10));
            Assert.That(Root.Lseek(fd, 5, SeekWhence.SEEK_CUR), Is.EqualTo(15));
            Assert.That(Root.Lseek(fd, -100, SeekWhence.SEEK_END), Is.EqualTo(900));
            Assert.That(Root.Lseek(fd, 5000, SeekWhence.SEEK_SET), Is.EqualTo(5000), "seeking beyond the end is allowed");
        });
    }

    [Test]
    public void ANegativeResultOrAnUnknownWhenceIsEinval()
    {
        int fd = Root.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Lseek(fd, -1, SeekWhence.SEEK_SET)), Is.EqualTo(Errno.EINVAL));
            Assert.That(ErrnoOf(() => Root.Lseek(fd, -1, SeekWhence.SEEK_END)), Is.EqualTo(Errno.EINVAL));
            Assert.That(ErrnoOf(() => Root.Lseek(fd, 0, (SeekWhence)5)), Is.EqualTo(Errno.EINVAL));
            Assert.That(ErrnoOf(() => Root.Lseek(77, 0, SeekWhence.SEEK_SET)), Is.EqualTo(Errno.EBADF));
        });
    }

    [Test]
    public void SeekDataAndHoleFindDataAndTheEndOfFileHole()
    {
        int fd = Root.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
        Root.Pwrite(fd, new byte[4096], 1 << 20);
        long size = (1 << 20) + 4096;
        Assert.Multiple(() =>
        {
            Assert.That(Root.Lseek(fd, 0, SeekWhence.SEEK_DATA), Is.EqualTo(1 << 20));
            Assert.That(Root.Lseek(fd, 1 << 20, SeekWhence.SEEK_HOLE), Is.EqualTo(size));
            Assert.That(Root.Lseek(fd, 0, SeekWhence.SEEK_HOLE), Is.Zero);
            Assert.That(ErrnoOf(() => Root.Lseek(fd, size, SeekWhence.SEEK_DATA)), Is.EqualTo(Errno.ENXIO));
            Assert.That(ErrnoOf(() => Root.Lseek(fd, size, SeekWhence.SEEK_HOLE)), Is.EqualTo(Errno.ENXIO));
            Assert.That(ErrnoOf(() => Root.Lseek(fd, -1, SeekWhence.SEEK_DATA)), Is.EqualTo(Errno.ENXIO));
        });
    }

    [Test]
    public void SeekDataBeyondTheLastDataIsEnxio()
    {
        int fd = Root.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
        Root.Pwrite(fd, new byte[10], 0);
        Root.Ftruncate(fd, 1 << 20);
        Assert.That(ErrnoOf(() => Root.Lseek(fd, 512 << 10, SeekWhence.SEEK_DATA)), Is.EqualTo(Errno.ENXIO));
    }
}
