using System.Runtime.Versioning;
using DaxStack.Device.Errors;
using DaxStack.Driver.Block;
using DaxStack.Driver.Dax;
using DaxStack.Tests.Shared;

namespace DaxStack.Driver.Tests.Dax;

/// <summary>
/// DirectAccess on a sparse image whose file system fills up: the pages it hands out have room in
/// the image before the window exists, so a store through the window never meets a hole the file
/// system cannot fill (which would end the process with SIGBUS); with no room DirectAccess fails
/// with ENOSPC, hands out only the pages that have room when room runs out part-way, and works
/// again once there is room. Needs a small tmpfs, so root (the test is ignored where mounting is
/// not permitted).
/// </summary>
[UnsupportedOSPlatform("windows")]
public class DaxFullFileSystemTests
{
    private const int Page = 4096;
    private const int Chunk = 64 << 10;
    private const long ImageSize = 8 << 20;

    private SmallFileSystem? _fs;

    [SetUp]
    public void SetUp() => _fs = SmallFileSystem.MountTemporary("daxstack-daxfull-", "1m");

    [TearDown]
    public void TearDown()
    {
        _fs?.Dispose();
        _fs = null;
    }

    private string Filler => _fs!.FillerPath;

    // Stores 'data' through a window from DirectAccess at every other chunk until DirectAccess
    // fails; returns the byte offset where it failed, and the error.
    private static long StoreUntilFull(TestDevice t, byte[] data, out Errno error)
    {
        long offset = 0;
        while ((error = t.Device.DirectAccess(offset / Page, data.Length / Page, DaxAccessMode.Access, out var extent)) == 0)
        {
            Assert.That(extent.Pages, Is.EqualTo(data.Length / Page), $"the whole request at {offset} had room");
            extent.Window.NtStore(0, data);
            extent.Window.Sfence();
            offset += 2 * Chunk;
        }
        return offset;
    }

    [Test]
    public void DirectAccessOverAHoleOfAFullFileSystemFailsWithEnospcAndWorksOnceThereIsRoom()
    {
        using var t = TestDevice.Image(_fs!.SparseImageWithFiller(ImageSize));
        var data = TestDevice.Pattern(Chunk, 1);

        long offset = StoreUntilFull(t, data, out var error);

        Assert.Multiple(() =>
        {
            Assert.That(error, Is.EqualTo(Errno.ENOSPC));
            Assert.That(offset, Is.GreaterThan(0).And.LessThan(ImageSize), "some windows had room, then the file system was full");
            Assert.That(t.Device.DirectAccess(offset / Page + 1, 1, DaxAccessMode.Access, out _), Is.EqualTo(Errno.ENOSPC), "a page inside the chunk");
            Assert.That(t.Device.DirectAccess(offset / Page, 1, DaxAccessMode.RecoveryWrite, out _), Is.EqualTo(Errno.ENOSPC), "recovery mode");
        });
        // What was stored before is intact, and the chunks that have room still hand out windows.
        Assert.That(t.Device.DirectAccess(0, data.Length / Page, DaxAccessMode.Access, out var first), Is.EqualTo((Errno)0));
        var back = new byte[data.Length];
        first.Window.Load(0, back);
        Assert.That(back, Is.EqualTo(data));
        first.Window.Store(Page, data.AsSpan(0, 64));

        File.Delete(Filler);
        Assert.That(t.Device.DirectAccess(offset / Page, data.Length / Page, DaxAccessMode.Access, out var again), Is.EqualTo((Errno)0), "room again");
        again.Window.NtStore(0, data);
        again.Window.Sfence();
        Assert.That(t.Device.Read(offset, back), Is.EqualTo(BlkStatus.Ok));
        Assert.That(back, Is.EqualTo(data));
    }

    [Test]
    public void DirectAccessHandsOutOnlyThePagesThatHaveRoomWhenRoomRunsOutPartWay()
    {
        using var t = TestDevice.Image(_fs!.SparseImageWithFiller(ImageSize));
        var data = TestDevice.Pattern(Chunk, 2);
        long offset = StoreUntilFull(t, data, out var error);
        Assert.That(error, Is.EqualTo(Errno.ENOSPC));
        File.Delete(Filler);

        // 256 KiB is free now: a request for 1 MiB of holes gets the whole chunks that fit.
        long asked = (1 << 20) / Page;
        Assert.That(t.Device.DirectAccess(offset / Page, asked, DaxAccessMode.Access, out var extent), Is.EqualTo((Errno)0));
        Assert.Multiple(() =>
        {
            Assert.That(extent.Pages, Is.GreaterThan(0).And.LessThan(asked));
            Assert.That(extent.Pages % (Chunk / Page), Is.Zero, "whole 64 KiB chunks");
            Assert.That(extent.Window.Length, Is.EqualTo(extent.Pages * Page));
        });
        // Every page handed out takes stores; the next page has no room.
        var fill = TestDevice.Pattern((int)extent.Window.Length, 3);
        extent.Window.NtStore(0, fill);
        extent.Window.Sfence();
        Assert.That(t.Device.DirectAccess(offset / Page + extent.Pages, 1, DaxAccessMode.Access, out _), Is.EqualTo(Errno.ENOSPC));
        var back = new byte[fill.Length];
        Assert.That(t.Device.Read(offset, back), Is.EqualTo(BlkStatus.Ok));
        Assert.That(back, Is.EqualTo(fill));
    }
}
