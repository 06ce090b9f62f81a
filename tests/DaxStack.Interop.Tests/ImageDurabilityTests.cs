using DaxStack.Interop.Tests.Servers;
using DaxStack.Interop.Tests.Tools;

namespace DaxStack.Interop.Tests;

/// <summary>
/// Daxstack only (the reference server keeps nothing): what an NBD client made durable (writes
/// with FUA, a copy ended by a flush) is in the image file once the server has gone, whether it
/// stopped cleanly on a signal or was killed; and what it did not make durable is gone after the
/// power failure SIGUSR1 simulates.
/// </summary>
public class ImageDurabilityTests : NbdExportTestBase
{
    private const long LastBlock = ExportSize - 4096;

    [TestCase(PosixSignal.SigTerm, TestName = "{m}(SIGTERM)")]
    [TestCase(PosixSignal.SigInt, TestName = "{m}(SIGINT)")]
    public void FuaWritesAndAFlushedCopyAreInTheImageAfterTheServerStops(int signal)
    {
        var server = StartServer(ServerKind.Daxstack);
        string source = RandomFile("source.bin", 16L << 20, seed: 5);

        // nbdcopy --flush ends the copy with NBD_CMD_FLUSH; qemu-io -f sends each write with FUA.
        AssertSucceeded(ExternalTool.NbdCopy.Run(ClientTimeout, "--flush", source, server.Uri), server);
        AssertQemuIoSucceeded(QemuIo(server.Uri, readOnly: false, "write -f -P 0x3c 32M 8k", $"write -f -P 0xc3 {LastBlock} 4096"), server);

        int exit = server.Stop(ServerStopTimeout, signal);
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.Zero, server.Describe);
            Assert.That(server.StandardOutputLines, Has.Member(DaxstackServe.StoppedLine), server.Describe);
        });

        string copied = Path.Combine(Scratch, "image-head.bin");
        File.WriteAllBytes(copied, ReadBytes(ImagePath, 0, 16 << 20));
        Assert.Multiple(() =>
        {
            Assert.That(new FileInfo(ImagePath).Length, Is.EqualTo(ExportSize), "the image file keeps its size");
            Assert.That(Sha256(copied), Is.EqualTo(Sha256(source)), "the flushed nbdcopy data at the start of the image");
            Assert.That(ReadBytes(ImagePath, 32L << 20, 8 << 10), Is.All.EqualTo(0x3c), "the FUA write at 32 MiB");
            Assert.That(ReadBytes(ImagePath, LastBlock, 4096), Is.All.EqualTo(0xc3), "the FUA write to the last block");
            Assert.That(ReadBytes(ImagePath, 16L << 20, 4096), Is.All.EqualTo(0), "bytes nobody wrote");
        });
    }

    [Test]
    public void FuaWriteIsInTheImageEvenWhenTheServerIsKilled()
    {
        var server = StartServer(ServerKind.Daxstack);

        AssertQemuIoSucceeded(QemuIo(server.Uri, readOnly: false, "write -f -P 0x77 8M 64k"), server);
        server.Kill();

        Assert.That(ReadBytes(ImagePath, 8L << 20, 64 << 10), Is.All.EqualTo(0x77), "a FUA write acknowledged before SIGKILL");
    }

    [Test]
    public void APowerFailureLosesTheWritesQemuIoNeverFlushedAndKeepsTheRest()
    {
        var server = StartServer(ServerKind.Daxstack);
        AssertQemuIoSucceeded(QemuIo(server.Uri, readOnly: false, "write -f -P 0x3c 8M 64k"), server);

        // qemu-io flushes as it closes the image, so this one stays connected, sleeping, while the
        // power fails: its write (writeback cache mode, so no FUA) is answered and never flushed.
        var sleeper = Task.Run(() => ExternalTool.QemuIo.Run(ClientTimeout,
            "-t", "writeback", "-f", "raw", "-c", "write -P 0x5a 16M 64k", "-c", "sleep 15000", server.Uri));
        // The media is the image file, mapped shared: the write shows there once it has landed.
        var deadline = DateTime.UtcNow + ClientTimeout;
        while (!ReadBytes(ImagePath, 16L << 20, 64 << 10).All(b => b == 0x5a))
        {
            Assert.That(sleeper.IsCompleted, Is.False, () => $"qemu-io ended before its write landed: {sleeper.Result}");
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "qemu-io's write never reached the image");
            Thread.Sleep(50);
        }

        int exit = server.Stop(ServerStopTimeout, PosixSignal.SigUsr1);
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.Zero, server.Describe);
            Assert.That(server.StandardOutputLines, Has.Member("daxstack serve: power failure (strict); 1024 cache line(s) not yet persistent at the failure"), server.Describe);
            Assert.That(ReadBytes(ImagePath, 16L << 20, 64 << 10), Is.All.EqualTo(0), "the write never flushed is gone");
            Assert.That(ReadBytes(ImagePath, 8L << 20, 64 << 10), Is.All.EqualTo(0x3c), "the FUA write survives");
        });
        // The sleeping client finds its connection gone (its closing flush fails); only its end matters here.
        Assert.That(sleeper.Wait(ClientTimeout + TimeSpan.FromSeconds(10)), Is.True, "qemu-io did not end after the server went away");
    }

    [Test]
    public void LabelledNamespaceIsExportedUnderItsBlockDeviceNameAndSize()
    {
        string image = Path.Combine(Scratch, "labelled.img");
        var create = DaxstackCli.Run(ClientTimeout, "ndctl", "create-namespace", "--image", image, "--size", "64M", "--mode", "fsdax");
        Assert.That(create.ExitCode, Is.Zero, create.ToString);
        var ns = System.Text.Json.Nodes.JsonNode.Parse(create.StandardOutput);
        string? blockdev = (string?)ns?["blockdev"];
        long? size = (long?)ns?["size"];
        Assert.That(blockdev, Is.Not.Null.And.Not.Empty, create.ToString);

        var server = StartDaxstack(image);
        Assert.Multiple(() =>
        {
            Assert.That(server.ExportName, Is.EqualTo(blockdev), "the export is named after the namespace's block device");
            Assert.That(server.Size, Is.EqualTo(size), "the export is the namespace's size");
        });
        var info = ExternalTool.NbdInfo.Run(ClientTimeout, "--size", server.Uri);
        AssertSucceeded(info, server);
        Assert.That(info.StandardOutput.Trim(), Is.EqualTo(size?.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        AssertQemuIoSucceeded(QemuIo(server.Uri, readOnly: false, $"write -f -P 0x2e {size - 4096} 4096", $"read -P 0x2e {size - 4096} 4096"), server);
        Assert.That(server.Stop(ServerStopTimeout), Is.Zero, server.Describe);

        // Serving did not disturb the labels: the namespace is still there, as it was.
        var list = DaxstackCli.Run(ClientTimeout, "ndctl", "list", "--image", image);
        Assert.That(list.ExitCode, Is.Zero, list.ToString);
        Assert.That(list.StandardOutput, Does.Contain($"\"blockdev\": \"{blockdev}\"").And.Contain((string?)ns?["uuid"]), list.ToString);
    }
}
