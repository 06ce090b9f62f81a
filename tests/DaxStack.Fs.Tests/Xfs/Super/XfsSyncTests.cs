using DaxStack.Fs.Tests.Vfs;
using DaxStack.Fs.Vfs;
using VfsTree = DaxStack.Fs.Vfs.Vfs;

namespace DaxStack.Fs.Tests.Xfs.Super;

/// <summary>What fsync and fdatasync force on the XFS-like filesystem, counted in log forces.</summary>
public class XfsSyncTests
{
    [Test]
    public void FdatasyncAfterAnOverwriteForcesNothingButFsyncForcesTheNewTimestamps()
    {
        using var type = new XfsTestFileSystemType();
        var tree = new VfsTree(type);
        using var p = tree.CreateProcess(Credentials.Root);
        var log = type.Super!.Mount.Log!;
        int fd = p.Open("/f", OpenFlags.O_CREAT | OpenFlags.O_RDWR, 0x1A4);
        p.Write(fd, new byte[8192]);
        p.Fdatasync(fd);
        int forces = log.Forces;
        Assert.That(forces, Is.GreaterThan(0));

        // Inside the file: only mtime/ctime change, which fdatasync leaves to the log's next force.
        p.Pwrite(fd, new byte[100], 10);
        p.Fdatasync(fd);
        Assert.That(log.Forces, Is.EqualTo(forces));
        p.Fsync(fd);
        Assert.That(log.Forces, Is.EqualTo(forces + 1));

        // Past the end: the size changes, so fdatasync must force.
        p.Pwrite(fd, new byte[100], 8192);
        p.Fdatasync(fd);
        Assert.That(log.Forces, Is.EqualTo(forces + 2));
    }
}
