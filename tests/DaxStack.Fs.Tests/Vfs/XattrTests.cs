using System.Text;
using DaxStack.Device.Errors;
using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Tests.Vfs;

[TestFixtureSource(typeof(VfsFileSystems), nameof(VfsFileSystems.All))]
public class XattrTests : VfsTestBase
{
    public XattrTests(FileSystemUnderTest fs)
        : base(fs)
    {
    }

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static long ToNs(Timespec t) => (t.Seconds * 1_000_000_000) + t.Nanoseconds;

    [TestCase("user.colour")]
    [TestCase("trusted.seal")]
    [TestCase("security.label")]
    public void ASetAttributeIsReadBackByPathAndByFd(string name)
    {
        WriteFile(Root, "/f", [1, 2, 3]);
        Root.SetXattr("/f", name, B("blue"));
        int fd = Root.Open("/f", OpenFlags.O_RDONLY);
        var buffer = new byte[16];
        int n = Root.FGetXattr(fd, name, buffer);
        Assert.Multiple(() =>
        {
            Assert.That(Root.GetXattrValue("/f", name), Is.EqualTo(B("blue")));
            Assert.That(buffer.AsSpan(0, n).ToArray(), Is.EqualTo(B("blue")));
            Assert.That(ReadFile(Root, "/f"), Is.EqualTo(new byte[] { 1, 2, 3 }), "the data is untouched");
        });
    }

    [Test]
    public void AnEmptyValueIsAValue()
    {
        WriteFile(Root, "/f", []);
        Root.SetXattr("/f", "user.empty", []);
        Assert.Multiple(() =>
        {
            Assert.That(Root.GetXattr("/f", "user.empty", []), Is.Zero);
            Assert.That(Root.ListXattrNames("/f"), Is.EqualTo(new[] { "user.empty" }));
        });
    }

    [Test]
    public void AnEmptyBufferProbesTheSizeAndASmallOneIsErange()
    {
        WriteFile(Root, "/f", []);
        Root.SetXattr("/f", "user.a", B("0123456789"));
        Assert.Multiple(() =>
        {
            Assert.That(Root.GetXattr("/f", "user.a", []), Is.EqualTo(10));
            Assert.That(ErrnoOf(() => Root.GetXattr("/f", "user.a", new byte[9])), Is.EqualTo(Errno.ERANGE));
            Assert.That(Root.GetXattr("/f", "user.a", new byte[10]), Is.EqualTo(10));
            Assert.That(Root.ListXattr("/f", []), Is.EqualTo(7));
            Assert.That(ErrnoOf(() => Root.ListXattr("/f", new byte[6])), Is.EqualTo(Errno.ERANGE));
        });
    }

    [Test]
    public void ListGivesNulTerminatedFullNamesInEveryNamespace()
    {
        WriteFile(Root, "/f", []);
        Root.SetXattr("/f", "user.one", B("1"));
        Root.SetXattr("/f", "trusted.two", B("2"));
        Root.SetXattr("/f", "security.three", B("3"));
        int fd = Root.Open("/f", OpenFlags.O_RDONLY);
        var buffer = new byte[100];
        int n = Root.FListXattr(fd, buffer);
        Assert.Multiple(() =>
        {
            Assert.That(Encoding.UTF8.GetString(buffer, 0, n).Split('\0', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal),
                Is.EqualTo(new[] { "security.three", "trusted.two", "user.one" }));
            Assert.That(buffer[n - 1], Is.Zero, "the last name ends with a NUL");
            Assert.That(n, Is.EqualTo("user.one".Length + "trusted.two".Length + "security.three".Length + 3));
        });
    }

    [Test]
    public void TheSameNameInTwoNamespacesIsTwoAttributes()
    {
        WriteFile(Root, "/f", []);
        Root.SetXattr("/f", "user.x", B("u"));
        Root.SetXattr("/f", "trusted.x", B("t"));
        Root.RemoveXattr("/f", "user.x");
        Assert.Multiple(() =>
        {
            Assert.That(Root.GetXattrValue("/f", "trusted.x"), Is.EqualTo(B("t")));
            Assert.That(ErrnoOf(() => Root.GetXattr("/f", "user.x", [])), Is.EqualTo(Errno.ENODATA));
        });
    }

    [Test]
    public void ReplaceCreateAndRemoveFollowTheirFlags()
    {
        WriteFile(Root, "/f", []);
        Assert.That(ErrnoOf(() => Root.SetXattr("/f", "user.a", B("x"), XattrFlags.XATTR_REPLACE)), Is.EqualTo(Errno.ENODATA));
        Root.SetXattr("/f", "user.a", B("first"), XattrFlags.XATTR_CREATE);
        Assert.That(ErrnoOf(() => Root.SetXattr("/f", "user.a", B("again"), XattrFlags.XATTR_CREATE)), Is.EqualTo(Errno.EEXIST));
        Root.SetXattr("/f", "user.a", B("second, longer"), XattrFlags.XATTR_REPLACE);
        Assert.That(Root.GetXattrValue("/f", "user.a"), Is.EqualTo(B("second, longer")));
        Root.SetXattr("/f", "user.a", B("3"));
        Assert.That(Root.GetXattrValue("/f", "user.a"), Is.EqualTo(B("3")));
        Root.RemoveXattr("/f", "user.a");
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.GetXattr("/f", "user.a", [])), Is.EqualTo(Errno.ENODATA));
            Assert.That(ErrnoOf(() => Root.RemoveXattr("/f", "user.a")), Is.EqualTo(Errno.ENODATA));
            Assert.That(Root.ListXattr("/f", []), Is.Zero);
            Assert.That(ErrnoOf(() => Root.SetXattr("/f", "user.a", B("x"), (XattrFlags)4)), Is.EqualTo(Errno.EINVAL));
            Assert.That(ErrnoOf(() => Root.SetXattr("/f", "user.a", B("x"), XattrFlags.XATTR_CREATE | (XattrFlags)8)), Is.EqualTo(Errno.EINVAL));
        });
    }

    [Test]
    public void BadNamesAndSizesGetTheirErrnos()
    {
        WriteFile(Root, "/f", []);
        string longName = "user." + new string('n', 251);
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.SetXattr("/f", "", B("x"))), Is.EqualTo(Errno.ERANGE));
            Assert.That(ErrnoOf(() => Root.GetXattr("/f", "", [])), Is.EqualTo(Errno.ERANGE));
            Assert.That(ErrnoOf(() => Root.SetXattr("/f", longName, B("x"))), Is.EqualTo(Errno.ERANGE));
            Assert.That(ErrnoOf(() => Root.GetXattr("/f", longName, [])), Is.EqualTo(Errno.ERANGE));
            Assert.That(ErrnoOf(() => Root.RemoveXattr("/f", longName)), Is.EqualTo(Errno.ERANGE));
            Assert.That(ErrnoOf(() => Root.SetXattr("/f", "system.posix_acl_access", B("x"))), Is.EqualTo(Errno.EOPNOTSUPP));
            Assert.That(ErrnoOf(() => Root.GetXattr("/f", "system.posix_acl_access", [])), Is.EqualTo(Errno.EOPNOTSUPP));
            Assert.That(ErrnoOf(() => Root.SetXattr("/f", "colour", B("x"))), Is.EqualTo(Errno.EOPNOTSUPP));
            Assert.That(ErrnoOf(() => Root.SetXattr("/f", "user.", B("x"))), Is.EqualTo(Errno.EINVAL));
            Assert.That(ErrnoOf(() => Root.SetXattr("/f", "user.big", new byte[XattrNames.SizeMax + 1])), Is.EqualTo(Errno.E2BIG));
            Assert.That(ErrnoOf(() => Root.GetXattr("/nope", "user.a", [])), Is.EqualTo(Errno.ENOENT));
            Assert.That(ErrnoOf(() => Root.FSetXattr(99, "user.a", B("x"))), Is.EqualTo(Errno.EBADF));
        });
    }

    [Test]
    public void ANameEndsAtItsFirstNul()
    {
        WriteFile(Root, "/f", []);
        Root.SetXattr("/f", "user.a\0ignored", B("v"));
        Assert.Multiple(() =>
        {
            Assert.That(Root.ListXattrNames("/f"), Is.EqualTo(new[] { "user.a" }));
            Assert.That(ErrnoOf(() => Root.SetXattr("/f", "\0user.a", B("v"))), Is.EqualTo(Errno.ERANGE));
        });
    }

    [Test]
    public void TrustedAndSecurityWritesNeedCapSysAdminAndTrustedIsHiddenWithoutIt()
    {
        SharedDir("/w");
        var user = User();
        WriteFile(user, "/w/f", []);
        Root.SetXattr("/w/f", "trusted.t", B("t"));
        Root.SetXattr("/w/f", "security.s", B("s"));
        user.SetXattr("/w/f", "user.u", B("u"));
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => user.SetXattr("/w/f", "trusted.t", B("x"))), Is.EqualTo(Errno.EPERM));
            Assert.That(ErrnoOf(() => user.RemoveXattr("/w/f", "trusted.t")), Is.EqualTo(Errno.EPERM));
            Assert.That(ErrnoOf(() => user.GetXattr("/w/f", "trusted.t", [])), Is.EqualTo(Errno.ENODATA));
            Assert.That(ErrnoOf(() => user.SetXattr("/w/f", "security.s", B("x"))), Is.EqualTo(Errno.EPERM));
            Assert.That(user.GetXattrValue("/w/f", "security.s"), Is.EqualTo(B("s")));
            Assert.That(user.ListXattrNames("/w/f").Order(StringComparer.Ordinal), Is.EqualTo(new[] { "security.s", "user.u" }));
            Assert.That(Root.ListXattrNames("/w/f").Order(StringComparer.Ordinal), Is.EqualTo(new[] { "security.s", "trusted.t", "user.u" }));
        });
    }

    [Test]
    public void UserAttributesFollowThePermissionBits()
    {
        WriteFile(Root, "/f", []);
        Root.SetXattr("/f", "user.a", B("v"));
        Root.Chmod("/f", 0x100);
        var user = User();
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => user.SetXattr("/f", "user.a", B("x"))), Is.EqualTo(Errno.EACCES));
            Assert.That(ErrnoOf(() => user.RemoveXattr("/f", "user.a")), Is.EqualTo(Errno.EACCES));
            Assert.That(ErrnoOf(() => user.GetXattr("/f", "user.a", [])), Is.EqualTo(Errno.EACCES));
            Assert.That(user.ListXattrNames("/f"), Is.EqualTo(new[] { "user.a" }), "listing needs no permission on the file");
        });
        Root.Chmod("/f", 0x1B6);
        user.SetXattr("/f", "user.a", B("x"));
        Assert.That(user.GetXattrValue("/f", "user.a"), Is.EqualTo(B("x")));
    }

    [Test]
    public void OnlyTheOwnerWritesUserAttributesOfAStickyDirectory()
    {
        Root.Mkdir("/t", Mode777);
        Root.Chmod("/t", Mode777 | InodeMode.S_ISVTX);
        var user = User();
        Assert.That(ErrnoOf(() => user.SetXattr("/t", "user.a", B("x"))), Is.EqualTo(Errno.EPERM));
        Root.SetXattr("/t", "user.a", B("x"));
        Assert.That(user.GetXattrValue("/t", "user.a"), Is.EqualTo(B("x")));
    }

    [Test]
    public void ImmutableAndAppendOnlyInodesRefuseChangesWithEperm()
    {
        WriteFile(Root, "/f", []);
        Root.SetXattr("/f", "user.a", B("v"));
        int fd = Root.Open("/f", OpenFlags.O_RDONLY);
        Root.FsSetXattr(fd, Root.FsGetXattr(fd) with { XFlags = FsXflags.FS_XFLAG_IMMUTABLE });
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.SetXattr("/f", "user.b", B("x"))), Is.EqualTo(Errno.EPERM));
            Assert.That(ErrnoOf(() => Root.FRemoveXattr(fd, "user.a")), Is.EqualTo(Errno.EPERM));
            Assert.That(Root.GetXattrValue("/f", "user.a"), Is.EqualTo(B("v")));
        });
        Root.FsSetXattr(fd, Root.FsGetXattr(fd) with { XFlags = FsXflags.FS_XFLAG_APPEND });
        Assert.That(ErrnoOf(() => Root.SetXattr("/f", "trusted.b", B("x"))), Is.EqualTo(Errno.EPERM));
    }

    [Test]
    public void AReadOnlyMountRefusesChangesWithErofsButReads()
    {
        var fs = NewFileSystem();
        Root.Mkdir("/mnt", Mode755);
        Root.Mount(fs, "/mnt");
        WriteFile(Root, "/mnt/f", []);
        Root.SetXattr("/mnt/f", "user.a", B("v"));
        Root.Umount("/mnt");
        Root.Mount(fs, "/mnt", readOnly: true);
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.SetXattr("/mnt", "user.a", B("x"))), Is.EqualTo(Errno.EROFS));
            Assert.That(ErrnoOf(() => Root.RemoveXattr("/mnt", "user.a")), Is.EqualTo(Errno.EROFS));
        });
    }

    [Test]
    public void SetAndRemoveMoveTheChangeTime()
    {
        WriteFile(Root, "/f", []);
        var before = Root.Stat("/f");
        Thread.Sleep(2);
        Root.SetXattr("/f", "user.a", B("v"));
        var afterSet = Root.Stat("/f");
        Thread.Sleep(2);
        Root.RemoveXattr("/f", "user.a");
        var afterRemove = Root.Stat("/f");
        Assert.Multiple(() =>
        {
            Assert.That(ToNs(afterSet.Ctime), Is.GreaterThan(ToNs(before.Ctime)));
            Assert.That(ToNs(afterRemove.Ctime), Is.GreaterThan(ToNs(afterSet.Ctime)));
            Assert.That(afterRemove.Mtime, Is.EqualTo(before.Mtime), "the data did not change");
        });
    }

    [Test]
    public void FsGetXattrReportsHasAttrWhileTheInodeHasAttributes()
    {
        WriteFile(Root, "/f", []);
        int fd = Root.Open("/f", OpenFlags.O_RDONLY);
        Assert.That(Root.FsGetXattr(fd).XFlags & FsXflags.FS_XFLAG_HASATTR, Is.EqualTo(FsXflags.None));
        Root.FSetXattr(fd, "user.a", B("v"));
        Assert.That(Root.FsGetXattr(fd).XFlags & FsXflags.FS_XFLAG_HASATTR, Is.EqualTo(FsXflags.FS_XFLAG_HASATTR));
        Root.FRemoveXattr(fd, "user.a");
        Assert.That(Root.FsGetXattr(fd).XFlags & FsXflags.FS_XFLAG_HASATTR, Is.EqualTo(FsXflags.None));
    }

    [Test]
    public void DirectoriesHaveAttributesAndKeepThemAsTheyGrowAndShrink()
    {
        Root.Mkdir("/d", Mode755);
        Root.SetXattr("/d", "user.dir", B("d"));
        Root.SetXattr("/d", "trusted.dir", B("t"));
        // Enough names to take the directory from short form to block and leaf form.
        var names = Enumerable.Range(0, 300).Select(i => $"entry-with-a-long-name-{i:D4}").ToArray();
        foreach (var n in names)
            WriteFile(Root, "/d/" + n, []);
        Root.SetXattr("/d", "user.later", B("l"));
        Assert.Multiple(() =>
        {
            Assert.That(Names(Root, "/d").Length, Is.EqualTo(names.Length + 2));
            Assert.That(Root.GetXattrValue("/d", "user.dir"), Is.EqualTo(B("d")));
            Assert.That(Root.GetXattrValue("/d", "trusted.dir"), Is.EqualTo(B("t")));
            Assert.That(Root.GetXattrValue("/d", "user.later"), Is.EqualTo(B("l")));
        });
        foreach (var n in names)
            Root.Unlink("/d/" + n);
        Assert.Multiple(() =>
        {
            Assert.That(Names(Root, "/d"), Is.EqualTo(new[] { ".", ".." }));
            Assert.That(Root.ListXattrNames("/d").Order(StringComparer.Ordinal), Is.EqualTo(new[] { "trusted.dir", "user.dir", "user.later" }));
        });
        Root.RemoveXattr("/d", "user.dir");
        Root.RemoveXattr("/d", "trusted.dir");
        Root.RemoveXattr("/d", "user.later");
        Root.Rmdir("/d");
        Assert.That(ErrnoOf(() => Root.Stat("/d")), Is.EqualTo(Errno.ENOENT));
    }

    [Test]
    public void AShortFormDirectoryTakingItsFirstAttributeKeepsEveryName()
    {
        Root.Mkdir("/d", Mode755);
        // About 300 bytes of short-form entries: more than the data fork keeps beside an attr fork.
        var names = Enumerable.Range(0, 12).Select(i => $"name-number-{i:D2}").ToArray();
        foreach (var n in names)
            WriteFile(Root, "/d/" + n, []);
        Root.SetXattr("/d", "user.a", B("value"));
        WriteFile(Root, "/d/one-more", []);
        Assert.Multiple(() =>
        {
            Assert.That(Names(Root, "/d"), Is.EqualTo(names.Append("one-more").Append(".").Append("..").Order(StringComparer.Ordinal).ToArray()));
            Assert.That(Root.GetXattrValue("/d", "user.a"), Is.EqualTo(B("value")));
        });
    }

    [Test]
    public void AFileWhoseBlockMapGrowsToABtreeKeepsItsAttributesAndData()
    {
        int fd = Root.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
        Root.FSetXattr(fd, "user.before", B("b"));
        Root.FSetXattr(fd, "trusted.seal", B("1"));
        // Every other block written: one extent each, far more than the inode holds.
        var block = Pattern(4096, 9);
        for (int i = 0; i < 80; i++)
            Root.Pwrite(fd, block, (long)i * 2 * 4096);
        Root.FSetXattr(fd, "user.after", B("a"));
        var back = new byte[4096];
        Root.Pread(fd, back, 78L * 4096);
        Assert.Multiple(() =>
        {
            Assert.That(back, Is.EqualTo(block));
            Assert.That(Root.FsGetXattr(fd).NExtents, Is.EqualTo(80u));
            Assert.That(Root.GetXattrValue("/f", "user.before"), Is.EqualTo(B("b")));
            Assert.That(Root.GetXattrValue("/f", "trusted.seal"), Is.EqualTo(B("1")));
            Assert.That(Root.GetXattrValue("/f", "user.after"), Is.EqualTo(B("a")));
        });
        Root.Ftruncate(fd, 0);
        Root.FRemoveXattr(fd, "user.before");
        Assert.That(Root.ListXattrNames("/f").Order(StringComparer.Ordinal), Is.EqualTo(new[] { "trusted.seal", "user.after" }));
    }

    [Test]
    public void AFileWithManyExtentsTakingItsFirstAttributeKeepsItsData()
    {
        int fd = Root.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
        var block = Pattern(4096, 4);
        // 20 extents fill more of the inode than the data fork keeps beside an attr fork.
        for (int i = 0; i < 20; i++)
            Root.Pwrite(fd, block, (long)i * 2 * 4096);
        Root.FSetXattr(fd, "user.a", B("v"));
        var back = new byte[4096];
        Root.Pread(fd, back, 38L * 4096);
        Assert.Multiple(() =>
        {
            Assert.That(back, Is.EqualTo(block));
            Assert.That(Root.FsGetXattr(fd).NExtents, Is.EqualTo(20u));
            Assert.That(Root.GetXattrValue("/f", "user.a"), Is.EqualTo(B("v")));
        });
    }

    [Test]
    public void AttributesAddUpToTheFilesystemsLimitThenEnospcChangesNothing()
    {
        WriteFile(Root, "/f", []);
        var set = new List<string>();
        Errno? failure = null;
        for (int i = 0; i < 10000 && failure == null; i++)
        {
            string name = $"user.attr{i:D4}";
            try
            {
                Root.SetXattr("/f", name, B($"value-{i:D4}"));
                set.Add(name);
            }
            catch (ErrnoException e)
            {
                failure = e.Errno;
            }
        }

        Assert.That(failure, Is.EqualTo(Errno.ENOSPC));
        Assert.That(set, Is.Not.Empty);
        Assert.Multiple(() =>
        {
            Assert.That(Root.ListXattrNames("/f"), Is.EquivalentTo(set));
            for (int i = 0; i < set.Count; i++)
                Assert.That(Root.GetXattrValue("/f", set[i]), Is.EqualTo(B($"value-{i:D4}")));
        });
        // Removing one makes room for another.
        Root.RemoveXattr("/f", set[0]);
        Root.SetXattr("/f", "user.again", B("value-0000"));
        Assert.That(Root.GetXattrValue("/f", "user.again"), Is.EqualTo(B("value-0000")));
    }

    [Test]
    public void AFreedInodeTakesItsAttributesWithIt()
    {
        for (int round = 0; round < 3; round++)
        {
            WriteFile(Root, "/f", [(byte)round]);
            Assert.That(Root.ListXattr("/f", []), Is.Zero, $"round {round}: a new file has no attributes");
            Root.SetXattr("/f", "user.a", B("v"));
            Root.SetXattr("/f", "trusted.b", B("w"));
            Root.Unlink("/f");
        }

        Root.Mkdir("/d", Mode755);
        Root.SetXattr("/d", "user.d", B("v"));
        Root.Rmdir("/d");
        Root.Mkdir("/d", Mode755);
        Assert.That(Root.ListXattr("/d", []), Is.Zero);
    }

    [Test]
    public void AnOpenUnlinkedFileKeepsItsAttributesUntilClosed()
    {
        WriteFile(Root, "/f", []);
        Root.SetXattr("/f", "user.a", B("v"));
        int fd = Root.Open("/f", OpenFlags.O_RDWR);
        Root.Unlink("/f");
        var buffer = new byte[4];
        Assert.That(Root.FGetXattr(fd, "user.a", buffer), Is.EqualTo(1));
        Root.FSetXattr(fd, "user.b", B("w"));
        Assert.That(Root.FListXattr(fd, []), Is.EqualTo("user.a".Length + "user.b".Length + 2));
        Root.Close(fd);
        WriteFile(Root, "/g", []);
        Assert.That(Root.ListXattr("/g", []), Is.Zero);
    }
}
