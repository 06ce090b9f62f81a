using System.Security.Cryptography;
using DaxStack.Interop.Tests.Servers;
using DaxStack.Interop.Tests.Tools;
using NUnit.Framework.Interfaces;

namespace DaxStack.Interop.Tests;

/// <summary>
/// What every interop test shares: a scratch directory, servers started on free loopback ports
/// and always stopped at teardown (their output is printed when a test fails), and the client
/// invocations with bounded waits. A daxstack server exports a plain 64 MiB image file (one raw
/// namespace); the reference server exports 64 MiB of RAM.
/// </summary>
public abstract class NbdExportTestBase
{
    /// <summary>The size of every export the tests start, in bytes.</summary>
    protected const long ExportSize = 64L << 20;

    /// <summary>The largest payload daxstack promises per request (NBD_INFO_BLOCK_SIZE maximum).</summary>
    protected const long MaximumPayload = 32L << 20;

    /// <summary>How long a server may take to start listening (a cold dotnet start on a busy CI machine).</summary>
    protected static readonly TimeSpan ServerStartTimeout = TimeSpan.FromSeconds(60);

    /// <summary>How long a server may take to stop after a signal.</summary>
    protected static readonly TimeSpan ServerStopTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How long one client command may run (the largest copies 64 MiB).</summary>
    protected static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(60);

    private readonly List<NbdServerProcess> _servers = [];

    /// <summary>The test's own directory, removed at teardown.</summary>
    protected string Scratch { get; private set; } = "";

    /// <summary>The image file a daxstack server exports.</summary>
    protected string ImagePath => Path.Combine(Scratch, "pmem.img");

    [SetUp]
    public void CreateScratchDirectory() => Scratch = Directory.CreateTempSubdirectory("daxstack-interop-").FullName;

    [TearDown]
    public void StopServersAndRemoveScratch()
    {
        bool failed = TestContext.CurrentContext.Result.Outcome.Status == TestStatus.Failed;
        foreach (var server in _servers)
        {
            if (failed)
                TestContext.Out.WriteLine(server.Describe());
            server.Dispose();
        }
        _servers.Clear();
        Directory.Delete(Scratch, recursive: true);
    }

    /// <summary>
    /// Starts a server of <paramref name="kind"/> exporting <see cref="ExportSize"/> bytes. For
    /// daxstack the image is created (sparse, all zeroes) unless the test made it already.
    /// </summary>
    protected NbdServerProcess StartServer(ServerKind kind, bool readOnly = false)
    {
        NbdServerProcess server;
        if (kind == ServerKind.Daxstack)
        {
            if (!File.Exists(ImagePath))
            {
                using var fs = new FileStream(ImagePath, FileMode.CreateNew, FileAccess.Write);
                fs.SetLength(ExportSize);
            }
            server = DaxstackServe.Start(ImagePath, readOnly, ServerStartTimeout);
        }
        else
        {
            server = NbdkitMemory.Start(ExportSize, readOnly, Scratch, ServerStartTimeout);
        }
        _servers.Add(server);
        return server;
    }

    /// <summary>Starts <c>daxstack serve</c> on an image the test prepared.</summary>
    protected NbdServerProcess StartDaxstack(string image, bool readOnly = false)
    {
        var server = DaxstackServe.Start(image, readOnly, ServerStartTimeout);
        _servers.Add(server);
        return server;
    }

    /// <summary>
    /// Runs <c>qemu-io -f raw [-r] -c CMD ... URI</c>: the commands run in order on one
    /// connection, and qemu-io exits non-zero if any of them failed.
    /// </summary>
    protected static ToolResult QemuIo(string uri, bool readOnly, params string[] commands)
    {
        var args = new List<string> { "-f", "raw" };
        if (readOnly)
            args.Add("-r");
        foreach (var c in commands)
        {
            args.Add("-c");
            args.Add(c);
        }
        args.Add(uri);
        return ExternalTool.QemuIo.Run(ClientTimeout, [.. args]);
    }

    /// <summary>
    /// Asserts that every qemu-io command succeeded: exit status 0 and no "failed" report
    /// (a pattern mismatch or an I/O error).
    /// </summary>
    protected static void AssertQemuIoSucceeded(ToolResult result, NbdServerProcess server)
    {
        Assert.That(result.ExitCode, Is.Zero, () => $"{result}\n{server.Describe()}");
        Assert.That(result.AllOutput, Does.Not.Contain("failed"), () => $"{result}\n{server.Describe()}");
    }

    /// <summary>Asserts that a client run exited 0, reporting its output and the server's otherwise.</summary>
    protected static void AssertSucceeded(ToolResult result, NbdServerProcess server) =>
        Assert.That(result.ExitCode, Is.Zero, () => $"{result}\n{server.Describe()}");

    /// <summary>
    /// A file of <paramref name="size"/> pseudo-random bytes from <paramref name="seed"/>, with
    /// an optional all-zero run (so a copy has to clear it, not skip it).
    /// </summary>
    protected string RandomFile(string name, long size, int seed, long zeroOffset = 0, long zeroLength = 0)
    {
        string path = Path.Combine(Scratch, name);
        var rng = new Random(seed);
        var chunk = new byte[1 << 20];
        using var fs = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        for (long pos = 0; pos < size; pos += chunk.Length)
        {
            int n = (int)Math.Min(chunk.Length, size - pos);
            rng.NextBytes(chunk.AsSpan(0, n));
            // Clip the zero run to this chunk.
            long zs = Math.Max(pos, zeroOffset), ze = Math.Min(pos + n, zeroOffset + zeroLength);
            if (ze > zs)
                chunk.AsSpan((int)(zs - pos), (int)(ze - zs)).Clear();
            fs.Write(chunk, 0, n);
        }
        return path;
    }

    /// <summary>The SHA-256 of a file's bytes, in hex.</summary>
    protected static string Sha256(string path)
    {
        using var fs = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(fs));
    }

    /// <summary><paramref name="length"/> bytes of <paramref name="path"/> from <paramref name="offset"/>.</summary>
    protected static byte[] ReadBytes(string path, long offset, int length)
    {
        using var fs = File.OpenRead(path);
        fs.Seek(offset, SeekOrigin.Begin);
        var buffer = new byte[length];
        fs.ReadExactly(buffer);
        return buffer;
    }
}
