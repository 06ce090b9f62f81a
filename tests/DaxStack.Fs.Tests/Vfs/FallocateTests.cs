using DaxStack.Device.Errors;
using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Tests.Vfs;

[TestFixtureSource(typeof(VfsFileSystems), nameof(VfsFileSystems.All))]
public class FallocateTests : VfsTestBase
{
    private const FallocateFlags Keep = FallocateFlags.FALLOC_FL_KEEP_SIZE;
    private const FallocateFlags Punch = FallocateFlags.FALLOC_FL_PUNCH_HOLE;
    private const FallocateFlags Zero = FallocateFlags.FALLOC_FL_ZERO_RANGE;
    private const FallocateFlags Collapse = FallocateFlags.FALLOC_FL_COLLAPSE_RANGE;
    private const FallocateFlags Insert = FallocateFlags.FALLOC_FL_INSERT_RANGE;
    private const FallocateFlags Unshare = FallocateFlags.FALLOC_FL_UNSHARE_RANGE;

    public FallocateTests(FileSystemUnderTest fs)
        : base(fs)
    {
    }

    private int NewFile(byte[]? data = null)
    {
        int fd = Root.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
        if (data != null)
        {
            Root.Write(fd, data);
        }

        return fd;
    }

    [Test]
    public void Mode0ExtendsTheSizeAndKeepSizeDoesNot()
    {
        int fd = NewFile();
        Root.Fallocate(fd, Keep, 0, 1 << 16);
        Assert.That(Root.Fstat(fd).Size, Is.Zero);
        Root.Fallocate(fd, FallocateFlags.None, 0, 1 << 16);
        Assert.Multiple(() =>
        {
            Assert.That(Root.Fstat(fd).Size, Is.EqualTo(1 << 16));
            Assert.That(Root.Fstat(fd).Blocks, Is.GreaterThanOrEqualTo((1 << 16) / 512));
            Assert.That(ReadFile(Root, "/f").All(b => b == 0), Is.True);
        });
    }

    [Test]
    public void PunchHoleZeroesTheRangeAndKeepsTheSize()
    {
        var data = Pattern(3 * 4096, 7);
        int fd = NewFile(data);
        Root.Fallocate(fd, Punch | Keep, 100, 5000);
        var back = ReadFile(Root, "/f");
        Array.Clear(data, 100, 5000);
        Assert.Multiple(() =>
        {
            Assert.That(back, Is.EqualTo(data));
            Assert.That(Root.Fstat(fd).Size, Is.EqualTo(3 * 4096));
        });
    }

    [Test]
    public void ZeroRangeZeroesTheRangeAndExtendsUnlessKeepSize()
    {
        var data = Pattern(8192, 8);
        int fd = NewFile(data);
        Root.Fallocate(fd, Zero, 4000, 200);
        Array.Clear(data, 4000, 200);
        Assert.That(ReadFile(Root, "/f"), Is.EqualTo(data));
        Root.Fallocate(fd, Zero | Keep, 8000, 10000);
        Assert.That(Root.Fstat(fd).Size, Is.EqualTo(8192));
        Root.Fallocate(fd, Zero, 8000, 10000);
        Assert.That(Root.Fstat(fd).Size, Is.EqualTo(18000));
    }

    [Test]
    public void AnOffsetBelowZeroOrALengthOfZeroOrLessIsEinval()
    {
        int fd = NewFile();
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Fallocate(fd, FallocateFlags.None, -1, 10)), Is.EqualTo(Errno.EINVAL));
            Assert.That(ErrnoOf(() => Root.Fallocate(fd, FallocateFlags.None, 0, 0)), Is.EqualTo(Errno.EINVAL));
            Assert.That(ErrnoOf(() => Root.Fallocate(fd, FallocateFlags.None, 0, -5)), Is.EqualTo(Errno.EINVAL));
        });
    }

    [TestCase(FallocateFlags.FALLOC_FL_PUNCH_HOLE)]
    [TestCase(FallocateFlags.FALLOC_FL_PUNCH_HOLE | FallocateFlags.FALLOC_FL_ZERO_RANGE | FallocateFlags.FALLOC_FL_KEEP_SIZE)]
    [TestCase(FallocateFlags.FALLOC_FL_COLLAPSE_RANGE | FallocateFlags.FALLOC_FL_KEEP_SIZE)]
    [TestCase(FallocateFlags.FALLOC_FL_INSERT_RANGE | FallocateFlags.FALLOC_FL_KEEP_SIZE)]
    [TestCase(FallocateFlags.FALLOC_FL_COLLAPSE_RANGE | FallocateFlags.FALLOC_FL_INSERT_RANGE)]
    [TestCase(FallocateFlags.FALLOC_FL_NO_HIDE_STALE)]
    [TestCase((FallocateFlags)0x100)]
    public void InvalidModeCombinationsAreEopnotsupp(FallocateFlags mode)
    {
        int fd = NewFile(new byte[8192]);
        Assert.That(ErrnoOf(() => Root.Fallocate(fd, mode, 0, 4096)), Is.EqualTo(Errno.EOPNOTSUPP));
    }

    [Test]
    public void ModeChecksComeBeforeTheDescriptorAccessCheck()
    {
        WriteFile(Root, "/f", new byte[8192]);
        int r = Root.Open("/f", OpenFlags.O_RDONLY);
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Fallocate(r, Punch, 0, 4096)), Is.EqualTo(Errno.EOPNOTSUPP));
            Assert.That(ErrnoOf(() => Root.Fallocate(r, FallocateFlags.None, 0, 4096)), Is.EqualTo(Errno.EBADF));
            Assert.That(ErrnoOf(() => Root.Fallocate(99, FallocateFlags.None, 0, 4096)), Is.EqualTo(Errno.EBADF));
        });
    }

    [Test]
    public void ADirectoryDescriptorIsEbadfBecauseItCannotBeOpenForWriting()
    {
        Root.Mkdir("/d", Mode755);
        int d = Root.Open("/d", OpenFlags.O_RDONLY);
        Assert.That(ErrnoOf(() => Root.Fallocate(d, FallocateFlags.None, 0, 4096)), Is.EqualTo(Errno.EBADF));
    }

    [Test]
    public void ARangeEndingBeyondTheMaximumFileSizeIsEfbig()
    {
        long max = Tree.RootMount.Sb.MaxBytes;
        int fd = NewFile();
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Fallocate(fd, Keep, max - 4096, 8192)), Is.EqualTo(Errno.EFBIG));
            Assert.That(ErrnoOf(() => Root.Fallocate(fd, Keep, long.MaxValue - 10, 100)), Is.EqualTo(Errno.EFBIG));
        });
    }

    [Test]
    public void ImmutableFilesRefuseEveryModeAndAppendOnlyFilesAllButPreallocation()
    {
        int fd = NewFile(new byte[8192]);
        Root.FsSetXattr(fd, Root.FsGetXattr(fd) with { XFlags = FsXflags.FS_XFLAG_APPEND });
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Fallocate(fd, Punch | Keep, 0, 4096)), Is.EqualTo(Errno.EPERM));
            Assert.That(ErrnoOf(() => Root.Fallocate(fd, Zero, 0, 4096)), Is.EqualTo(Errno.EPERM));
        });
        Root.Fallocate(fd, Keep, 0, 16384);
        Root.FsSetXattr(fd, Root.FsGetXattr(fd) with { XFlags = FsXflags.FS_XFLAG_IMMUTABLE });
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Fallocate(fd, Keep, 0, 4096)), Is.EqualTo(Errno.EPERM));
            Assert.That(ErrnoOf(() => Root.Fallocate(fd, FallocateFlags.None, 0, 4096)), Is.EqualTo(Errno.EPERM));
        });
    }

    [Test]
    public void CollapseInsertAndUnshareAreEitherSupportedOrEopnotsupp()
    {
        // The VFS accepts these modes; whether the filesystem implements them is its choice.
        int fd = NewFile(Pattern(4 * 4096, 9));
        foreach (var mode in new[] { Collapse, Insert, Unshare })
        {
            try
            {
                Root.Fallocate(fd, mode, 4096, 4096);
            }
            catch (ErrnoException e)
            {
                Assert.That(e.Errno, Is.EqualTo(Errno.EOPNOTSUPP), mode.ToString());
            }
        }
    }
}
