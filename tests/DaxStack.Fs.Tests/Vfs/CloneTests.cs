using DaxStack.Device.Errors;
using DaxStack.Fs.Ramfs;
using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Tests.Vfs;

/// <summary>FICLONE/FICLONERANGE on filesystems that can clone: the VFS's and the generic remap checks.</summary>
[TestFixtureSource(typeof(VfsFileSystems), nameof(VfsFileSystems.Cloning))]
public class CloneTests : VfsTestBase
{
    public CloneTests(FileSystemUnderTest fs)
        : base(fs)
    {
    }

    private (int Src, int Dst) Pair(int srcBytes = 4 * 4096)
    {
        WriteFile(Root, "/src", Pattern(srcBytes, 11));
        int src = Root.Open("/src", OpenFlags.O_RDONLY);
        int dst = Root.Open("/dst", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
        return (src, dst);
    }

    [Test]
    public void FicloneMakesTheDestinationEqualToTheSource()
    {
        var (src, dst) = Pair(10000);
        Root.Ficlone(dst, src);
        Assert.That(ReadFile(Root, "/dst"), Is.EqualTo(Pattern(10000, 11)));
    }

    [Test]
    public void FicloneRangeCopiesABlockAlignedRange()
    {
        var (src, dst) = Pair();
        Root.FicloneRange(dst, src, 4096, 8192, 0);
        Assert.That(ReadFile(Root, "/dst"), Is.EqualTo(Pattern(4 * 4096, 11)[4096..12288]));
    }

    [Test]
    public void UnalignedOffsetsOrLengthsAreEinval()
    {
        var (src, dst) = Pair();
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.FicloneRange(dst, src, 100, 4096, 0)), Is.EqualTo(Errno.EINVAL));
            Assert.That(ErrnoOf(() => Root.FicloneRange(dst, src, 0, 4096, 100)), Is.EqualTo(Errno.EINVAL));
            Assert.That(ErrnoOf(() => Root.FicloneRange(dst, src, 0, 1000, 0)), Is.EqualTo(Errno.EINVAL));
            Assert.That(ErrnoOf(() => Root.FicloneRange(dst, src, -4096, 4096, 0)), Is.EqualTo(Errno.EINVAL));
            Assert.That(ErrnoOf(() => Root.FicloneRange(dst, src, 1 << 20, 4096, 0)), Is.EqualTo(Errno.EINVAL), "source offset beyond its end");
        });
    }

    [Test]
    public void OverlappingRangesOfOneFileAreEinval()
    {
        WriteFile(Root, "/f", Pattern(8 * 4096, 12));
        int fd = Root.Open("/f", OpenFlags.O_RDWR);
        Assert.That(ErrnoOf(() => Root.FicloneRange(fd, fd, 0, 4 * 4096, 2 * 4096)), Is.EqualTo(Errno.EINVAL));
        Root.FicloneRange(fd, fd, 0, 2 * 4096, 4 * 4096);
        Assert.That(ReadFile(Root, "/f").AsSpan(4 * 4096, 2 * 4096).SequenceEqual(Pattern(8 * 4096, 12).AsSpan(0, 2 * 4096)), Is.True);
    }

    [Test]
    public void DescriptorsWithoutTheRightAccessAreEbadf()
    {
        var (src, dst) = Pair();
        int srcWriteOnly = Root.Open("/src", OpenFlags.O_WRONLY);
        int dstReadOnly = Root.Open("/dst", OpenFlags.O_RDONLY);
        int dstAppend = Root.Open("/dst", OpenFlags.O_WRONLY | OpenFlags.O_APPEND);
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Ficlone(dst, srcWriteOnly)), Is.EqualTo(Errno.EBADF));
            Assert.That(ErrnoOf(() => Root.Ficlone(dstReadOnly, src)), Is.EqualTo(Errno.EBADF));
            Assert.That(ErrnoOf(() => Root.Ficlone(dstAppend, src)), Is.EqualTo(Errno.EBADF));
            Assert.That(ErrnoOf(() => Root.Ficlone(dst, 99)), Is.EqualTo(Errno.EBADF));
            Assert.That(ErrnoOf(() => Root.Ficlone(99, src)), Is.EqualTo(Errno.EBADF));
        });
    }

    [Test]
    public void CloningADirectoryIsEisdir()
    {
        var (src, _) = Pair();
        Root.Mkdir("/d", Mode755);
        int d = Root.Open("/d", OpenFlags.O_RDONLY);
        Assert.That(ErrnoOf(() => Root.Ficlone(d, src)), Is.EqualTo(Errno.EISDIR));
    }

    [Test]
    public void CloningAcrossFilesystemsIsExdev()
    {
        var (src, _) = Pair();
        Root.Mkdir("/mnt", Mode755);
        Root.Mount(NewFileSystem(), "/mnt");
        int other = Root.Open("/mnt/f", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
        Assert.That(ErrnoOf(() => Root.Ficlone(other, src)), Is.EqualTo(Errno.EXDEV));
    }

    [Test]
    public void CloningIntoAnImmutableFileIsEperm()
    {
        var (src, dst) = Pair();
        Root.FsSetXattr(dst, Root.FsGetXattr(dst) with { XFlags = FsXflags.FS_XFLAG_IMMUTABLE });
        Assert.That(ErrnoOf(() => Root.Ficlone(dst, src)), Is.EqualTo(Errno.EPERM));
    }

    [Test]
    public void AFilesystemThatCannotCloneSaysEopnotsupp()
    {
        var vfs = new DaxStack.Fs.Vfs.Vfs(new RamfsFileSystemType());
        using var p = vfs.CreateProcess(Credentials.Root);
        int src = p.Open("/a", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
        int dst = p.Open("/b", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
        p.Write(src, new byte[4096]);
        Assert.That(ErrnoOf(() => p.Ficlone(dst, src)), Is.EqualTo(Errno.EOPNOTSUPP));
    }
}
