using DaxStack.Device.Errors;
using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Tests.Vfs;

[TestFixtureSource(typeof(VfsFileSystems), nameof(VfsFileSystems.All))]
public class OpenCloseTests : VfsTestBase
{
    public OpenCloseTests(FileSystemUnderTest fs)
        : base(fs)
    {
    }

    [Test]
    public void OpenWithCreatMakesAnEmptyRegularFileWithTheModeLessTheUmask()
    {
        Root.Umask = 0x12;
        int fd = Root.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode777);
        var st = Root.Fstat(fd);
        Assert.Multiple(() =>
        {
            Assert.That(st.IsRegular, Is.True);
            Assert.That(st.Mode & InodeMode.S_IALLUGO, Is.EqualTo(Mode755));
            Assert.That(st.Size, Is.Zero);
            Assert.That(st.Nlink, Is.EqualTo(1u));
        });
        Root.Close(fd);
    }

    [Test]
    public void DescriptorsAreTheLowestFreeNumbers()
    {
        int a = Root.Open("/a", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
        int b = Root.Open("/b", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
        Root.Close(a);
        int c = Root.Open("/b", OpenFlags.O_RDONLY);
        Assert.Multiple(() =>
        {
            Assert.That(a, Is.Zero);
            Assert.That(b, Is.EqualTo(1));
            Assert.That(c, Is.EqualTo(a));
        });
    }

    [Test]
    public void OpenOfAMissingFileWithoutCreatIsEnoent() =>
        Assert.That(ErrnoOf(() => Root.Open("/missing", OpenFlags.O_RDONLY)), Is.EqualTo(Errno.ENOENT));

    [Test]
    public void OpenWithCreatAndExclOfAnExistingFileIsEexist()
    {
        WriteFile(Root, "/f", [1]);
        Assert.That(ErrnoOf(() => Root.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_EXCL | OpenFlags.O_WRONLY, Mode644)), Is.EqualTo(Errno.EEXIST));
    }

    [Test]
    public void OpenWithCreatOfAnExistingFileOpensIt()
    {
        WriteFile(Root, "/f", [1, 2, 3]);
        int fd = Root.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_RDONLY, Mode644);
        Assert.That(Root.Fstat(fd).Size, Is.EqualTo(3));
    }

    [Test]
    public void OpenWithTruncEmptiesTheFile()
    {
        WriteFile(Root, "/f", Pattern(5000, 1));
        Root.Close(Root.Open("/f", OpenFlags.O_WRONLY | OpenFlags.O_TRUNC));
        Assert.That(Root.Stat("/f").Size, Is.Zero);
    }

    [Test]
    public void OpenOfADirectoryForWritingIsEisdir()
    {
        Root.Mkdir("/d", Mode755);
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Open("/d", OpenFlags.O_WRONLY)), Is.EqualTo(Errno.EISDIR));
            Assert.That(ErrnoOf(() => Root.Open("/d", OpenFlags.O_RDWR)), Is.EqualTo(Errno.EISDIR));
            Assert.That(ErrnoOf(() => Root.Open("/d", OpenFlags.O_RDONLY | OpenFlags.O_TRUNC)), Is.EqualTo(Errno.EISDIR));
            Assert.That(ErrnoOf(() => Root.Open("/d", OpenFlags.O_CREAT | OpenFlags.O_RDONLY, Mode644)), Is.EqualTo(Errno.EISDIR));
            Assert.That(ErrnoOf(() => Root.Open("/d/", OpenFlags.O_CREAT | OpenFlags.O_RDONLY, Mode644)), Is.EqualTo(Errno.EISDIR));
            Assert.That(ErrnoOf(() => Root.Open(".", OpenFlags.O_CREAT | OpenFlags.O_RDONLY, Mode644)), Is.EqualTo(Errno.EISDIR));
        });
    }

    [Test]
    public void OpenOfADirectoryReadOnlySucceeds()
    {
        Root.Mkdir("/d", Mode755);
        int fd = Root.Open("/d", OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY);
        Assert.That(Root.Fstat(fd).IsDirectory, Is.True);
    }

    [Test]
    public void ODirectoryOnAFileIsEnotdirAndWithOCreatIsEinval()
    {
        WriteFile(Root, "/f", [1]);
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Open("/f", OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY)), Is.EqualTo(Errno.ENOTDIR));
            Assert.That(ErrnoOf(() => Root.Open("/f/", OpenFlags.O_RDONLY)), Is.EqualTo(Errno.ENOTDIR));
            Assert.That(ErrnoOf(() => Root.Open("/g", OpenFlags.O_CREAT | OpenFlags.O_DIRECTORY | OpenFlags.O_RDONLY, Mode644)), Is.EqualTo(Errno.EINVAL));
        });
    }

    [Test]
    public void ReadingThroughAWriteOnlyDescriptorAndWritingThroughAReadOnlyOneAreEbadf()
    {
        WriteFile(Root, "/f", [1, 2]);
        int w = Root.Open("/f", OpenFlags.O_WRONLY);
        int r = Root.Open("/f", OpenFlags.O_RDONLY);
        var buf = new byte[2];
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Read(w, buf)), Is.EqualTo(Errno.EBADF));
            Assert.That(ErrnoOf(() => Root.Write(r, buf)), Is.EqualTo(Errno.EBADF));
        });
    }

    [Test]
    public void AccessMode3GivesNeitherReadNorWrite()
    {
        WriteFile(Root, "/f", [1, 2]);
        int fd = Root.Open("/f", OpenFlags.O_ACCMODE);
        var buf = new byte[2];
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Read(fd, buf)), Is.EqualTo(Errno.EBADF));
            Assert.That(ErrnoOf(() => Root.Write(fd, buf)), Is.EqualTo(Errno.EBADF));
        });
    }

    [Test]
    public void CloseOfAClosedOrNegativeDescriptorIsEbadf()
    {
        int fd = Root.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
        Root.Close(fd);
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Close(fd)), Is.EqualTo(Errno.EBADF));
            Assert.That(ErrnoOf(() => Root.Close(-1)), Is.EqualTo(Errno.EBADF));
            Assert.That(ErrnoOf(() => Root.Close(12345)), Is.EqualTo(Errno.EBADF));
        });
    }

    [Test]
    public void OpeningBeyondTheDescriptorLimitIsEmfileEvenForAMissingFile()
    {
        Root.FdLimit = 3;
        WriteFile(Root, "/f", [1]);
        for (int i = 0; i < 3; i++)
        {
            Root.Open("/f", OpenFlags.O_RDONLY);
        }

        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Open("/f", OpenFlags.O_RDONLY)), Is.EqualTo(Errno.EMFILE));
            Assert.That(ErrnoOf(() => Root.Open("/missing", OpenFlags.O_RDONLY)), Is.EqualTo(Errno.EMFILE));
        });
        Root.Close(1);
        Assert.That(Root.Open("/f", OpenFlags.O_RDONLY), Is.EqualTo(1));
    }

    [Test]
    public void AFileCreatedWithoutWritePermissionCanStillBeWrittenThroughTheCreatingDescriptor()
    {
        SharedDir("/w");
        var user = User();
        int fd = user.Open("/w/ro", OpenFlags.O_CREAT | OpenFlags.O_RDWR, 0x124);
        Assert.That(user.Write(fd, new byte[] { 7 }), Is.EqualTo(1));
        user.Close(fd);
        Assert.That(ErrnoOf(() => user.Open("/w/ro", OpenFlags.O_WRONLY)), Is.EqualTo(Errno.EACCES));
    }

    [Test]
    public void OpenNeedsReadOrWritePermissionAndCapDacOverrideBypassesIt()
    {
        WriteFile(Root, "/secret", [1], 0x180);
        var user = User();
        var admin = Spawn(new Credentials(1000, 1000, Capabilities.CAP_DAC_OVERRIDE));
        var reader = Spawn(new Credentials(1000, 1000, Capabilities.CAP_DAC_READ_SEARCH));
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => user.Open("/secret", OpenFlags.O_RDONLY)), Is.EqualTo(Errno.EACCES));
            Assert.That(ErrnoOf(() => user.Open("/secret", OpenFlags.O_WRONLY)), Is.EqualTo(Errno.EACCES));
            Assert.That(admin.Open("/secret", OpenFlags.O_RDWR), Is.GreaterThanOrEqualTo(0));
            Assert.That(reader.Open("/secret", OpenFlags.O_RDONLY), Is.GreaterThanOrEqualTo(0));
            Assert.That(ErrnoOf(() => reader.Open("/secret", OpenFlags.O_WRONLY)), Is.EqualTo(Errno.EACCES));
        });
    }

    [Test]
    public void CreatingInADirectoryWithoutWritePermissionIsEacces()
    {
        var user = User();
        Assert.That(ErrnoOf(() => user.Open("/new", OpenFlags.O_CREAT | OpenFlags.O_WRONLY, Mode644)), Is.EqualTo(Errno.EACCES));
    }

    [Test]
    public void AnAppendOnlyFileOpensForWritingOnlyWithOAppendAndNeverWithOTrunc()
    {
        WriteFile(Root, "/log", [1]);
        int fd = Root.Open("/log", OpenFlags.O_RDONLY);
        Root.FsSetXattr(fd, Root.FsGetXattr(fd) with { XFlags = FsXflags.FS_XFLAG_APPEND });
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Open("/log", OpenFlags.O_WRONLY)), Is.EqualTo(Errno.EPERM));
            Assert.That(ErrnoOf(() => Root.Open("/log", OpenFlags.O_WRONLY | OpenFlags.O_APPEND | OpenFlags.O_TRUNC)), Is.EqualTo(Errno.EPERM));
            Assert.That(Root.Open("/log", OpenFlags.O_WRONLY | OpenFlags.O_APPEND), Is.GreaterThan(fd));
        });
    }

    [Test]
    public void AnImmutableFileCannotBeOpenedForWriting()
    {
        WriteFile(Root, "/f", [1]);
        int fd = Root.Open("/f", OpenFlags.O_RDONLY);
        Root.FsSetXattr(fd, Root.FsGetXattr(fd) with { XFlags = FsXflags.FS_XFLAG_IMMUTABLE });
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Open("/f", OpenFlags.O_WRONLY)), Is.EqualTo(Errno.EPERM));
            Assert.That(Root.Open("/f", OpenFlags.O_RDONLY), Is.GreaterThan(fd));
        });
    }

    [Test]
    public void ONoatimeOnSomeoneElsesFileIsEperm()
    {
        WriteFile(Root, "/f", [1]);
        var user = User();
        Assert.That(ErrnoOf(() => user.Open("/f", OpenFlags.O_RDONLY | OpenFlags.O_NOATIME)), Is.EqualTo(Errno.EPERM));
    }

    [Test]
    public void CreatIsOpenWithCreatWriteOnlyTrunc()
    {
        WriteFile(Root, "/f", Pattern(100, 2));
        int fd = Root.Creat("/f", Mode644);
        Assert.Multiple(() =>
        {
            Assert.That(Root.Fstat(fd).Size, Is.Zero);
            Assert.That(Root.Fcntl(fd, FcntlCommand.F_GETFL) & (int)OpenFlags.O_ACCMODE, Is.EqualTo((int)OpenFlags.O_WRONLY));
        });
    }

    [Test]
    public void AFailedOpenLeavesNoDescriptorBehind()
    {
        Assert.That(ErrnoOf(() => Root.Open("/missing", OpenFlags.O_RDONLY)), Is.EqualTo(Errno.ENOENT));
        Assert.Multiple(() =>
        {
            Assert.That(Root.OpenFileCount, Is.Zero);
            Assert.That(Root.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644), Is.Zero);
        });
    }

    [Test]
    public void OTruncWithReadOnlyAccessStillTruncatesButNeedsWritePermission()
    {
        WriteFile(Root, "/f", Pattern(100, 3));
        Root.Close(Root.Open("/f", OpenFlags.O_RDONLY | OpenFlags.O_TRUNC));
        Assert.That(Root.Stat("/f").Size, Is.Zero);
        WriteFile(Root, "/g", Pattern(100, 3));
        Root.Chmod("/g", 0x1A4);
        Assert.That(ErrnoOf(() => User().Open("/g", OpenFlags.O_RDONLY | OpenFlags.O_TRUNC)), Is.EqualTo(Errno.EACCES));
    }
}
