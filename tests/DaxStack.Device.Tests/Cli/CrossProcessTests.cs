using System.Diagnostics;
using System.Runtime.Versioning;
using DaxStack.Device.Cost;
using DaxStack.Device.Hosting;
using DaxStack.Device.Namespaces;
using DaxStack.Device.Poison;

namespace DaxStack.Device.Tests.Cli;

/// <summary>
/// An image outlives the process that wrote it: stores fenced in this process are read by a
/// daxstack child process, and poison injected by a child process is seen here.
/// </summary>
public class CrossProcessTests
{
    private string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("daxstack-xproc-").FullName;

    [TearDown]
    public void TearDown()
    {
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(_dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Directory.Delete(_dir, recursive: true);
    }

    private static (int Exit, string Out, string Err) Daxstack(params string[] args) => Run([], args);

    // daxstack in a child process, run through 'prefix' (a command such as setpriv) when given.
    private static (int Exit, string Out, string Err) Run(string[] prefix, string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "daxstack.dll");
        var psi = new ProcessStartInfo(prefix.Length > 0 ? prefix[0] : "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in prefix.Skip(1))
            psi.ArgumentList.Add(a);
        if (prefix.Length > 0)
            psi.ArgumentList.Add("dotnet");
        psi.ArgumentList.Add(dll);
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(60_000))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail("daxstack child process did not exit within 60 s");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    private static CostProfileCatalog Catalog() => new(new NvdimmOptions());

    [Test]
    public void PoisonInjectedByAnotherProcessRaisesAMachineCheckHere()
    {
        string image = Path.Combine(_dir, "pmem.img");
        var (exit, _, err) = Daxstack("ndctl", "create-namespace", "--image", image, "--size", "16M", "--mode", "fsdax");
        Assert.That(exit, Is.Zero, err);
        (exit, _, err) = Daxstack("ndctl", "inject-error", "namespace0.0", "--image", image, "-B", "16", "-n", "1");
        Assert.That(exit, Is.Zero, err);

        using var bus = new NvdimmBus(Catalog());
        var ns = bus.OpenImage(image).Namespaces.Single();
        var cpu = bus.Space.CreateCpu();
        var e = Assert.Throws<MachineCheckException>(() => cpu.Load(ns.PhysicalAddress + 16 * 512 + 8, new byte[8]));
        Assert.That(e!.PhysicalAddress, Is.EqualTo(ns.PhysicalAddress + 16 * 512 + 8), "the first poisoned byte the load touched");
    }

    [Test]
    public void NamespacesWrittenHereAreListedByAnotherProcessAndTheDataStaysInTheImage()
    {
        string image = Path.Combine(_dir, "pmem.img");
        using (var bus = new NvdimmBus(Catalog()))
        {
            var region = bus.CreateImage(image, 8 << 20);
            var ns = region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Fsdax, Size = 4 << 20 });
            var cpu = bus.Space.CreateCpu();
            cpu.Store(ns.PhysicalAddress, "written by the parent"u8);
            cpu.Clwb(ns.PhysicalAddress);
            cpu.Sfence();
        }
        var (exit, output, err) = Daxstack("ndctl", "list", "--image", image);
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.Zero, err);
            Assert.That(output, Does.Contain("\"mode\": \"fsdax\"").And.Contain("\"size\": 4194304"));
        });
        // The child opened and closed the image (an orderly exit): the data is still there.
        Assert.That(File.ReadAllBytes(image).AsSpan(0, 21).ToArray(), Is.EqualTo("written by the parent"u8.ToArray()));
    }

    [Test]
    [UnsupportedOSPlatform("windows")]
    public void ClearErrorsWhereTheBadblocksFileCannotBeUpdatedFailsBeforeZeroingAnything()
    {
        string image = Path.Combine(_dir, "pmem.img");
        var (exit, _, err) = Daxstack("ndctl", "create-namespace", "--image", image, "--size", "16M", "--mode", "fsdax");
        Assert.That(exit, Is.Zero, err);
        var pattern = new byte[16 << 20];
        Array.Fill(pattern, (byte)0xab);
        File.WriteAllBytes(image, pattern);
        (exit, _, err) = Daxstack("ndctl", "inject-error", "namespace0.0", "--image", image, "-B", "16", "-n", "1");
        Assert.That(exit, Is.Zero, err);
        string badblocks = File.ReadAllText(image + ".badblocks");

        // A directory the command may read but not write. Root ignores permissions, so as root
        // the command runs without the capabilities that let it (it still owns the image).
        string[] prefix = [];
        if (Environment.UserName == "root")
            prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"];
        File.SetUnixFileMode(_dir, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.GroupRead
            | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        if (prefix.Length > 0 && Run(prefix, ["--version"]).Exit != 0)
            Assert.Ignore("cannot run daxstack without CAP_DAC_OVERRIDE here (setpriv missing or not permitted)");

        (exit, _, err) = Run(prefix, ["ndctl", "clear-errors", "namespace0.0", "--image", image]);
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1), err);
            Assert.That(err, Does.Contain($"cannot update badblocks file '{image}.badblocks'").And.Contain("Permission denied"));
            Assert.That(File.ReadAllBytes(image), Is.EqualTo(pattern), "no block was zeroed");
            Assert.That(File.ReadAllText(image + ".badblocks"), Is.EqualTo(badblocks), "the bad block is still listed");
        });
    }
}
