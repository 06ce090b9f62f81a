using DaxStack.Device.Errors;
using DaxStack.Fs.Ramfs;
using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Tests.Ramfs;

public class RamfsCapacityTests : RamfsTestBase
{
    [Test]
    public void AWriteBeyondTheCapacityIsShortThenEnospc()
    {
        var p = Mount(new RamfsOptions { CapacityBytes = 4 * 4096 });
        int fd = p.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
        Assert.Multiple(() =>
        {
            Assert.That(p.Write(fd, new byte[5 * 4096]), Is.EqualTo(4 * 4096));
            Assert.That(ErrnoOf(() => p.Write(fd, new byte[1])), Is.EqualTo(Errno.ENOSPC));
            Assert.That(p.Statfs("/").BlocksFree, Is.Zero);
        });
    }

    [Test]
    public void FallocateBeyondTheCapacityAllocatesNothing()
    {
        var p = Mount(new RamfsOptions { CapacityBytes = 4 * 4096 });
        int fd = p.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
        p.Write(fd, new byte[4096]);
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => p.Fallocate(fd, FallocateFlags.None, 0, 8 * 4096)), Is.EqualTo(Errno.ENOSPC));
            Assert.That(Super.UsedPages, Is.EqualTo(1));
            Assert.That(p.Fstat(fd).Size, Is.EqualTo(4096));
        });
    }

    [Test]
    public void PunchingAndTruncatingGiveTheSpaceBack()
    {
        var p = Mount(new RamfsOptions { CapacityBytes = 16 * 4096 });
        int fd = p.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
        p.Write(fd, new byte[16 * 4096]);
        p.Fallocate(fd, FallocateFlags.FALLOC_FL_PUNCH_HOLE | FallocateFlags.FALLOC_FL_KEEP_SIZE, 4096, 4 * 4096);
        Assert.That(Super.UsedPages, Is.EqualTo(12));
        p.Ftruncate(fd, 4096 + 100);
        Assert.That(Super.UsedPages, Is.EqualTo(1), "page 0 stays, page 1 was punched, the rest are cut");
    }

    [Test]
    public void RunningOutOfInodesIsEnospc()
    {
        var p = Mount(new RamfsOptions { MaxInodes = 3 });
        p.Mkdir("/d", Mode755);
        p.Close(p.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644));
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => p.Open("/g", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644)), Is.EqualTo(Errno.ENOSPC));
            Assert.That(ErrnoOf(() => p.Mkdir("/e", Mode755)), Is.EqualTo(Errno.ENOSPC));
            Assert.That(p.Statfs("/").FilesFree, Is.Zero);
        });
        p.Unlink("/f");
        p.Mkdir("/e", Mode755);
        Assert.That(Super.InodeCount, Is.EqualTo(3));
    }

    [Test]
    public void AnUnlinkedOpenFileKeepsItsPagesUntilTheLastClose()
    {
        var p = Mount(new RamfsOptions());
        int fd = p.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
        p.Write(fd, new byte[10 * 4096]);
        p.Unlink("/f");
        Assert.That(Super.UsedPages, Is.EqualTo(10));
        p.Close(fd);
        Assert.Multiple(() =>
        {
            Assert.That(Super.UsedPages, Is.Zero);
            Assert.That(Super.InodeCount, Is.EqualTo(1), "only the root is left");
        });
    }
}
