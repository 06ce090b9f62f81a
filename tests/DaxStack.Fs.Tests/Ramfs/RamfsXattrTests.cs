using DaxStack.Device.Errors;
using DaxStack.Fs.Ramfs;
using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Tests.Ramfs;

/// <summary>ramfs's per-inode attribute budget, and the listxattr limits a large budget lets a test reach.</summary>
public class RamfsXattrTests : RamfsTestBase
{
    [Test]
    public void TheAttributeBudgetCountsFullNamesAndValues()
    {
        var p = Mount(new RamfsOptions { XattrSpacePerInode = 100 });
        p.Close(p.Creat("/f", Mode644));
        p.SetXattr("/f", "user.a", new byte[44]);
        p.SetXattr("/f", "user.b", new byte[44]);
        Assert.Multiple(() =>
        {
            Assert.That(ErrnoOf(() => p.SetXattr("/f", "user.c", [])), Is.EqualTo(Errno.ENOSPC));
            Assert.That(ErrnoOf(() => p.SetXattr("/f", "user.a", new byte[45])), Is.EqualTo(Errno.ENOSPC));
        });
        p.SetXattr("/f", "user.a", new byte[20]);
        p.SetXattr("/f", "user.c", new byte[18]);
        Assert.That(p.ListXattrNames("/f"), Is.EqualTo(new[] { "user.a", "user.b", "user.c" }));
    }

    [Test]
    public void AListLongerThanTheLargestBufferIsE2bigAndShorterBuffersErange()
    {
        var p = Mount(new RamfsOptions { XattrSpacePerInode = 1 << 20 });
        p.Close(p.Creat("/f", Mode644));
        for (int i = 0; i < 300; i++)
            p.SetXattr("/f", $"user.{i:D4}" + new string('n', 240), []);
        int size = p.ListXattr("/f", []);
        Assert.Multiple(() =>
        {
            Assert.That(size, Is.EqualTo(300 * (5 + 4 + 240 + 1)));
            Assert.That(ErrnoOf(() => p.ListXattr("/f", new byte[XattrNames.ListMax])), Is.EqualTo(Errno.E2BIG));
            Assert.That(ErrnoOf(() => p.ListXattr("/f", new byte[1000])), Is.EqualTo(Errno.ERANGE));
        });
    }
}
