using DaxStack.Device.Errors;
using DaxStack.Fs.Ramfs;
using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Tests.Ramfs;

public class RamfsSparseFileTests : RamfsTestBase
{
    private int File(Process p) => p.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);

    [Test]
    public void SeekDataAndHoleWorkAtPageGranularity()
    {
        var p = Mount(new RamfsOptions());
        int fd = File(p);
        p.Pwrite(fd, new byte[10], 3 * 4096 + 100);
        p.Pwrite(fd, new byte[10], 6 * 4096);
        p.Ftruncate(fd, 10 * 4096);
        Assert.Multiple(() =>
        {
            Assert.That(p.Lseek(fd, 0, SeekWhence.SEEK_DATA), Is.EqualTo(3 * 4096));
            Assert.That(p.Lseek(fd, 3 * 4096 + 50, SeekWhence.SEEK_DATA), Is.EqualTo(3 * 4096 + 50));
            Assert.That(p.Lseek(fd, 3 * 4096, SeekWhence.SEEK_HOLE), Is.EqualTo(4 * 4096));
            Assert.That(p.Lseek(fd, 4 * 4096, SeekWhence.SEEK_DATA), Is.EqualTo(6 * 4096));
            Assert.That(p.Lseek(fd, 6 * 4096, SeekWhence.SEEK_HOLE), Is.EqualTo(7 * 4096));
            Assert.That(ErrnoOf(() => p.Lseek(fd, 7 * 4096, SeekWhence.SEEK_DATA)), Is.EqualTo(Errno.ENXIO));
        });
    }

    [Test]
    public void PreallocatedButUnwrittenSpaceIsAHoleToSeekData()
    {
        var p = Mount(new RamfsOptions());
        int fd = File(p);
        p.Fallocate(fd, FallocateFlags.None, 0, 4 * 4096);
        p.Pwrite(fd, new byte[] { 1 }, 2 * 4096);
        Assert.Multiple(() =>
        {
            Assert.That(p.Lseek(fd, 0, SeekWhence.SEEK_DATA), Is.EqualTo(2 * 4096));
            Assert.That(p.Lseek(fd, 0, SeekWhence.SEEK_HOLE), Is.Zero);
            Assert.That(p.Lseek(fd, 2 * 4096, SeekWhence.SEEK_HOLE), Is.EqualTo(3 * 4096));
            Assert.That(ErrnoOf(() => p.Lseek(fd, 3 * 4096, SeekWhence.SEEK_DATA)), Is.EqualTo(Errno.ENXIO));
        });
    }

    [Test]
    public void FiemapReportsMergedRunsWithUnwrittenPreallocationAndUnknownLocation()
    {
        var p = Mount(new RamfsOptions());
        int fd = File(p);
        p.Pwrite(fd, new byte[2 * 4096], 0);
        p.Fallocate(fd, FallocateFlags.FALLOC_FL_KEEP_SIZE, 2 * 4096, 2 * 4096);
        p.Pwrite(fd, new byte[4096], 8 * 4096);
        var fm = new Fiemap(0, long.MaxValue, FiemapFlags.None, 8);
        p.Fiemap(fd, fm);
        const FiemapExtentFlags unknown = FiemapExtentFlags.FIEMAP_EXTENT_UNKNOWN;
        Assert.That(fm.Extents.Take(fm.MappedExtents), Is.EqualTo(new[]
        {
            new FiemapExtent(0, 0, 2 * 4096, unknown),
            new FiemapExtent(2 * 4096, 0, 2 * 4096, unknown | FiemapExtentFlags.FIEMAP_EXTENT_UNWRITTEN),
            new FiemapExtent(8 * 4096, 0, 4096, unknown | FiemapExtentFlags.FIEMAP_EXTENT_LAST),
        }));
    }

    [Test]
    public void WritingIntoPreallocatedSpaceConvertsOnlyThatPage()
    {
        var p = Mount(new RamfsOptions());
        int fd = File(p);
        p.Fallocate(fd, FallocateFlags.None, 0, 3 * 4096);
        p.Pwrite(fd, new byte[] { 1 }, 4096 + 5);
        var buf = new byte[3 * 4096];
        p.Pread(fd, buf, 0);
        var fm = new Fiemap(0, long.MaxValue, FiemapFlags.None, 8);
        p.Fiemap(fd, fm);
        Assert.Multiple(() =>
        {
            Assert.That(buf.Count(b => b != 0), Is.EqualTo(1));
            Assert.That(buf[4096 + 5], Is.EqualTo((byte)1));
            Assert.That(fm.MappedExtents, Is.EqualTo(3));
            Assert.That(fm.Extents[1].Flags & FiemapExtentFlags.FIEMAP_EXTENT_UNWRITTEN, Is.EqualTo(FiemapExtentFlags.None));
        });
    }

    [Test]
    public void FiemapOnADirectoryIsEopnotsupp()
    {
        var p = Mount(new RamfsOptions());
        int fd = p.Open("/", OpenFlags.O_RDONLY);
        Assert.That(ErrnoOf(() => p.Fiemap(fd, new Fiemap(0, 4096, FiemapFlags.None, 1))), Is.EqualTo(Errno.EOPNOTSUPP));
    }

    [TestCase(FallocateFlags.FALLOC_FL_COLLAPSE_RANGE)]
    [TestCase(FallocateFlags.FALLOC_FL_INSERT_RANGE)]
    [TestCase(FallocateFlags.FALLOC_FL_UNSHARE_RANGE)]
    [TestCase(FallocateFlags.FALLOC_FL_WRITE_ZEROES)]
    public void ModesTmpfsLacksAreEopnotsupp(FallocateFlags mode)
    {
        var p = Mount(new RamfsOptions());
        int fd = File(p);
        p.Write(fd, new byte[4 * 4096]);
        Assert.That(ErrnoOf(() => p.Fallocate(fd, mode, 4096, 4096)), Is.EqualTo(Errno.EOPNOTSUPP));
    }

    [Test]
    public void OSyncAndODsyncWritesAndSyncInodesReachFsync()
    {
        var p = Mount(new RamfsOptions());
        int plain = File(p);
        int sync = p.Open("/f", OpenFlags.O_WRONLY | OpenFlags.O_SYNC);
        int dsync = p.Open("/f", OpenFlags.O_WRONLY | OpenFlags.O_DSYNC);
        p.Write(plain, new byte[10]);
        Assert.That(Super.FsyncCalls, Is.Zero);
        p.Write(sync, new byte[10]);
        p.Write(dsync, new byte[10]);
        p.Write(dsync, ReadOnlySpan<byte>.Empty);
        Assert.That(Super.FsyncCalls, Is.EqualTo(2), "an empty write syncs nothing");
        p.FsSetXattr(plain, p.FsGetXattr(plain) with { XFlags = FsXflags.FS_XFLAG_SYNC });
        p.Write(plain, new byte[10]);
        Assert.That(Super.FsyncCalls, Is.EqualTo(3));
    }

    [Test]
    public void UnsupportedXflagsAndUnalignedHintsAreRejected()
    {
        var p = Mount(new RamfsOptions());
        int fd = File(p);
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => p.FsSetXattr(fd, new FsXattr(FsXflags.FS_XFLAG_REALTIME, 0, 0, 0, 0))), Is.EqualTo(Errno.EOPNOTSUPP));
            Assert.That(ErrnoOf(() => p.FsSetXattr(fd, new FsXattr(FsXflags.FS_XFLAG_EXTSIZE, 1000, 0, 0, 0))), Is.EqualTo(Errno.EINVAL));
        });
    }
}
