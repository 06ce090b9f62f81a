using DaxStack.Device.Errors;
using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Tests.Vfs;

/// <summary>
/// The VFS caches what lookups found, names that exist and names that do not; every namespace
/// change must be seen at once by the next lookup, whatever was cached before it.
/// </summary>
[TestFixtureSource(typeof(VfsFileSystems), nameof(VfsFileSystems.All))]
public class DentryCacheTests : VfsTestBase
{
    public DentryCacheTests(FileSystemUnderTest fs)
        : base(fs)
    {
    }

    [Test]
    public void ANameLookedUpAsMissingIsFoundOnceCreatedByOpenMkdirLinkOrRename()
    {
        Root.Mkdir("/d", Mode755);
        WriteFile(Root, "/src", [1]);
        WriteFile(Root, "/moving", [2]);
        foreach (var name in new[] { "f", "sub", "hard", "moved" })
        {
            Assert.That(ErrnoOf(() => Root.Stat($"/d/{name}")), Is.EqualTo(Errno.ENOENT), $"{name} before");
        }

        Root.Close(Root.Creat("/d/f", Mode644));
        Root.Mkdir("/d/sub", Mode755);
        Root.Link("/src", "/d/hard");
        Root.Rename("/moving", "/d/moved");
        Assert.Multiple(() =>
        {
            Assert.That(Root.Stat("/d/f").IsRegular, Is.True);
            Assert.That(Root.Stat("/d/sub").IsDirectory, Is.True);
            Assert.That(Root.Stat("/d/hard").Ino, Is.EqualTo(Root.Stat("/src").Ino));
            Assert.That(ReadFile(Root, "/d/moved"), Is.EqualTo(new byte[] { 2 }));
            Assert.That(ErrnoOf(() => Root.Stat("/moving")), Is.EqualTo(Errno.ENOENT));
        });
    }

    [Test]
    public void ANameLookedUpAsPresentIsGoneOnceUnlinkedRemovedOrRenamedAway()
    {
        Root.Mkdir("/d", Mode755);
        WriteFile(Root, "/d/f", [1]);
        Root.Mkdir("/d/sub", Mode755);
        WriteFile(Root, "/d/away", [3]);
        foreach (var name in new[] { "f", "sub", "away" })
        {
            Root.Stat($"/d/{name}");
        }

        Root.Unlink("/d/f");
        Root.Rmdir("/d/sub");
        Root.Rename("/d/away", "/elsewhere");
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Stat("/d/f")), Is.EqualTo(Errno.ENOENT));
            Assert.That(ErrnoOf(() => Root.Stat("/d/sub")), Is.EqualTo(Errno.ENOENT));
            Assert.That(ErrnoOf(() => Root.Stat("/d/away")), Is.EqualTo(Errno.ENOENT));
            Assert.That(ReadFile(Root, "/elsewhere"), Is.EqualTo(new byte[] { 3 }));
        });
    }

    [Test]
    public void AnExchangeOrAnOverwritingRenameIsSeenThroughBothCachedNames()
    {
        WriteFile(Root, "/a", [1]);
        WriteFile(Root, "/b", [2]);
        long a = Root.Stat("/a").Ino, b = Root.Stat("/b").Ino;
        Root.Rename("/a", "/b", RenameFlags.RENAME_EXCHANGE);
        Assert.Multiple(() =>
        {
            Assert.That(Root.Stat("/a").Ino, Is.EqualTo(b));
            Assert.That(Root.Stat("/b").Ino, Is.EqualTo(a));
        });
        Root.Rename("/a", "/b");
        Assert.Multiple(() =>
        {
            Assert.That(Root.Stat("/b").Ino, Is.EqualTo(b));
            Assert.That(ErrnoOf(() => Root.Stat("/a")), Is.EqualTo(Errno.ENOENT));
        });
    }

    [Test]
    public void AMovedDirectorysDotDotLeadsToItsNewParent()
    {
        Root.Mkdir("/p", Mode755);
        Root.Mkdir("/q", Mode755);
        Root.Mkdir("/p/c", Mode755);
        Assert.That(Root.Stat("/p/c/..").Ino, Is.EqualTo(Root.Stat("/p").Ino));
        Root.Rename("/p/c", "/q/c");
        Assert.That(Root.Stat("/q/c/..").Ino, Is.EqualTo(Root.Stat("/q").Ino));
    }

    [Test]
    public void MoreMissingNamesThanTheCacheKeepsDoNotHideANameCreatedLater()
    {
        Root.Mkdir("/d", Mode755);
        for (int i = 0; i < 5000; i++)
        {
            Assert.That(ErrnoOf(() => Root.Stat($"/d/n{i}")), Is.EqualTo(Errno.ENOENT));
        }

        Root.Close(Root.Creat("/d/n10", Mode644));
        Root.Close(Root.Creat("/d/n4999", Mode644));
        Assert.Multiple(() =>
        {
            Assert.That(Root.Stat("/d/n10").IsRegular, Is.True);
            Assert.That(Root.Stat("/d/n4999").IsRegular, Is.True);
            Assert.That(ErrnoOf(() => Root.Stat("/d/n11")), Is.EqualTo(Errno.ENOENT));
        });
    }
}
