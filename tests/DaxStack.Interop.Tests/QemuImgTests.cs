using DaxStack.Interop.Tests.Servers;
using DaxStack.Interop.Tests.Tools;

namespace DaxStack.Interop.Tests;

/// <summary>
/// <c>qemu-img convert</c> writes a raw file into the existing export (-n: do not create the
/// target) and <c>qemu-img compare</c> then finds the export equal to the file, and finds a
/// difference once one is made.
/// </summary>
public class QemuImgTests : NbdExportTestBase
{
    [TestCase(ServerKind.Daxstack)]
    [TestCase(ServerKind.NbdkitMemory)]
    public void ConvertIntoTheExportThenCompareFindsItIdentical(ServerKind kind)
    {
        var server = StartServer(kind);
        string source = RandomFile("source.raw", ExportSize, seed: 7, zeroOffset: 40L << 20, zeroLength: 2L << 20);
        AssertQemuIoSucceeded(QemuIo(server.Uri, readOnly: false, "write -P 0x6b 40M 2M"), server);

        var convert = ExternalTool.QemuImg.Run(ClientTimeout, "convert", "-n", "-f", "raw", "-O", "raw", source, server.Uri);
        AssertSucceeded(convert, server);

        var compare = ExternalTool.QemuImg.Run(ClientTimeout, "compare", "-f", "raw", "-F", "raw", source, server.Uri);
        Assert.That(compare.ExitCode, Is.Zero, () => $"{compare}\n{server.Describe()}");
        Assert.That(compare.StandardOutput, Does.Contain("Images are identical"), compare.ToString);

        // compare really reads the export: change 512 bytes and it reports the first changed byte.
        AssertQemuIoSucceeded(QemuIo(server.Uri, readOnly: false, "write -P 0x01 50M 512"), server);
        var differs = ExternalTool.QemuImg.Run(ClientTimeout, "compare", "-f", "raw", "-F", "raw", source, server.Uri);
        Assert.That(differs.ExitCode, Is.EqualTo(1), () => $"{differs}\n{server.Describe()}");
        Assert.That(differs.StandardOutput, Does.Contain("Content mismatch at offset 52428800"), differs.ToString);
    }
}
