using DaxStack.Device.Errors;
using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Tests.Vfs;

[TestFixtureSource(typeof(VfsFileSystems), nameof(VfsFileSystems.All))]
public class FiemapTests : VfsTestBase
{
    public FiemapTests(FileSystemUnderTest fs)
        : base(fs)
    {
    }

    private int SparseFile()
    {
        // Data at [0, 8K) and [1M, 1M + 4K), a hole between.
        int fd = Root.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
        Root.Pwrite(fd, Pattern(8192, 1), 0);
        Root.Pwrite(fd, Pattern(4096, 2), 1 << 20);
        return fd;
    }

    [Test]
    public void TheExtentsCoverTheDataInOrderAndTheLastIsMarked()
    {
        int fd = SparseFile();
        var fm = new Fiemap(0, long.MaxValue, FiemapFlags.FIEMAP_FLAG_SYNC, 16);
        Root.Fiemap(fd, fm);
        var ext = fm.Extents.Take(fm.MappedExtents).ToArray();
        Assert.That(fm.MappedExtents, Is.GreaterThanOrEqualTo(2));
        Assert.Multiple(() =>
        {
            Assert.That(ext[0].Logical, Is.Zero);
            Assert.That(ext.Where(e => e.Logical < 8192).Sum(e => e.Length), Is.EqualTo(8192));
            Assert.That(ext[^1].Logical + ext[^1].Length, Is.EqualTo((1 << 20) + 4096));
            Assert.That(ext[^1].Flags & FiemapExtentFlags.FIEMAP_EXTENT_LAST, Is.EqualTo(FiemapExtentFlags.FIEMAP_EXTENT_LAST));
            Assert.That(ext.Take(ext.Length - 1).All(e => (e.Flags & FiemapExtentFlags.FIEMAP_EXTENT_LAST) == 0), Is.True);
            Assert.That(ext.Zip(ext.Skip(1)).All(p => p.First.Logical + p.First.Length <= p.Second.Logical), Is.True);
        });
    }

    [Test]
    public void AnExtentCountOfZeroOnlyCountsTheExtents()
    {
        int fd = SparseFile();
        var all = new Fiemap(0, long.MaxValue, FiemapFlags.None, 64);
        Root.Fiemap(fd, all);
        var count = new Fiemap(0, long.MaxValue, FiemapFlags.None, 0);
        Root.Fiemap(fd, count);
        Assert.That(count.MappedExtents, Is.EqualTo(all.MappedExtents));
    }

    [Test]
    public void AFullBufferStopsTheReport()
    {
        int fd = SparseFile();
        var fm = new Fiemap(0, long.MaxValue, FiemapFlags.None, 1);
        Root.Fiemap(fd, fm);
        Assert.Multiple(() =>
        {
            Assert.That(fm.MappedExtents, Is.EqualTo(1));
            Assert.That(fm.Extents[0].Logical, Is.Zero);
        });
    }

    [Test]
    public void ARangeInTheHoleReportsNothing()
    {
        int fd = SparseFile();
        var fm = new Fiemap(64 << 10, 256 << 10, FiemapFlags.None, 8);
        Root.Fiemap(fd, fm);
        Assert.That(fm.MappedExtents, Is.Zero);
    }

    [Test]
    public void PreallocatedSpaceIsReportedUnwritten()
    {
        int fd = Root.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
        Root.Fallocate(fd, FallocateFlags.None, 0, 1 << 16);
        var fm = new Fiemap(0, long.MaxValue, FiemapFlags.None, 8);
        Root.Fiemap(fd, fm);
        Assert.That(fm.MappedExtents, Is.GreaterThanOrEqualTo(1));
        Assert.That(fm.Extents[0].Flags & FiemapExtentFlags.FIEMAP_EXTENT_UNWRITTEN, Is.EqualTo(FiemapExtentFlags.FIEMAP_EXTENT_UNWRITTEN));
    }

    [Test]
    public void AZeroLengthIsEinvalAndAStartBeyondTheMaximumSizeEfbig()
    {
        int fd = SparseFile();
        long max = Tree.RootMount.Sb.MaxBytes;
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Fiemap(fd, new Fiemap(0, 0, FiemapFlags.None, 4))), Is.EqualTo(Errno.EINVAL));
            Assert.That(ErrnoOf(() => Root.Fiemap(fd, new Fiemap(max, 10, FiemapFlags.None, 4))), Is.EqualTo(Errno.EFBIG));
            Assert.That(ErrnoOf(() => Root.Fiemap(fd + 5, new Fiemap(0, 10, FiemapFlags.None, 4))), Is.EqualTo(Errno.EBADF));
        });
    }

    [Test]
    public void UnsupportedFlagsAreEbadrAndReturnedInTheFlags()
    {
        int fd = SparseFile();
        var fm = new Fiemap(0, 4096, FiemapFlags.FIEMAP_FLAG_SYNC | FiemapFlags.FIEMAP_FLAG_CACHE | (FiemapFlags)0x100, 4);
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Fiemap(fd, fm)), Is.EqualTo(Errno.EBADR));
            Assert.That(fm.Flags, Is.EqualTo(FiemapFlags.FIEMAP_FLAG_CACHE | (FiemapFlags)0x100));
        });
    }
}
