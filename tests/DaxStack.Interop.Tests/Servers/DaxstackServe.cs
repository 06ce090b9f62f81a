using System.Globalization;
using System.Text.RegularExpressions;

namespace DaxStack.Interop.Tests.Servers;

/// <summary>
/// Starts <c>daxstack serve</c> (the daxstack.dll built beside this test assembly) on a free
/// loopback port and waits for its one announcement line,
/// <c>daxstack serve: exporting 'NAME' (SIZE bytes) on nbd://HOST:PORT/NAME</c>, which says it
/// is listening. The NBD export of issue 3, driven as a user would.
/// </summary>
public static partial class DaxstackServe
{
    /// <summary>The line the server prints once it has stopped cleanly.</summary>
    public const string StoppedLine = "daxstack serve: stopped";

    /// <summary>The daxstack command-line tool built with the tests.</summary>
    public static string DllPath => Path.Combine(AppContext.BaseDirectory, "daxstack.dll");

    /// <summary>
    /// The dotnet host that runs daxstack.dll: the one the SDK names to child processes of
    /// <c>dotnet test</c>, otherwise the one on PATH.
    /// </summary>
    public static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h ? h : "dotnet";

    /// <summary>
    /// Serves <paramref name="image"/> on 127.0.0.1 with a port the kernel picks. Fails the test
    /// (with the server's output) if it exits or stays silent for <paramref name="timeout"/>.
    /// </summary>
    public static NbdServerProcess Start(string image, bool readOnly, TimeSpan timeout)
    {
        if (!File.Exists(DllPath))
            Assert.Fail($"{DllPath} is missing: the test project should reference tools/DaxStack.Tools.csproj so daxstack.dll is copied beside it");
        var args = new List<string> { DllPath, "serve", "--image", image, "--nbd", "127.0.0.1:0" };
        if (readOnly)
            args.Add("--read-only");
        var server = new NbdServerProcess(ServerKind.Daxstack, DotnetHost, args, "dotnet");
        try
        {
            string? line = server.WaitForOutputLine(l => l.StartsWith("daxstack serve: exporting ", StringComparison.Ordinal), timeout);
            if (line == null)
                Assert.Fail($"daxstack serve did not announce its export within {timeout.TotalSeconds:0} s\n{server.Describe()}");
            var m = Announcement().Match(line!);
            if (!m.Success)
                Assert.Fail($"daxstack serve's announcement does not have the promised form: \"{line}\"\n{server.Describe()}");
            if (m.Groups["name"].Value != m.Groups["uriname"].Value)
                Assert.Fail($"daxstack serve's announcement names two different exports: \"{line}\"");
            server.SetEndpoint(
                int.Parse(m.Groups["port"].Value, CultureInfo.InvariantCulture),
                m.Groups["name"].Value,
                long.Parse(m.Groups["size"].Value, CultureInfo.InvariantCulture));
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    [GeneratedRegex(@"^daxstack serve: exporting '(?<name>[^']+)' \((?<size>\d+) bytes\) on nbd://127\.0\.0\.1:(?<port>\d+)/(?<uriname>\S+)$")]
    private static partial Regex Announcement();
}
