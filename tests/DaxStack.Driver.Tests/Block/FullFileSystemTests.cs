using System.Runtime.Versioning;
using DaxStack.Device.Errors;
using DaxStack.Driver.Block;
using DaxStack.Driver.Nbd;
using DaxStack.Driver.Tests.Nbd;
using DaxStack.Tests.Shared;
using static DaxStack.Driver.Tests.Nbd.RawNbdClient;

namespace DaxStack.Driver.Tests.Block;

/// <summary>
/// A sparse image on a file system that fills up: the driver's writes into the image's holes fail
/// with ENOSPC (BLK_STS_NOSPC), through every write path and over NBD, instead of the process
/// ending with SIGBUS, and work again once there is room. Needs a small tmpfs, so root (the test
/// is ignored where mounting is not permitted).
/// </summary>
[UnsupportedOSPlatform("windows")]
public class FullFileSystemTests
{
    private SmallFileSystem? _fs;

    [SetUp]
    public void SetUp() => _fs = SmallFileSystem.MountTemporary("daxstack-full-", "1m");

    [TearDown]
    public void TearDown()
    {
        _fs?.Dispose();
        _fs = null;
    }

    [Test]
    public void EveryWritePathFailsWithNoSpaceOnceTheFileSystemIsFullAndWorksAgainWithRoom()
    {
        using var t = TestDevice.Image(_fs!.SparseImageWithFiller());
        var data = TestDevice.Pattern(64 << 10, 1);
        long offset = 0;
        BlkStatus status;
        while ((status = t.Device.Write(offset, data)) == BlkStatus.Ok)
            offset += 128 << 10;
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(BlkStatus.NoSpace));
            Assert.That(status.ToErrno(), Is.EqualTo(Errno.ENOSPC));
            Assert.That(offset, Is.GreaterThan(0).And.LessThan(8 << 20), "some writes fit, then the file system was full");
            Assert.That(t.Device.WriteFrom(offset, data.Length, new BufferStoreSource(data), BioFlags.None, out _), Is.EqualTo(BlkStatus.NoSpace));
            Assert.That(t.Device.SubmitBio(Bio.WriteZeroes(offset, data.Length)), Is.EqualTo(BlkStatus.NoSpace));
            Assert.That(t.Device.ZeroPageRange(offset / 4096, 16), Is.EqualTo(Errno.ENOSPC));
            Assert.That(t.Device.RecoveryWrite(offset, data), Is.Zero);
        });
        // On tmpfs a read of a hole takes a page too: with no room it fails the same way.
        Assert.Multiple(() =>
        {
            Assert.That(t.Device.Read(offset, new byte[4096]), Is.EqualTo(BlkStatus.NoSpace), "a read bio of a hole");
            Assert.That(t.Device.ReadTo(offset, 4096, new BufferLoadSink(4096), out _), Is.EqualTo(BlkStatus.NoSpace), "ReadTo");
        });
        // What was written before is intact; a write where there is room still works.
        var back = new byte[data.Length];
        Assert.That(t.Device.Read(0, back), Is.EqualTo(BlkStatus.Ok));
        Assert.That(back, Is.EqualTo(data));
        Assert.That(t.Device.Write(4096, data.AsSpan(0, 4096)), Is.EqualTo(BlkStatus.Ok), "a chunk with blocks already");

        File.Delete(_fs!.FillerPath);
        Assert.That(t.Device.Write(offset, data), Is.EqualTo(BlkStatus.Ok), "room again");
        Assert.That(t.Device.Read(offset, back), Is.EqualTo(BlkStatus.Ok));
        Assert.That(back, Is.EqualTo(data));
    }

    [Test]
    public async Task AnNbdWriteWithNoRoomGetsEnospcAndTheConnectionGoesOn()
    {
        using var t = TestDevice.Image(_fs!.SparseImageWithFiller());
        var server = new NbdServer(new NbdServerOptions { Listen = "127.0.0.1:0" }, [new NbdExport(t.Device.Name, t.Device, "sparse", false)]);
        await server.StartAsync();
        try
        {
            using var client = RawNbdClient.ConnectAndGo(server.LocalEndPoint!, t.Device.Name);
            var data = TestDevice.Pattern(256 << 10, 2);
            long offset = 0;
            uint error;
            while ((error = client.Write(offset, data)) == 0)
                offset += 512 << 10;
            Assert.Multiple(() =>
            {
                Assert.That(error, Is.EqualTo(ENOSPC));
                Assert.That(offset, Is.GreaterThan(0).And.LessThan(8 << 20));
                Assert.That(client.Flush(), Is.Zero, "the connection goes on");
                Assert.That(client.ReadOk(0, data.Length), Is.EqualTo(data));
            });
        }
        finally
        {
            await server.StopAsync();
        }
    }
}
