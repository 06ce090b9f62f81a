using DaxStack.Device.Errors;
using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Tests.Vfs;

[TestFixtureSource(typeof(VfsFileSystems), nameof(VfsFileSystems.All))]
public class TruncateTests : VfsTestBase
{
    public TruncateTests(FileSystemUnderTest fs)
        : base(fs)
    {
    }

    [Test]
    public void ShrinkingDropsDataAndGrowingAgainReadsZeroes()
    {
        WriteFile(Root, "/f", Pattern(10000, 6));
        Root.Truncate("/f", 100);
        Root.Truncate("/f", 10000);
        var back = ReadFile(Root, "/f");
        Assert.Multiple(() =>
        {
            Assert.That(back.AsSpan(0, 100).SequenceEqual(Pattern(10000, 6).AsSpan(0, 100)), Is.True);
            Assert.That(back.Skip(100).All(b => b == 0), Is.True);
        });
    }

    [Test]
    public void FtruncateSetsTheSize()
    {
        int fd = Root.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
        Root.Ftruncate(fd, 12345);
        Assert.That(Root.Fstat(fd).Size, Is.EqualTo(12345));
    }

    [Test]
    public void ANegativeLengthIsEinvalBeforeTheDescriptorIsChecked()
    {
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Ftruncate(99, -1)), Is.EqualTo(Errno.EINVAL));
            Assert.That(ErrnoOf(() => Root.Ftruncate(99, 0)), Is.EqualTo(Errno.EBADF));
            Assert.That(ErrnoOf(() => Root.Truncate("/missing", -1)), Is.EqualTo(Errno.EINVAL));
        });
    }

    [Test]
    public void FtruncateOfAReadOnlyDescriptorOrADirectoryIsEinval()
    {
        WriteFile(Root, "/f", [1]);
        Root.Mkdir("/d", Mode755);
        int r = Root.Open("/f", OpenFlags.O_RDONLY);
        int d = Root.Open("/d", OpenFlags.O_RDONLY);
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Ftruncate(r, 0)), Is.EqualTo(Errno.EINVAL));
            Assert.That(ErrnoOf(() => Root.Ftruncate(d, 0)), Is.EqualTo(Errno.EINVAL));
        });
    }

    [Test]
    public void TruncateOfADirectoryIsEisdirAndOfAMissingFileEnoent()
    {
        Root.Mkdir("/d", Mode755);
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Truncate("/d", 0)), Is.EqualTo(Errno.EISDIR));
            Assert.That(ErrnoOf(() => Root.Truncate("/missing", 0)), Is.EqualTo(Errno.ENOENT));
        });
    }

    [Test]
    public void TruncateNeedsWritePermission()
    {
        WriteFile(Root, "/f", [1]);
        Assert.That(ErrnoOf(() => User().Truncate("/f", 0)), Is.EqualTo(Errno.EACCES));
    }

    [Test]
    public void TruncatingBeyondTheMaximumFileSizeIsEfbig()
    {
        long max = Tree.RootMount.Sb.MaxBytes;
        WriteFile(Root, "/f", [1]);
        int fd = Root.Open("/f", OpenFlags.O_RDWR);
        // With s_maxbytes at MAX_LFS_FILESIZE (XFS) no loff_t lies beyond it: only the limit itself can be tried.
        if (max < long.MaxValue)
        {
            Assert.Multiple(() =>
            {
                Assert.That(ErrnoOf(() => Root.Truncate("/f", max + 1)), Is.EqualTo(Errno.EFBIG));
                Assert.That(ErrnoOf(() => Root.Ftruncate(fd, max + 1)), Is.EqualTo(Errno.EFBIG));
            });
        }
        Root.Ftruncate(fd, max);
        Assert.That(Root.Fstat(fd).Size, Is.EqualTo(max));
    }

    [Test]
    public void AppendOnlyAndImmutableFilesCannotBeTruncated()
    {
        WriteFile(Root, "/a", [1]);
        WriteFile(Root, "/i", [1]);
        int a = Root.Open("/a", OpenFlags.O_RDWR);
        int i = Root.Open("/i", OpenFlags.O_RDWR);
        Root.FsSetXattr(a, Root.FsGetXattr(a) with { XFlags = FsXflags.FS_XFLAG_APPEND });
        Root.FsSetXattr(i, Root.FsGetXattr(i) with { XFlags = FsXflags.FS_XFLAG_IMMUTABLE });
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Ftruncate(a, 0)), Is.EqualTo(Errno.EPERM));
            Assert.That(ErrnoOf(() => Root.Truncate("/a", 0)), Is.EqualTo(Errno.EPERM));
            Assert.That(ErrnoOf(() => Root.Ftruncate(i, 0)), Is.EqualTo(Errno.EPERM));
            Assert.That(ErrnoOf(() => Root.Truncate("/i", 0)), Is.EqualTo(Errno.EPERM));
        });
    }
}
