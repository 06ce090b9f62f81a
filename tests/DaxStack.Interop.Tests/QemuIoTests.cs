using DaxStack.Interop.Tests.Servers;

namespace DaxStack.Interop.Tests;

/// <summary>
/// QEMU's NBD client, one request per qemu-io command: writes (plain, FUA, write-zeroes) read
/// back with the same bytes anywhere on the device, including its last block and unaligned
/// ranges, and requests past the end fail.
/// </summary>
public class QemuIoTests : NbdExportTestBase
{
    private const long LastBlock = ExportSize - 4096;

    [TestCase(ServerKind.Daxstack)]
    [TestCase(ServerKind.NbdkitMemory)]
    public void WrittenPatternReadsBack(ServerKind kind)
    {
        var server = StartServer(kind);

        var result = QemuIo(server.Uri, readOnly: false,
            "write -P 0xab 0 64k",
            "write -P 0x3d 3M 1M",
            "read -P 0xab 0 64k",
            "read -P 0x3d 3M 1M",
            "read -P 0 64k 64k");
        AssertQemuIoSucceeded(result, server);
    }

    [TestCase(ServerKind.Daxstack)]
    [TestCase(ServerKind.NbdkitMemory)]
    public void LastBlockOfTheDeviceRoundTrips(ServerKind kind)
    {
        var server = StartServer(kind);

        var result = QemuIo(server.Uri, readOnly: false,
            $"write -P 0xcd {LastBlock} 4096",
            $"read -P 0xcd {LastBlock} 4096",
            $"read -P 0 {LastBlock - 4096} 4096");
        AssertQemuIoSucceeded(result, server);
    }

    [TestCase(ServerKind.Daxstack)]
    [TestCase(ServerKind.NbdkitMemory)]
    public void ForceUnitAccessWritesReadBack(ServerKind kind)
    {
        var server = StartServer(kind);

        // qemu-io's -f sends the write with NBD_CMD_FLAG_FUA.
        var result = QemuIo(server.Uri, readOnly: false,
            "write -f -P 0x5a 1M 128k",
            $"write -f -P 0xa5 {LastBlock} 4096",
            "flush",
            "read -P 0x5a 1M 128k",
            $"read -P 0xa5 {LastBlock} 4096");
        AssertQemuIoSucceeded(result, server);
    }

    [TestCase(ServerKind.Daxstack)]
    [TestCase(ServerKind.NbdkitMemory)]
    public void UnalignedWriteChangesOnlyItsOwnBytes(ServerKind kind)
    {
        var server = StartServer(kind);

        // 1000..4000 covers parts of two 512-byte blocks at each end: the bytes around it stay zero.
        var result = QemuIo(server.Uri, readOnly: false,
            "write -P 0x17 1000 3000",
            "read -P 0x17 1000 3000",
            "read -P 0 0 1000",
            "read -P 0 4000 4192",
            "write -P 0x71 12345 1",
            "read -P 0x71 12345 1",
            "read -P 0 12344 1",
            "read -P 0 12346 1");
        AssertQemuIoSucceeded(result, server);
    }

    [TestCase(ServerKind.Daxstack)]
    [TestCase(ServerKind.NbdkitMemory)]
    public void WriteZeroesClearsOnlyItsRange(ServerKind kind)
    {
        var server = StartServer(kind);

        // -z sends NBD_CMD_WRITE_ZEROES (with -u the server may also unmap).
        var result = QemuIo(server.Uri, readOnly: false,
            "write -P 0xee 0 16k",
            "write -z 4k 8k",
            "write -P 0xee 1M 64k",
            "write -z -u 1M 64k",
            "read -P 0xee 0 4k",
            "read -P 0 4k 8k",
            "read -P 0xee 12k 4k",
            "read -P 0 1M 64k");
        AssertQemuIoSucceeded(result, server);
    }

    [TestCase(ServerKind.Daxstack)]
    [TestCase(ServerKind.NbdkitMemory)]
    public void MaximumPayloadRequestRoundTrips(ServerKind kind)
    {
        var server = StartServer(kind);

        var result = QemuIo(server.Uri, readOnly: false,
            $"write -P 0x42 16M {MaximumPayload}",
            $"read -P 0x42 16M {MaximumPayload}");
        AssertQemuIoSucceeded(result, server);
    }

    [TestCase(ServerKind.Daxstack)]
    [TestCase(ServerKind.NbdkitMemory)]
    public void RequestsPastTheEndFail(ServerKind kind)
    {
        var server = StartServer(kind);

        var readPast = QemuIo(server.Uri, readOnly: false, $"read {ExportSize - 512} 1024");
        Assert.That(readPast.ExitCode, Is.Not.Zero, () => $"{readPast}\n{server.Describe()}");
        Assert.That(readPast.AllOutput, Does.Contain("read failed"), readPast.ToString);

        var writePast = QemuIo(server.Uri, readOnly: false, $"write -P 0x99 {ExportSize} 4096");
        Assert.That(writePast.ExitCode, Is.Not.Zero, () => $"{writePast}\n{server.Describe()}");
        Assert.That(writePast.AllOutput, Does.Contain("write failed"), writePast.ToString);

        // The failed requests did not take the export down: a read ending exactly at the end still works.
        var readToEnd = QemuIo(server.Uri, readOnly: false, $"read -P 0 {ExportSize - 1024} 1024");
        AssertQemuIoSucceeded(readToEnd, server);
    }
}
