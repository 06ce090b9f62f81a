using System.Text.Json.Nodes;
using DaxStack.Interop.Tests.Servers;
using DaxStack.Interop.Tests.Tools;

namespace DaxStack.Interop.Tests;

/// <summary>
/// What libnbd's <c>nbdinfo</c> learns in the handshake (NBD_OPT_GO / INFO / LIST): the export's
/// name, size, block sizes and transmission flags are what daxstack promises, and match what the
/// reference server presents.
/// </summary>
public class NbdinfoTests : NbdExportTestBase
{
    [TestCase(ServerKind.Daxstack)]
    [TestCase(ServerKind.NbdkitMemory)]
    public void ReportsTheExportSizeAndTheBlockSizesPromised(ServerKind kind)
    {
        var server = StartServer(kind);
        Assert.That(server.Size, Is.EqualTo(ExportSize), "the size the server announced for a 64 MiB export");

        var result = ExternalTool.NbdInfo.Run(ClientTimeout, "--json", server.Uri);
        AssertSucceeded(result, server);
        var export = SingleExport(result);
        Assert.Multiple(() =>
        {
            Assert.That((string?)export["export-name"], Is.EqualTo(server.ExportName));
            Assert.That((long?)export["export-size"], Is.EqualTo(ExportSize));
            Assert.That((long?)export["block_size_minimum"], Is.EqualTo(512), "logical block size");
            Assert.That((long?)export["block_size_preferred"], Is.EqualTo(4096), "page-sized I/O");
            Assert.That((long?)export["block_size_maximum"], Is.EqualTo(MaximumPayload), "largest payload");
            Assert.That((bool?)export["is_read_only"], Is.False);
            Assert.That((bool?)export["can_flush"], Is.True);
            Assert.That((bool?)export["can_fua"], Is.True);
            Assert.That((bool?)export["can_trim"], Is.True);
            Assert.That((bool?)export["can_zero"], Is.True);
        });
    }

    [TestCase(ServerKind.Daxstack)]
    [TestCase(ServerKind.NbdkitMemory)]
    public void ListsItsExportByName(ServerKind kind)
    {
        var server = StartServer(kind);

        var result = ExternalTool.NbdInfo.Run(ClientTimeout, "--list", "--json", server.ServerUri);
        AssertSucceeded(result, server);
        var names = Exports(result).Select(e => (string?)e["export-name"]).ToList();
        Assert.That(names, Is.EqualTo(new[] { server.ExportName }), result.ToString);
    }

    [TestCase(ServerKind.Daxstack)]
    [TestCase(ServerKind.NbdkitMemory)]
    public void RefusesAnExportNameItDoesNotServe(ServerKind kind)
    {
        var server = StartServer(kind);

        var result = ExternalTool.NbdInfo.Run(ClientTimeout, "--size", $"{server.ServerUri}/no-such-export");
        Assert.That(result.ExitCode, Is.Not.Zero, result.ToString);
        // The refusal is a handshake error for that name, not a broken server: the real name still works.
        var size = ExternalTool.NbdInfo.Run(ClientTimeout, "--size", server.Uri);
        AssertSucceeded(size, server);
        Assert.That(size.StandardOutput.Trim(), Is.EqualTo(ExportSize.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    private static JsonNode SingleExport(ToolResult result)
    {
        var exports = Exports(result);
        Assert.That(exports, Has.Count.EqualTo(1), result.ToString);
        return exports[0];
    }

    private static List<JsonNode> Exports(ToolResult result)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(result.StandardOutput);
        }
        catch (System.Text.Json.JsonException e)
        {
            Assert.Fail($"nbdinfo printed something that is not JSON ({e.Message})\n{result}");
            throw;
        }
        return root?["exports"]?.AsArray().Where(e => e != null).Select(e => e!).ToList() ?? [];
    }
}
