using System.Runtime.Versioning;
using DaxStack.Device.Errors;
using DaxStack.Fs.Vfs;
using DaxStack.Fs.Xfs.Mkfs;
using DaxStack.Fs.Xfs.Super;
using DaxStack.Fs.Xfs.Trans;
using DaxStack.Tests.Shared;

namespace DaxStack.Fs.Tests.Dax;

/// <summary>
/// The filesystem's DAX data path on a sparse image whose file system fills up: a write that must
/// store into blocks of the image that have no room (a copy-on-write of a clone's shared blocks
/// copies them into new blocks through DAX windows) fails with ENOSPC, as the driver's
/// DirectAccess reports it, instead of the process ending with SIGBUS; it works again once there
/// is room, and nothing written before is lost. Needs a small tmpfs, so root (the test is ignored
/// where mounting is not permitted).
/// </summary>
[UnsupportedOSPlatform("windows")]
public class DaxFullFileSystemTests
{
    private const int Block = 4096;
    private const int FileBytes = 1 << 20;

    private SmallFileSystem? _fs;

    // Room for what mkfs writes (the zeroed log is most of it) and a few files.
    [SetUp]
    public void SetUp() => _fs = SmallFileSystem.MountTemporary("daxstack-fsfull-", "12m");

    [TearDown]
    public void TearDown()
    {
        _fs?.Dispose();
        _fs = null;
    }

    private string Dir => _fs!.Path;

    [Test]
    public void ACopyOnWriteIntoBlocksWithNoRoomInTheImageFailsWithEnospcAndWorksAgainWithRoom()
    {
        string image = FsTestDevice.SparseImage(Dir, "xfs.img", 64L << 20);
        using var device = FsTestDevice.Image(image);
        XfsMkfs.Format(device.Device, new XfsMkfsOptions { AgCount = 2, Reflink = true });
        var type = new XfsFileSystemType(device.Device, new XfsMountOptions { GenerationSeed = 1 });
        var p = new DaxStack.Fs.Vfs.Vfs(type).CreateProcess(Credentials.Root);
        var original = Pattern(FileBytes, 1);
        int orig = p.Open("/orig", OpenFlags.O_CREAT | OpenFlags.O_RDWR, 0x1a4);
        Assert.That(p.Pwrite(orig, original, 0), Is.EqualTo(FileBytes));
        int clone = p.Open("/clone", OpenFlags.O_CREAT | OpenFlags.O_RDWR, 0x1a4);
        p.Ficlone(clone, orig);
        p.Fsync(clone);
        _fs!.Fill();

        // Each block written in the clone is copied into a new block first; the new blocks soon
        // reach a part of the image the file system has no room for.
        var expected = (byte[])original.Clone();
        var data = Pattern(Block, 2);
        int written = 0;
        ErrnoException? failure = null;
        for (; written < FileBytes / Block; written++)
        {
            try
            {
                p.Pwrite(clone, data, (long)written * Block);
            }
            catch (ErrnoException e)
            {
                failure = e;
                break;
            }
            data.CopyTo(expected, written * Block);
        }
        Assert.That(failure?.Errno, Is.EqualTo(Errno.ENOSPC), "a write into blocks with no room in the image");
        Assert.That(Read(p, clone), Is.EqualTo(expected), "the writes before it are there");

        File.Delete(Path.Combine(Dir, "fill"));
        Assert.That(p.Pwrite(clone, data, (long)written * Block), Is.EqualTo(Block), "room again");
        data.CopyTo(expected, written * Block);
        Assert.Multiple(() =>
        {
            Assert.That(Read(p, clone), Is.EqualTo(expected));
            Assert.That(Read(p, orig), Is.EqualTo(original), "the original keeps its blocks");
        });
        p.Close(orig);
        p.Close(clone);
        type.Super!.PutSuper();
    }

    private static byte[] Read(DaxStack.Fs.Vfs.Process p, int fd)
    {
        var buffer = new byte[FileBytes];
        Assert.That(p.Pread(fd, buffer, 0), Is.EqualTo(FileBytes));
        return buffer;
    }

    private static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
