using System.Diagnostics;
using System.Globalization;
using DaxStack.Interop.Tests.Tools;

namespace DaxStack.Interop.Tests.Servers;

/// <summary>
/// Starts the reference server, <c>nbdkit memory</c>, on a free loopback port. Its filters make
/// it present the same contract daxstack promises: one export named <see cref="ExportName"/>
/// (unknown names refused, as the exportname filter's strict mode does) and block sizes
/// 512 / 4096 / 32 MiB (blocksize-policy filter). It dies with the test process
/// (--exit-with-parent) even if a teardown never runs.
/// </summary>
public static class NbdkitMemory
{
    /// <summary>The export name the reference server presents (daxstack's default device name).</summary>
    public const string ExportName = "pmem0";

    /// <summary>
    /// Serves <paramref name="size"/> bytes of RAM; writes its pid file in
    /// <paramref name="workDirectory"/>. The port is found from procfs once nbdkit has written
    /// the pid file (which it does after binding), so no port is guessed.
    /// </summary>
    public static NbdServerProcess Start(long size, bool readOnly, string workDirectory, TimeSpan timeout)
    {
        string nbdkit = ExternalTool.Nbdkit.Locate();
        string pidFile = Path.Combine(workDirectory, $"nbdkit-{Guid.NewGuid():N}.pid");
        var args = new List<string> { "-f", "--exit-with-parent", "-i", "127.0.0.1", "-p", "0", "-P", pidFile };
        if (readOnly)
            args.Add("-r");
        args.AddRange([
            "--filter=exportname", "--filter=blocksize-policy",
            "memory", $"size={size.ToString(CultureInfo.InvariantCulture)}",
            $"default-export={ExportName}", "exportname-list=explicit", $"exportname={ExportName}", "exportname-strict=true",
            "blocksize-minimum=512", "blocksize-preferred=4096", "blocksize-maximum=33554432",
        ]);

        var server = new NbdServerProcess(ServerKind.NbdkitMemory, nbdkit, args, "nbdkit");
        try
        {
            var clock = Stopwatch.StartNew();
            while (true)
            {
                if (server.HasExited)
                    Assert.Fail($"nbdkit exited before listening (is the memory plugin or a filter missing? both ship in the Debian package 'nbdkit')\n{server.Describe()}");
                if (File.Exists(pidFile) && ListeningPorts.Of(server.ProcessId) is [int port, ..])
                {
                    server.SetEndpoint(port, ExportName, size);
                    return server;
                }
                if (clock.Elapsed > timeout)
                    Assert.Fail($"nbdkit was not listening within {timeout.TotalSeconds:0} s\n{server.Describe()}");
                Thread.Sleep(20);
            }
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }
}
