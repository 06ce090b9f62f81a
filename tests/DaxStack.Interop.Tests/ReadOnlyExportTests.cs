using System.Text.Json.Nodes;
using DaxStack.Interop.Tests.Servers;
using DaxStack.Interop.Tests.Tools;

namespace DaxStack.Interop.Tests;

/// <summary>
/// A read-only export (<c>daxstack serve --read-only</c>, <c>nbdkit -r</c>) advertises
/// NBD_FLAG_READ_ONLY, so clients refuse to write to it, while reads go on working; the daxstack
/// image is left byte for byte as it was.
/// </summary>
public class ReadOnlyExportTests : NbdExportTestBase
{
    [TestCase(ServerKind.Daxstack)]
    [TestCase(ServerKind.NbdkitMemory)]
    public void RefusesWritesAndStillServesReads(ServerKind kind)
    {
        // Daxstack serves an image that already holds data; nbdkit's memory starts zeroed.
        string pattern = "0";
        if (kind == ServerKind.Daxstack)
        {
            using var fs = new FileStream(ImagePath, FileMode.CreateNew, FileAccess.Write);
            fs.SetLength(ExportSize);
            fs.Write(Enumerable.Repeat((byte)0x5e, 64 << 10).ToArray());
            pattern = "0x5e";
        }
        string before = kind == ServerKind.Daxstack ? Sha256(ImagePath) : "";
        var server = StartServer(kind, readOnly: true);

        var info = ExternalTool.NbdInfo.Run(ClientTimeout, "--json", server.Uri);
        AssertSucceeded(info, server);
        Assert.That((bool?)JsonNode.Parse(info.StandardOutput)?["exports"]?[0]?["is_read_only"], Is.True, info.ToString);

        var write = QemuIo(server.Uri, readOnly: false, "write -P 0xab 0 4096");
        Assert.That(write.ExitCode, Is.Not.Zero, () => $"qemu-io wrote to a read-only export\n{write}\n{server.Describe()}");

        string source = RandomFile("source.bin", 1 << 20, seed: 11);
        var copy = ExternalTool.NbdCopy.Run(ClientTimeout, source, server.Uri);
        Assert.That(copy.ExitCode, Is.Not.Zero, () => $"nbdcopy wrote to a read-only export\n{copy}\n{server.Describe()}");

        var read = QemuIo(server.Uri, readOnly: true, $"read -P {pattern} 0 64k", $"read -P 0 64k 64k", $"read -P 0 {ExportSize - 4096} 4096");
        AssertQemuIoSucceeded(read, server);

        if (kind == ServerKind.Daxstack)
        {
            Assert.That(server.Stop(ServerStopTimeout), Is.Zero, server.Describe);
            Assert.That(Sha256(ImagePath), Is.EqualTo(before), "the read-only export changed its image file");
        }
    }
}
