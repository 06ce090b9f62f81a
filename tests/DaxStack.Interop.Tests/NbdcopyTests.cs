using DaxStack.Interop.Tests.Servers;
using DaxStack.Interop.Tests.Tools;

namespace DaxStack.Interop.Tests;

/// <summary>
/// libnbd's <c>nbdcopy</c> (many requests in flight, several connections when the server allows
/// multi-conn): a 64 MiB file copied into the export and back out is bit for bit the same.
/// </summary>
public class NbdcopyTests : NbdExportTestBase
{
    [TestCase(ServerKind.Daxstack)]
    [TestCase(ServerKind.NbdkitMemory)]
    public void RandomFileCopiedInAndOutIsBitForBitIdentical(ServerKind kind)
    {
        var server = StartServer(kind);
        // The source has a zero run where the export already holds data: nbdcopy sends zero
        // requests (or writes zeroes) for it, and either way the data there must go.
        string source = RandomFile("source.bin", ExportSize, seed: 3, zeroOffset: 20L << 20, zeroLength: 4L << 20);
        AssertQemuIoSucceeded(QemuIo(server.Uri, readOnly: false, "write -P 0xab 20M 4M"), server);

        var copyIn = ExternalTool.NbdCopy.Run(ClientTimeout, "--flush", source, server.Uri);
        AssertSucceeded(copyIn, server);

        string copied = Path.Combine(Scratch, "copied.bin");
        var copyOut = ExternalTool.NbdCopy.Run(ClientTimeout, server.Uri, copied);
        AssertSucceeded(copyOut, server);
        // Once more with the largest requests the export accepts.
        string copiedLarge = Path.Combine(Scratch, "copied-32m.bin");
        var copyOutLarge = ExternalTool.NbdCopy.Run(ClientTimeout, $"--request-size={MaximumPayload}", server.Uri, copiedLarge);
        AssertSucceeded(copyOutLarge, server);

        string expected = Sha256(source);
        Assert.Multiple(() =>
        {
            Assert.That(new FileInfo(copied).Length, Is.EqualTo(ExportSize));
            Assert.That(Sha256(copied), Is.EqualTo(expected), "SHA-256 of the export copied out");
            Assert.That(Sha256(copiedLarge), Is.EqualTo(expected), "SHA-256 of the export copied out with 32 MiB requests");
        });
    }
}
