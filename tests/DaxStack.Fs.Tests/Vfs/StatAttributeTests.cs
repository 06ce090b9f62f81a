using DaxStack.Device.Errors;
using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Tests.Vfs;

[TestFixtureSource(typeof(VfsFileSystems), nameof(VfsFileSystems.All))]
public class StatAttributeTests : VfsTestBase
{
    public StatAttributeTests(FileSystemUnderTest fs)
        : base(fs)
    {
    }

    [Test]
    public void StatReportsTypeSizeLinksOwnerAndBlocks()
    {
        SharedDir("/w");
        var user = User(1000, 100);
        WriteFile(user, "/w/f", Pattern(10000, 3));
        var st = user.Stat("/w/f");
        Assert.Multiple(() =>
        {
            Assert.That(st.IsRegular, Is.True);
            Assert.That(st.Size, Is.EqualTo(10000));
            Assert.That(st.Nlink, Is.EqualTo(1u));
            Assert.That(st.Uid, Is.EqualTo(1000u));
            Assert.That(st.Gid, Is.EqualTo(100u));
            Assert.That(st.Blocks * 512, Is.GreaterThanOrEqualTo(10000));
            Assert.That(st.Blksize, Is.EqualTo(Tree.RootMount.Sb.BlockSize));
            Assert.That(st.Dev, Is.EqualTo(user.Stat("/").Dev));
        });
    }

    [Test]
    public void FstatAndStatAgree()
    {
        WriteFile(Root, "/f", [1, 2]);
        int fd = Root.Open("/f", OpenFlags.O_RDONLY);
        Assert.That(Root.Fstat(fd), Is.EqualTo(Root.Stat("/f")));
        Assert.That(ErrnoOf(() => Root.Fstat(fd + 3)), Is.EqualTo(Errno.EBADF));
    }

    [Test]
    public void ASparseFileUsesFewerBlocksThanItsSize()
    {
        int fd = Root.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_RDWR, Mode644);
        Root.Pwrite(fd, new byte[1], 100 << 20);
        Assert.That(Root.Fstat(fd).Blocks * 512, Is.LessThan(1 << 20));
    }

    [Test]
    public void ChmodChangesThePermissionBitsOnlyForTheOwnerOrCapFowner()
    {
        WriteFile(Root, "/f", [1]);
        Root.Chmod("/f", 0x100);
        Assert.That(Root.Stat("/f").Mode, Is.EqualTo(InodeMode.S_IFREG | 0x100));
        var user = User();
        var fowner = Spawn(new Credentials(1000, 1000, Capabilities.CAP_FOWNER));
        Assert.That(ErrnoOf(() => user.Chmod("/f", Mode777)), Is.EqualTo(Errno.EPERM));
        fowner.Chmod("/f", Mode644);
        Assert.That(Root.Stat("/f").Mode & InodeMode.S_IALLUGO, Is.EqualTo(Mode644));
    }

    [Test]
    public void ChownOfTheOwnerNeedsCapChownAndAGroupChangeNeedsMembership()
    {
        SharedDir("/w");
        var user = User(1000, 1000);
        WriteFile(user, "/w/f", [1]);
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => user.Chown("/w/f", 0, uint.MaxValue)), Is.EqualTo(Errno.EPERM));
            Assert.That(ErrnoOf(() => user.Chown("/w/f", uint.MaxValue, 0)), Is.EqualTo(Errno.EPERM));
        });
        user.Chown("/w/f", 1000, 1000);
        Root.Chown("/w/f", 5, 6);
        var st = Root.Stat("/w/f");
        Assert.Multiple(() =>
        {
            Assert.That(st.Uid, Is.EqualTo(5u));
            Assert.That(st.Gid, Is.EqualTo(6u));
        });
    }

    [Test]
    public void ChownClearsSetuid()
    {
        WriteFile(Root, "/f", [1], Mode755);
        Root.Chmod("/f", Mode755 | InodeMode.S_ISUID);
        Root.Chown("/f", 7, 7);
        Assert.That(Root.Stat("/f").Mode & InodeMode.S_ISUID, Is.Zero);
    }

    [Test]
    public void StatfsReportsTheFilesystemAndItsFreeSpaceShrinksWithData()
    {
        var before = Root.Statfs("/");
        WriteFile(Root, "/f", new byte[1 << 20]);
        var after = Root.Statfs("/");
        Assert.Multiple(() =>
        {
            Assert.That(after.Type, Is.EqualTo(before.Type));
            Assert.That(after.NameLength, Is.EqualTo(255));
            Assert.That(after.BlocksFree, Is.LessThan(before.BlocksFree));
            Assert.That(after.Flags & StatFs.ST_RDONLY, Is.Zero);
            Assert.That(ErrnoOf(() => Root.Statfs("/missing")), Is.EqualTo(Errno.ENOENT));
        });
    }
}
