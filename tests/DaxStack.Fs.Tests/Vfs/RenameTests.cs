using DaxStack.Device.Errors;
using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Tests.Vfs;

[TestFixtureSource(typeof(VfsFileSystems), nameof(VfsFileSystems.All))]
public class RenameTests : VfsTestBase
{
    public RenameTests(FileSystemUnderTest fs)
        : base(fs)
    {
    }

    [Test]
    public void RenameMovesAFileAndReplacesAnExistingOne()
    {
        WriteFile(Root, "/a", [1]);
        WriteFile(Root, "/b", [2]);
        Root.Rename("/a", "/b");
        Assert.Multiple(() =>
        {
            Assert.That(ReadFile(Root, "/b"), Is.EqualTo(new byte[] { 1 }));
            Assert.That(ErrnoOf(() => Root.Stat("/a")), Is.EqualTo(Errno.ENOENT));
        });
    }

    [Test]
    public void RenameMovesADirectoryAndFixesTheLinkCounts()
    {
        Root.Mkdir("/p", Mode755);
        Root.Mkdir("/q", Mode755);
        Root.Mkdir("/p/d", Mode755);
        Root.Rename("/p/d", "/q/d");
        Assert.Multiple(() =>
        {
            Assert.That(Root.Stat("/p").Nlink, Is.EqualTo(2u));
            Assert.That(Root.Stat("/q").Nlink, Is.EqualTo(3u));
            Assert.That(Root.Stat("/q/d/..").Ino, Is.EqualTo(Root.Stat("/q").Ino));
        });
    }

    [Test]
    public void RenameOfADirectoryOverAnEmptyDirectoryReplacesItAndOverANonEmptyOneIsEnotempty()
    {
        Root.Mkdir("/a", Mode755);
        Root.Mkdir("/b", Mode755);
        Root.Mkdir("/c", Mode755);
        WriteFile(Root, "/c/f", [1]);
        Assert.That(ErrnoOf(() => Root.Rename("/a", "/c")), Is.EqualTo(Errno.ENOTEMPTY));
        long aIno = Root.Stat("/a").Ino;
        Root.Rename("/a", "/b");
        Assert.That(Root.Stat("/b").Ino, Is.EqualTo(aIno));
    }

    [Test]
    public void RenameBetweenAFileAndADirectoryIsEisdirOrEnotdir()
    {
        Root.Mkdir("/d", Mode755);
        WriteFile(Root, "/f", [1]);
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Rename("/f", "/d")), Is.EqualTo(Errno.EISDIR));
            Assert.That(ErrnoOf(() => Root.Rename("/d", "/f")), Is.EqualTo(Errno.ENOTDIR));
            Assert.That(ErrnoOf(() => Root.Rename("/f/", "/g")), Is.EqualTo(Errno.ENOTDIR));
            Assert.That(ErrnoOf(() => Root.Rename("/f", "/g/")), Is.EqualTo(Errno.ENOTDIR));
        });
    }

    [Test]
    public void MovingADirectoryUnderItselfIsEinvalAndOverItsAncestorEnotempty()
    {
        Root.Mkdir("/a", Mode755);
        Root.Mkdir("/a/b", Mode755);
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Rename("/a", "/a/b/c")), Is.EqualTo(Errno.EINVAL));
            Assert.That(ErrnoOf(() => Root.Rename("/a", "/a/c")), Is.EqualTo(Errno.EINVAL));
            Assert.That(ErrnoOf(() => Root.Rename("/a/b", "/a")), Is.EqualTo(Errno.ENOTEMPTY));
        });
    }

    [Test]
    public void RenameOfMissingSourceIsEnoentAndOfDotsIsEbusy()
    {
        Root.Mkdir("/d", Mode755);
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Rename("/missing", "/x")), Is.EqualTo(Errno.ENOENT));
            Assert.That(ErrnoOf(() => Root.Rename("/d/.", "/x")), Is.EqualTo(Errno.EBUSY));
            Assert.That(ErrnoOf(() => Root.Rename("/d", "/d/..")), Is.EqualTo(Errno.EBUSY));
            Assert.That(ErrnoOf(() => Root.Rename("/", "/x")), Is.EqualTo(Errno.EBUSY));
        });
    }

    [Test]
    public void NoreplaceRefusesAnExistingTarget()
    {
        WriteFile(Root, "/a", [1]);
        WriteFile(Root, "/b", [2]);
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Rename("/a", "/b", RenameFlags.RENAME_NOREPLACE)), Is.EqualTo(Errno.EEXIST));
            Assert.That(ErrnoOf(() => Root.Rename("/a", "/", RenameFlags.RENAME_NOREPLACE)), Is.EqualTo(Errno.EEXIST));
        });
        Root.Rename("/a", "/c", RenameFlags.RENAME_NOREPLACE);
        Assert.That(ReadFile(Root, "/c"), Is.EqualTo(new byte[] { 1 }));
    }

    [Test]
    public void ExchangeSwapsTwoNamesEvenOfDifferentTypes()
    {
        Root.Mkdir("/p", Mode755);
        Root.Mkdir("/p/d", Mode755);
        WriteFile(Root, "/f", [7]);
        uint rootLinks = Root.Stat("/").Nlink;
        Root.Rename("/f", "/p/d", RenameFlags.RENAME_EXCHANGE);
        Assert.Multiple(() =>
        {
            Assert.That(Root.Stat("/f").IsDirectory, Is.True);
            Assert.That(ReadFile(Root, "/p/d"), Is.EqualTo(new byte[] { 7 }));
            Assert.That(Root.Stat("/f/..").Ino, Is.EqualTo(Root.Stat("/").Ino));
            Assert.That(Root.Stat("/").Nlink, Is.EqualTo(rootLinks + 1));
            Assert.That(Root.Stat("/p").Nlink, Is.EqualTo(2u));
        });
    }

    [Test]
    public void ExchangeWithAMissingTargetIsEnoentAndInvalidFlagCombinationsEinval()
    {
        WriteFile(Root, "/a", [1]);
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Rename("/a", "/b", RenameFlags.RENAME_EXCHANGE)), Is.EqualTo(Errno.ENOENT));
            Assert.That(ErrnoOf(() => Root.Rename("/a", "/b", RenameFlags.RENAME_EXCHANGE | RenameFlags.RENAME_NOREPLACE)), Is.EqualTo(Errno.EINVAL));
            Assert.That(ErrnoOf(() => Root.Rename("/a", "/b", (RenameFlags)8)), Is.EqualTo(Errno.EINVAL));
            Assert.That(ErrnoOf(() => User().Rename("/a", "/b", RenameFlags.RENAME_WHITEOUT)), Is.EqualTo(Errno.EPERM));
        });
    }

    [Test]
    public void RenamingOneHardLinkOverAnotherOfTheSameInodeDoesNothing()
    {
        WriteFile(Root, "/a", [1]);
        Root.Link("/a", "/b");
        Root.Rename("/a", "/b");
        Assert.Multiple(() =>
        {
            Assert.That(Root.Stat("/a").Nlink, Is.EqualTo(2u));
            Assert.That(Root.Stat("/b").Ino, Is.EqualTo(Root.Stat("/a").Ino));
        });
    }

    [Test]
    public void RenameNeedsWritePermissionOnBothDirectories()
    {
        SharedDir("/w");
        WriteFile(Root, "/f", [1]);
        var user = User();
        Assert.That(ErrnoOf(() => user.Rename("/f", "/w/f")), Is.EqualTo(Errno.EACCES));
    }
}
