using DaxStack.Device.Errors;
using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Tests.Vfs;

[TestFixtureSource(typeof(VfsFileSystems), nameof(VfsFileSystems.All))]
public class ReadWriteTests : VfsTestBase
{
    public ReadWriteTests(FileSystemUnderTest fs)
        : base(fs)
    {
    }

    private int NewFile(string path = "/f") => Root.Open(path, OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);

    [Test]
    public void WriteThenReadBackAdvancesTheFilePosition()
    {
        int fd = NewFile();
        var data = Pattern(10000, 3);
        Assert.That(Root.Write(fd, data), Is.EqualTo(data.Length));
        Assert.That(Root.Lseek(fd, 0, SeekWhence.SEEK_CUR), Is.EqualTo(data.Length));
        Root.Lseek(fd, 0, SeekWhence.SEEK_SET);
        var back = new byte[data.Length + 100];
        Assert.That(Root.Read(fd, back), Is.EqualTo(data.Length));
        Assert.That(back.AsSpan(0, data.Length).SequenceEqual(data), Is.True);
        Assert.That(Root.Read(fd, back), Is.Zero, "read at end of file returns 0");
    }

    [Test]
    public void PreadAndPwriteDoNotMoveThePosition()
    {
        int fd = NewFile();
        Root.Pwrite(fd, Pattern(100, 4), 50);
        var buf = new byte[10];
        Root.Pread(fd, buf, 60);
        Assert.Multiple(() =>
        {
            Assert.That(Root.Lseek(fd, 0, SeekWhence.SEEK_CUR), Is.Zero);
            Assert.That(buf, Is.EqualTo(Pattern(100, 4)[10..20]));
        });
    }

    [Test]
    public void AHoleReadsAsZeroes()
    {
        int fd = NewFile();
        Root.Pwrite(fd, new byte[] { 9 }, 1 << 20);
        var buf = new byte[8192];
        buf.AsSpan().Fill(0xAA);
        Assert.That(Root.Pread(fd, buf, 4096), Is.EqualTo(buf.Length));
        Assert.Multiple(() =>
        {
            Assert.That(buf.All(b => b == 0), Is.True);
            Assert.That(Root.Fstat(fd).Size, Is.EqualTo((1 << 20) + 1));
        });
    }

    [Test]
    public void AReadStraddlingTheEndOfFileIsShort()
    {
        int fd = NewFile();
        Root.Write(fd, Pattern(100, 5));
        var buf = new byte[64];
        Assert.Multiple(() =>
        {
            Assert.That(Root.Pread(fd, buf, 80), Is.EqualTo(20));
            Assert.That(Root.Pread(fd, buf, 100), Is.Zero);
            Assert.That(Root.Pread(fd, buf, 1000), Is.Zero);
        });
    }

    [Test]
    public void OAppendWritesAtTheEndWhateverThePositionOrOffset()
    {
        int fd = Root.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_RDWR | OpenFlags.O_APPEND, Mode644);
        Root.Write(fd, new byte[] { 1, 2, 3 });
        Root.Lseek(fd, 0, SeekWhence.SEEK_SET);
        Root.Write(fd, new byte[] { 4 });
        Root.Pwrite(fd, new byte[] { 5 }, 0);
        Assert.Multiple(() =>
        {
            Assert.That(ReadFile(Root, "/f"), Is.EqualTo(new byte[] { 1, 2, 3, 4, 5 }));
            Assert.That(Root.Lseek(fd, 0, SeekWhence.SEEK_CUR), Is.EqualTo(4), "pwrite leaves the position where write put it");
        });
    }

    [Test]
    public void AZeroLengthWriteReturnsZeroAndChangesNothing()
    {
        int fd = NewFile();
        Assert.Multiple(() =>
        {
            Assert.That(Root.Pwrite(fd, ReadOnlySpan<byte>.Empty, 1000), Is.Zero);
            Assert.That(Root.Fstat(fd).Size, Is.Zero);
        });
    }

    [Test]
    public void NegativeOffsetsAreEinvalEvenOnABadDescriptor()
    {
        int fd = NewFile();
        var buf = new byte[1];
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Pread(fd, buf, -1)), Is.EqualTo(Errno.EINVAL));
            Assert.That(ErrnoOf(() => Root.Pwrite(fd, buf, -1)), Is.EqualTo(Errno.EINVAL));
            Assert.That(ErrnoOf(() => Root.Pread(99, buf, -1)), Is.EqualTo(Errno.EINVAL));
            Assert.That(ErrnoOf(() => Root.Pread(99, buf, 0)), Is.EqualTo(Errno.EBADF));
            Assert.That(ErrnoOf(() => Root.Write(99, buf)), Is.EqualTo(Errno.EBADF));
        });
    }

    [Test]
    public void ReadingADirectoryIsEisdir()
    {
        Root.Mkdir("/d", Mode755);
        int fd = Root.Open("/d", OpenFlags.O_RDONLY);
        Assert.That(ErrnoOf(() => Root.Read(fd, new byte[16])), Is.EqualTo(Errno.EISDIR));
    }

    [Test]
    public void WritingAtOrBeyondTheMaximumFileSizeIsEfbigAndAWriteAcrossItIsShort()
    {
        long max = Tree.RootMount.Sb.MaxBytes;
        int fd = NewFile();
        if (max == long.MaxValue)
        {
            // s_maxbytes is MAX_LFS_FILESIZE (XFS): rw_verify_area rejects a range whose end
            // overflows loff_t before the size limit is consulted.
            Assert.Multiple(() =>
            {
                Assert.That(ErrnoOf(() => Root.Pwrite(fd, new byte[1], max)), Is.EqualTo(Errno.EINVAL));
                Assert.That(ErrnoOf(() => Root.Pwrite(fd, new byte[10], max - 4)), Is.EqualTo(Errno.EINVAL));
                Assert.That(Root.Pwrite(fd, new byte[4], max - 4), Is.EqualTo(4));
                Assert.That(Root.Fstat(fd).Size, Is.EqualTo(max));
            });
            return;
        }
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Pwrite(fd, new byte[1], max)), Is.EqualTo(Errno.EFBIG));
            Assert.That(Root.Pwrite(fd, new byte[10], max - 4), Is.EqualTo(4));
            Assert.That(Root.Fstat(fd).Size, Is.EqualTo(max));
        });
    }

    [Test]
    public void AReadAtOrBeyondTheMaximumFileSizeReturnsZero()
    {
        long max = Tree.RootMount.Sb.MaxBytes;
        int fd = NewFile();
        if (max == long.MaxValue)
        {
            // rw_verify_area: the end of [max, max + 8) overflows loff_t.
            Assert.That(ErrnoOf(() => Root.Pread(fd, new byte[8], max)), Is.EqualTo(Errno.EINVAL));
            Assert.That(Root.Pread(fd, new byte[8], max - 8), Is.Zero);
            return;
        }
        Assert.That(Root.Pread(fd, new byte[8], max), Is.Zero);
    }

    [Test]
    public void WritingThroughADescriptorOpenedBeforeTheFileBecameImmutableIsEperm()
    {
        int fd = NewFile();
        Root.FsSetXattr(fd, Root.FsGetXattr(fd) with { XFlags = FsXflags.FS_XFLAG_IMMUTABLE });
        Assert.That(ErrnoOf(() => Root.Write(fd, new byte[] { 1 })), Is.EqualTo(Errno.EPERM));
    }

    [Test]
    public void AWriteByAProcessWithoutCapFsetidClearsSetuid()
    {
        SharedDir("/w");
        var user = User();
        int fd = user.Open("/w/prog", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode755);
        user.Chmod("/w/prog", Mode755 | InodeMode.S_ISUID);
        user.Write(fd, new byte[] { 1 });
        Assert.That(user.Fstat(fd).Mode & InodeMode.S_ISUID, Is.Zero);
    }

    [Test]
    public void WritesUpdateMtimeAndCtime()
    {
        int fd = NewFile();
        var before = Root.Fstat(fd);
        Thread.Sleep(2);
        Root.Write(fd, new byte[] { 1 });
        var after = Root.Fstat(fd);
        Assert.Multiple(() =>
        {
            Assert.That(ToNs(after.Mtime), Is.GreaterThan(ToNs(before.Mtime)));
            Assert.That(ToNs(after.Ctime), Is.GreaterThan(ToNs(before.Ctime)));
        });
    }

    private static long ToNs(Timespec t) => (t.Seconds * 1_000_000_000) + t.Nanoseconds;
}
