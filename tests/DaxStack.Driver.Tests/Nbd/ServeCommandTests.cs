using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using DaxStack.Device.Cost;
using DaxStack.Device.Hosting;
using DaxStack.Device.Namespaces;
using DaxStack.Tools.Cli;
using static DaxStack.Driver.Tests.Nbd.RawNbdClient;

namespace DaxStack.Driver.Tests.Nbd;

/// <summary>
/// <c>daxstack serve</c>: as a child process serving an image until SIGTERM (the status line,
/// real traffic, a clean stop that flushes the image), and its errors in-process.
/// </summary>
public class ServeCommandTests
{
    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromSeconds(60);
    private string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("daxstack-serve-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public async Task ServesALabellessImageUntilSigtermThenFlushesIt()
    {
        string image = Path.Combine(_dir, "plain.img");
        using (var f = File.Create(image))
            f.SetLength(8 << 20);
        var data = NbdTestServer.Pattern(10_000, 1);

        using var serve = StartServe("--image", image, "--nbd", "127.0.0.1:0");
        var (name, size, endpoint) = await ReadStatusLineAsync(serve);
        Assert.Multiple(() =>
        {
            Assert.That(name, Is.EqualTo("pmem0"), "the export is named after the block device");
            Assert.That(size, Is.EqualTo(8L << 20));
        });
        using var client = RawNbdClient.ConnectAndGo(endpoint, "pmem0");
        Assert.That(client.Write(4096 + 3, data), Is.Zero, "a write the client never flushes");
        Assert.That(client.ReadOk(4096 + 3, data.Length), Is.EqualTo(data));

        var (exit, rest, err) = await StopAsync(serve);
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.Zero, err);
            Assert.That(rest, Is.EqualTo("daxstack serve: stopped" + Environment.NewLine));
            Assert.That(err, Does.Contain("connection 1"), "connections are logged on standard error");
            Assert.That(client.ServerCloses(), Is.True, "stop closed the connection");
        });
        using var file = File.OpenRead(image);
        file.Position = 4096 + 3;
        var onDisk = new byte[data.Length];
        file.ReadExactly(onDisk);
        Assert.That(onDisk, Is.EqualTo(data), "the image holds the write after the stop");
    }

    [Test]
    public async Task ServesTheFirstFsdaxNamespaceOfAnNdctlImageReadOnlyUnderTheNameGiven()
    {
        string image = Path.Combine(_dir, "ns.img");
        using (var bus = new NvdimmBus(new CostProfileCatalog(new NvdimmOptions())))
        {
            var region = bus.CreateImage(image, 16 << 20);
            region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Devdax, Size = 4 << 20 });
            region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Fsdax, Size = 6 << 20 });
        }

        using var serve = StartServe("--image", image, "--nbd", "localhost:0", "--export", "data", "--read-only");
        var (name, size, endpoint) = await ReadStatusLineAsync(serve);
        Assert.Multiple(() =>
        {
            Assert.That(name, Is.EqualTo("data"));
            Assert.That(size, Is.EqualTo(6L << 20), "the fsdax namespace, not the devdax one before it");
        });
        using (var client = RawNbdClient.Connect(endpoint))
        {
            var go = client.InfoOrGo(OptGo, "data");
            Assert.That(go.Final.Type, Is.EqualTo(RepAck));
            Assert.That(System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(go.Info(InfoExport).AsSpan(8)) & TxReadOnly, Is.EqualTo(TxReadOnly));
            Assert.That(client.Write(0, new byte[512]), Is.EqualTo(EPERM));
            client.Disconnect();
        }
        var (exit, rest, err) = await StopAsync(serve);
        Assert.That(exit, Is.Zero, err);
        Assert.That(rest, Does.Contain("daxstack serve: stopped"));
    }

    [Test]
    [Platform("Linux")]
    public async Task WhileServedTheNamespaceCannotBeFormattedWrittenOrDestroyedByAnotherProcess()
    {
        string image = Path.Combine(_dir, "held.img");
        Assert.That(Run("ndctl", "create-namespace", "--image", image, "--size", "64M", "--mode", "raw").Exit, Is.Zero);
        var (injected, _, injectErr) = Run("ndctl", "inject-error", "namespace0.0", "--image", image, "-B", "16", "-n", "1");
        Assert.That(injected, Is.Zero, injectErr);
        var data = NbdTestServer.Pattern(8192, 7);

        using var serve = StartServe("--image", image, "--nbd", "127.0.0.1:0");
        var (name, _, endpoint) = await ReadStatusLineAsync(serve);
        using (var client = RawNbdClient.ConnectAndGo(endpoint, name))
        {
            // Over the poisoned block: the recovery path clears it, and the badblocks file beside
            // the image is rewritten under the image's label lock, on a descriptor the server
            // opens and closes. The export's hold must outlast that.
            Assert.That(client.Write(4096, data), Is.Zero);
            Assert.That(client.Flush(), Is.Zero);
            Assert.That(File.Exists(image + ".badblocks"), Is.False, "the write cleared the only bad block");

            // This test process is another process to the server: an O_EXCL-style open for
            // writing, a format and a reconfiguration of the exported namespace are refused.
            foreach (var args in new[]
            {
                new[] { "mkfs", "-f", image },
                new[] { "io", "-c", "pwrite 0 4096", image + ":/f" },
                new[] { "ndctl", "destroy-namespace", "namespace0.0", "--image", image, "--force" },
                new[] { "ndctl", "create-namespace", "-e", "namespace0.0", "--image", image, "--force", "--mode", "fsdax" },
            })
            {
                var (exit, _, err) = Run(args);
                Assert.Multiple(() =>
                {
                    Assert.That(exit, Is.EqualTo(1), $"{args[0]}: {err}");
                    Assert.That(err, Does.Contain("namespace0.0 is in use"), args[0]);
                });
            }
            // Reading is not writing: a read-only check of the image is not refused for the hold.
            var (listed, listOut, listErr) = Run("ndctl", "list", "--image", image);
            Assert.That(listed, Is.Zero, listErr);
            Assert.That(listOut, Does.Contain("namespace0.0"));

            Assert.That(client.ReadOk(4096, data.Length), Is.EqualTo(data), "nothing overwrote the export meanwhile");
            client.Disconnect();
        }
        var (stopped, _, stopErr) = await StopAsync(serve);
        Assert.That(stopped, Is.Zero, stopErr);

        // Released when serve exits: the namespace can be formatted now.
        var (formatted, _, formatErr) = Run("mkfs", "-f", image);
        Assert.That(formatted, Is.Zero, formatErr);
    }

    [Test]
    public async Task StopWaitsForTheRequestInProgressAsLongAsTheStopTimeoutSays()
    {
        // The generic host gives its services 30 seconds to stop unless configured otherwise; the
        // server's Nbd:StopTimeout (up to 10 minutes) must be what bounds the stop. A host shutdown
        // timeout of 1 second (a configuration key like any other) shows it without a 30-second test.
        string image = Path.Combine(_dir, "plain.img");
        using (var f = File.Create(image))
            f.SetLength(8 << 20);
        var data = NbdTestServer.Pattern(64 << 10, 2);

        using var serve = StartServe(new Dictionary<string, string> { ["DAXSTACK_shutdownTimeoutSeconds"] = "1" },
            "--image", image, "--nbd", "127.0.0.1:0", "--Nbd:StopTimeout=00:01:00");
        var (_, _, endpoint) = await ReadStatusLineAsync(serve);
        using var client = RawNbdClient.ConnectAndGo(endpoint, "pmem0");
        ulong handle = client.SendRequest(CmdWrite, 0, 8192, (uint)data.Length, data.AsSpan(0, 1000));
        await Task.Delay(200);
        var stop = StopAsync(serve);
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.That(stop.IsCompleted, Is.False, "the stop waits for the write's payload");
        client.Send(data.AsSpan(1000));
        Assert.That(client.ReadSimpleReply(handle), Is.Zero, "the write in progress is answered");

        var (exit, rest, err) = await stop;
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.Zero, err);
            Assert.That(rest, Is.EqualTo("daxstack serve: stopped" + Environment.NewLine));
            Assert.That(err, Does.Contain("0 connection(s) dropped"));
        });
        using var file = File.OpenRead(image);
        file.Position = 8192;
        var onDisk = new byte[data.Length];
        file.ReadExactly(onDisk);
        Assert.That(onDisk, Is.EqualTo(data), "the image holds the write answered during the stop");
    }

    [TestCase(null, false, TestName = "{m}(strict by default)")]
    [TestCase("all", true, TestName = "{m}(all)")]
    public async Task SigusrOneIsAPowerFailureThatKeepsOnlyWhatWasMadeDurable(string? policy, bool unflushedKept)
    {
        string image = Path.Combine(_dir, "plain.img");
        using (var f = File.Create(image))
            f.SetLength(8 << 20);
        var fua = NbdTestServer.Pattern(4096, 11);
        var flushed = NbdTestServer.Pattern(10_000, 12);
        var unflushed = NbdTestServer.Pattern(65536, 13);

        var args = new List<string> { "--image", image, "--nbd", "127.0.0.1:0" };
        if (policy != null)
            args.AddRange(["--crash-policy", policy]);
        using var serve = StartServe([.. args]);
        var (_, _, endpoint) = await ReadStatusLineAsync(serve);
        using var client = RawNbdClient.ConnectAndGo(endpoint, "pmem0");
        Assert.That(client.Write(0, fua, FlagFua), Is.Zero);
        Assert.That(client.Write(8192 + 5, flushed), Is.Zero);
        Assert.That(client.Flush(), Is.Zero);
        Assert.That(client.Write(1 << 20, unflushed), Is.Zero, "answered, never flushed");

        var (exit, rest, err) = await SignalAsync(serve, "-USR1");
        string name = policy ?? "strict";
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.Zero, err);
            Assert.That(rest, Is.EqualTo($"daxstack serve: power failure ({name}); 1024 cache line(s) not yet persistent at the failure" + Environment.NewLine),
                "the 64 KiB never flushed are 1024 lines in flight");
            Assert.That(err, Does.Contain("power failure; 1 connection(s) dropped"));
            Assert.That(client.ServerCloses(), Is.True, "the power failure dropped the connection");
        });
        var onDisk = File.ReadAllBytes(image);
        Assert.Multiple(() =>
        {
            Assert.That(onDisk.AsSpan(0, fua.Length).ToArray(), Is.EqualTo(fua), "a FUA write survives");
            Assert.That(onDisk.AsSpan(8192 + 5, flushed.Length).ToArray(), Is.EqualTo(flushed), "a flushed write survives");
            if (unflushedKept)
                Assert.That(onDisk.AsSpan(1 << 20, unflushed.Length).ToArray(), Is.EqualTo(unflushed));
            else
                Assert.That(onDisk.AsSpan(1 << 20, unflushed.Length).ToArray(), Is.All.Zero, "a write never flushed is lost");
        });

        // The image serves again, with what survived.
        using var again = StartServe("--image", image, "--nbd", "127.0.0.1:0");
        var (_, _, endpoint2) = await ReadStatusLineAsync(again);
        using (var reader = RawNbdClient.ConnectAndGo(endpoint2, "pmem0"))
            Assert.That(reader.ReadOk(8192 + 5, flushed.Length), Is.EqualTo(flushed));
        var (exit2, rest2, _) = await StopAsync(again);
        Assert.That(exit2, Is.Zero);
        Assert.That(rest2, Is.EqualTo("daxstack serve: stopped" + Environment.NewLine));
    }

    [Test]
    public async Task SigusrOneDuringASigtermStopIsAPowerFailureAtOnceNotAfterTheStopTimeout()
    {
        string image = Path.Combine(_dir, "plain.img");
        using (var f = File.Create(image))
            f.SetLength(8 << 20);
        var unflushed = NbdTestServer.Pattern(65536, 16);
        var arriving = NbdTestServer.Pattern(65536, 17);

        // A stop timeout as long as the test's own bound on the exit: only the power failure can end the stop in time.
        using var serve = StartServe("--image", image, "--nbd", "127.0.0.1:0", "--Nbd:StopTimeout=00:01:00");
        try
        {
            var (_, _, endpoint) = await ReadStatusLineAsync(serve);
            using var busy = RawNbdClient.ConnectAndGo(endpoint, "pmem0");
            Assert.That(busy.Write(1 << 20, unflushed), Is.Zero, "answered, never flushed");
            // The header and part of the payload: the stop waits for the rest, which never comes.
            busy.SendRequest(CmdWrite, 0, 8192, (uint)arriving.Length, arriving.AsSpan(0, 1000));
            using var idle = RawNbdClient.ConnectAndGo(endpoint, "pmem0");
            var stdout = serve.StandardOutput.ReadToEndAsync();
            var stderr = serve.StandardError.ReadToEndAsync();

            await KillAsync(serve, "-TERM");
            // The stop is under way once it has closed the idle connection.
            Assert.That(idle.ServerCloses(), Is.True, "the stop closes an idle connection");
            var clock = Stopwatch.StartNew();
            await KillAsync(serve, "-USR1");
            try
            {
                await serve.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(15));
            }
            catch (TimeoutException)
            {
                Assert.Fail("serve did not exit within 15 s of SIGUSR1 during its stop (Nbd:StopTimeout is 1 minute)");
            }
            string rest = await stdout, err = await stderr;
            var status = Regex.Match(rest, @"^daxstack serve: power failure \(strict\); (\d+) cache line\(s\) not yet persistent at the failure\r?\n$");
            Assert.Multiple(() =>
            {
                Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(15)));
                Assert.That(serve.ExitCode, Is.Zero, err);
                Assert.That(status.Success, Is.True, rest);
                // The 64 KiB never flushed are 1024 lines; the part of the write that arrived may add some.
                Assert.That(status.Success ? int.Parse(status.Groups[1].Value) : 0, Is.GreaterThanOrEqualTo(1024), "the stop flushed nothing");
                // The idle connection may still be finishing its close, and so be counted too.
                Assert.That(err, Does.Match(@"nbd: power failure; [12] connection\(s\) dropped without a reply, nothing flushed"));
                Assert.That(err, Does.Contain("connection 1 closed after 2 request(s): dropped"));
                Assert.That(busy.ServerCloses(), Is.True, "the power failure dropped the busy connection");
            });
            var onDisk = File.ReadAllBytes(image);
            Assert.That(onDisk.AsSpan(1 << 20, unflushed.Length).ToArray(), Is.All.Zero, "a write never flushed is lost");
        }
        finally
        {
            if (!serve.HasExited)
                serve.Kill(entireProcessTree: true);
        }
    }

    [Test]
    public void AnUnknownCrashPolicyIsAnError()
    {
        var (exit, output, err) = Run("serve", "--image", PlainImage(), "--nbd", "127.0.0.1:0", "--crash-policy", "sometimes");
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1));
            Assert.That(output, Is.Empty);
            Assert.That(err.TrimEnd(), Is.EqualTo("serve: invalid --crash-policy: unknown crash policy 'sometimes': expected strict, all or random:SEED"));
        });
    }

    [Test]
    public void ANegativeRandomCrashSeedIsAnError()
    {
        // An image that does not exist: were the policy accepted, serve would fail on the image
        // instead of serving until a signal that never comes.
        var (exit, output, err) = Run("serve", "--image", Path.Combine(_dir, "absent.img"), "--nbd", "127.0.0.1:0", "--crash-policy", "random:-1");
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1));
            Assert.That(output, Is.Empty);
            Assert.That(err.TrimEnd(), Is.EqualTo("serve: invalid --crash-policy: crash policy 'random:-1': SEED must be 0 to 2147483647"));
        });
    }

    [Test]
    public void MissingImageOptionIsAnError()
    {
        var (exit, _, err) = Run("serve");
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(err, Does.StartWith("serve: --image FILE is required"));
    }

    [Test]
    public void AnEmptyExportNameIsAnErrorInTheCommandsOwnWords()
    {
        var (exit, output, err) = Run("serve", "--image", PlainImage(), "--nbd", "127.0.0.1:0", "--export", "");
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1));
            Assert.That(output, Is.Empty);
            Assert.That(err.TrimEnd(), Is.EqualTo("serve: invalid --export '': an NBD export name must not be empty (the empty name selects the default export)"));
        });
    }

    [Test]
    public void MissingImageFileIsAnError()
    {
        string image = Path.Combine(_dir, "absent.img");
        var (exit, output, err) = Run("serve", "--image", image, "--nbd", "127.0.0.1:0");
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1));
            Assert.That(output, Is.Empty);
            Assert.That(err, Does.StartWith($"serve: image '{image}' does not exist"));
        });
    }

    [Test]
    public void ImageThatIsADirectoryIsAnError()
    {
        string image = Directory.CreateDirectory(Path.Combine(_dir, "dir.img")).FullName;
        var (exit, output, err) = Run("serve", "--image", image, "--nbd", "127.0.0.1:0");
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1));
            Assert.That(output, Is.Empty);
            Assert.That(err, Does.StartWith($"serve: image '{image}' is a directory"), "not 'does not exist'");
        });
    }

    [TestCase("nowhere")]
    [TestCase("127.0.0.1")]
    [TestCase("127.0.0.1:99999")]
    public void MalformedListenAddressIsAnError(string endpoint)
    {
        var (exit, _, err) = Run("serve", "--image", PlainImage(), "--nbd", endpoint);
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(err, Does.StartWith($"serve: invalid --nbd '{endpoint}'"));
    }

    [Test]
    public void PortInUseIsAnError()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        int port = ((IPEndPoint)taken.LocalEndPoint!).Port;
        var (exit, output, err) = Run("serve", "--image", PlainImage(), "--nbd", $"127.0.0.1:{port}");
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1));
            Assert.That(output, Is.Empty, "no status line when nothing is listening");
            Assert.That(err, Does.StartWith($"serve: cannot listen on 127.0.0.1:{port}:"));
        });
    }

    [Test]
    public void InvalidNbdConfigurationIsAnError()
    {
        var (exit, _, err) = Run("serve", "--image", PlainImage(), "--nbd", "127.0.0.1:0", "--Nbd:MaxConnections=0");
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(err, Does.StartWith("serve: Nbd:MaxConnections must be 1-4096"));
    }

    [Test]
    public void ABadNbdSettingIsAnErrorForEveryCommandNotOnlyServe()
    {
        var (exit, _, err) = Run("ndctl", "list", "--image", PlainImage(), "--Nbd:MaxConection=4");
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1), err);
            Assert.That(err, Does.StartWith("daxstack: configuration: ").And.Contain("'MaxConection'"));
        });
    }

    [Test]
    public void AMisspeltNbdSettingIsAnErrorRatherThanIgnored()
    {
        var (exit, output, err) = Run("serve", "--image", PlainImage(), "--nbd", "127.0.0.1:0", "--Nbd:MaxConection=4");
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1), err);
            Assert.That(output, Is.Empty);
            Assert.That(err, Does.StartWith("daxstack: configuration: ").And.Contain("'MaxConection'"));
        });
    }

    [TestCase("MaxConnections", "lots")]
    [TestCase("StopTimeout", "soon")]
    public void NbdSettingThatDoesNotConvertIsAConfigurationError(string key, string value)
    {
        var (exit, output, err) = Run("serve", "--image", PlainImage(), "--nbd", "127.0.0.1:0", $"--Nbd:{key}={value}");
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1), "a bad setting, not an internal error (70)");
            Assert.That(output, Is.Empty);
            Assert.That(err, Does.StartWith("daxstack: configuration: ").And.Contain($"'{value}' at 'Nbd:{key}'"));
        });
    }

    [Test]
    public void ImageWithoutABlockNamespaceIsAnError()
    {
        string image = DevdaxImage();
        var (exit, _, err) = Run("serve", "--image", image, "--nbd", "127.0.0.1:0");
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(err, Does.StartWith("serve: ").And.Contain("no raw or fsdax namespace"));
    }

    [Test]
    public void NamingADevdaxNamespaceIsAnError()
    {
        string image = DevdaxImage();
        var (exit, _, err) = Run("serve", "--image", image, "--nbd", "127.0.0.1:0", "--namespace", "0.0");
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(err, Does.StartWith("serve: namespace0.0 is a devdax namespace"));
    }

    [Test]
    public void NamingAMissingNamespaceIsAnError()
    {
        var (exit, _, err) = Run("serve", "--image", PlainImage(), "--nbd", "127.0.0.1:0", "--namespace", "namespace0.7");
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(err, Does.StartWith("serve: no namespace 'namespace0.7'"));
    }

    private string PlainImage()
    {
        string image = Path.Combine(_dir, "plain.img");
        File.WriteAllBytes(image, new byte[1 << 20]);
        return image;
    }

    private string DevdaxImage()
    {
        string image = Path.Combine(_dir, "devdax.img");
        using var bus = new NvdimmBus(new CostProfileCatalog(new NvdimmOptions()));
        bus.CreateImage(image, 8 << 20).CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Devdax, Size = 4 << 20 });
        return image;
    }

    private static (int Exit, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = DaxstackProgram.Run(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private static Process StartServe(params string[] args) => StartServe(new Dictionary<string, string>(), args);

    private static Process StartServe(Dictionary<string, string> environment, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var (key, value) in environment)
            psi.Environment[key] = value;
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "daxstack.dll"));
        psi.ArgumentList.Add("serve");
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }

    /// <summary>Reads and parses the one status line serve prints once it listens.</summary>
    private static async Task<(string Name, long Size, IPEndPoint Endpoint)> ReadStatusLineAsync(Process serve)
    {
        string? line;
        try
        {
            line = await serve.StandardOutput.ReadLineAsync().WaitAsync(ProcessTimeout);
        }
        catch (TimeoutException)
        {
            serve.Kill(entireProcessTree: true);
            throw;
        }
        if (line == null)
        {
            string err = await serve.StandardError.ReadToEndAsync();
            Assert.Fail($"daxstack serve exited before listening: {err}");
        }
        var match = Regex.Match(line!, @"^daxstack serve: exporting '([^']+)' \((\d+) bytes\) on nbd://([0-9.]+):(\d+)/(\S+)$");
        Assert.That(match.Success, Is.True, $"status line: {line}");
        Assert.That(match.Groups[5].Value, Is.EqualTo(match.Groups[1].Value), "the URI names the export");
        return (match.Groups[1].Value, long.Parse(match.Groups[2].Value),
            new IPEndPoint(IPAddress.Parse(match.Groups[3].Value), int.Parse(match.Groups[4].Value)));
    }

    /// <summary>Sends SIGTERM and waits for the exit; returns the exit status and the rest of both streams.</summary>
    private static Task<(int Exit, string Out, string Err)> StopAsync(Process serve) => SignalAsync(serve, "-TERM");

    /// <summary>Sends the signal <paramref name="signal"/> (a kill option) and waits for the exit; returns the exit status and the rest of both streams.</summary>
    private static async Task<(int Exit, string Out, string Err)> SignalAsync(Process serve, string signal)
    {
        var stdout = serve.StandardOutput.ReadToEndAsync();
        var stderr = serve.StandardError.ReadToEndAsync();
        await KillAsync(serve, signal);
        try
        {
            await serve.WaitForExitAsync().WaitAsync(ProcessTimeout);
        }
        catch (TimeoutException)
        {
            serve.Kill(entireProcessTree: true);
            Assert.Fail($"daxstack serve did not exit within a minute of kill {signal}");
        }
        return (serve.ExitCode, await stdout, await stderr);
    }

    /// <summary>Sends the signal <paramref name="signal"/> (a kill option) to serve.</summary>
    private static async Task KillAsync(Process serve, string signal)
    {
        using var kill = Process.Start("kill", [signal, serve.Id.ToString()]);
        await kill.WaitForExitAsync().WaitAsync(ProcessTimeout);
    }
}
