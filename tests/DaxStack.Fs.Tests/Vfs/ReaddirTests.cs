using DaxStack.Device.Errors;
using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Tests.Vfs;

[TestFixtureSource(typeof(VfsFileSystems), nameof(VfsFileSystems.All))]
public class ReaddirTests : VfsTestBase
{
    public ReaddirTests(FileSystemUnderTest fs)
        : base(fs)
    {
    }

    [Test]
    public void ReaddirListsDotDotDotAndEveryNameWithInodeAndType()
    {
        Root.Mkdir("/d", Mode755);
        Root.Mkdir("/d/sub", Mode755);
        WriteFile(Root, "/d/file", [1]);
        var entries = Root.ReadDirectory("/d").ToDictionary(e => e.Name);
        Assert.Multiple(() =>
        {
            Assert.That(entries.Keys.Order(StringComparer.Ordinal), Is.EqualTo(new[] { ".", "..", "file", "sub" }));
            Assert.That(entries["."].Ino, Is.EqualTo(Root.Stat("/d").Ino));
            Assert.That(entries[".."].Ino, Is.EqualTo(Root.Stat("/").Ino));
            Assert.That(entries["sub"].Type, Is.EqualTo(DirentType.DT_DIR));
            Assert.That(entries["file"].Type, Is.EqualTo(DirentType.DT_REG));
            Assert.That(entries["file"].Ino, Is.EqualTo(Root.Stat("/d/file").Ino));
        });
    }

    [Test]
    public void GetdentsResumesWhereItStoppedAndReturnsZeroAtTheEnd()
    {
        Root.Mkdir("/d", Mode755);
        for (int i = 0; i < 50; i++)
        {
            WriteFile(Root, $"/d/f{i}", [(byte)i]);
        }

        int fd = Root.Open("/d", OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY);
        var names = new List<string>();
        var buffer = new DirEntry[7];
        int n;
        while ((n = Root.Getdents(fd, buffer)) > 0)
        {
            names.AddRange(buffer.Take(n).Select(e => e.Name));
        }

        Assert.Multiple(() =>
        {
            Assert.That(names, Has.Count.EqualTo(52));
            Assert.That(names.Distinct().Count(), Is.EqualTo(52));
            Assert.That(Root.Getdents(fd, buffer), Is.Zero);
        });
    }

    [Test]
    public void SeekingToAnEntrysOffsetResumesAfterIt()
    {
        Root.Mkdir("/d", Mode755);
        for (int i = 0; i < 5; i++)
        {
            WriteFile(Root, $"/d/f{i}", [1]);
        }

        int fd = Root.Open("/d", OpenFlags.O_RDONLY);
        var first = new DirEntry[3];
        Root.Getdents(fd, first);
        var rest = new DirEntry[16];
        int n = Root.Getdents(fd, rest);
        Root.Lseek(fd, first[2].Off, SeekWhence.SEEK_SET);
        var again = new DirEntry[16];
        int m = Root.Getdents(fd, again);
        Assert.Multiple(() =>
        {
            Assert.That(m, Is.EqualTo(n));
            Assert.That(again.Take(m).Select(e => e.Name), Is.EqualTo(rest.Take(n).Select(e => e.Name)));
        });
    }

    [Test]
    public void GetdentsOnAFileIsEnotdirAndWithNoRoomEinval()
    {
        WriteFile(Root, "/f", [1]);
        int f = Root.Open("/f", OpenFlags.O_RDONLY);
        int d = Root.Open("/", OpenFlags.O_RDONLY);
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => Root.Getdents(f, new DirEntry[4])), Is.EqualTo(Errno.ENOTDIR));
            Assert.That(ErrnoOf(() => Root.Getdents(d, Span<DirEntry>.Empty)), Is.EqualTo(Errno.EINVAL));
            Assert.That(ErrnoOf(() => Root.Getdents(d + 7, new DirEntry[4])), Is.EqualTo(Errno.EBADF));
        });
    }

    [Test]
    public void ReadingADirectoryNeedsReadPermission()
    {
        Root.Mkdir("/d", 0x1C0);
        Assert.That(ErrnoOf(() => User().ReadDirectory("/d")), Is.EqualTo(Errno.EACCES));
    }

    [Test]
    public void EntriesRemovedDuringAScanAreNotReturnedAndOthersAreNotRepeated()
    {
        Root.Mkdir("/d", Mode755);
        for (int i = 0; i < 10; i++)
        {
            WriteFile(Root, $"/d/f{i}", [1]);
        }

        int fd = Root.Open("/d", OpenFlags.O_RDONLY);
        var buffer = new DirEntry[4];
        var seen = new List<string>();
        int n = Root.Getdents(fd, buffer);
        seen.AddRange(buffer.Take(n).Select(e => e.Name));
        foreach (var name in new[] { "f5", "f6" })
        {
            Root.Unlink("/d/" + name);
        }

        while ((n = Root.Getdents(fd, buffer)) > 0)
        {
            seen.AddRange(buffer.Take(n).Select(e => e.Name));
        }

        Assert.Multiple(() =>
        {
            Assert.That(seen, Does.Not.Contain("f5").And.Not.Contain("f6"));
            Assert.That(seen.Distinct().Count(), Is.EqualTo(seen.Count));
            Assert.That(seen, Has.Count.EqualTo(10));
        });
    }
}
