using System.Diagnostics;
using System.Runtime.Versioning;
using DaxStack.Device.Cost;
using DaxStack.Device.Errors;
using DaxStack.Device.Hosting;
using DaxStack.Device.Namespaces;
using DaxStack.Device.Poison;
using DaxStack.Tests.Shared;

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
    private static (int Exit, string Out, string Err) Run(string[] prefix, string[] args) => DaxstackProcess.Run(prefix, args);

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

    // An image whose block 'block' holds 0xab and is poisoned, in 'dir'; the badblocks file's text.
    private static string PoisonedImage(string image, long size, int block)
    {
        using (var fs = new FileStream(image, FileMode.CreateNew))
        {
            fs.SetLength(size);
            fs.Position = block * 512L;
            fs.Write(Enumerable.Repeat((byte)0xab, 512).ToArray());
        }
        var (exit, _, err) = Daxstack("ndctl", "inject-error", "namespace0.0", "--image", image, "-B", block.ToString(), "-n", "1");
        Assert.That(exit, Is.Zero, err);
        return File.ReadAllText(image + ".badblocks");
    }

    private static byte[] BlockOf(string image, int block)
    {
        using var fs = new FileStream(image, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var bytes = new byte[512];
        fs.Position = block * 512L;
        fs.ReadExactly(bytes);
        return bytes;
    }

    [Test]
    [UnsupportedOSPlatform("macos")]
    public void ANamespaceHeldByAnotherProcessCannotBeDestroyedOrReconfiguredEvenWithForce()
    {
        string image = Path.Combine(_dir, "pmem.img");
        using (var bus = new NvdimmBus(Catalog()))
        {
            var region = bus.CreateImage(image, 32 << 20);
            region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Raw, Size = 16 << 20, Name = "a" });
            region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Raw, Size = 16 << 20, Name = "b" });
        }
        string labels = Convert.ToHexString(File.ReadAllBytes(image + ".labels"));
        using (var bus = new NvdimmBus(Catalog()))
        {
            var region = bus.OpenImage(image);
            // As daxstack serve holds the namespace it exports.
            using var hold = region.Hold(region.GetNamespace("namespace0.1"));
            foreach (var args in new[]
            {
                new[] { "ndctl", "destroy-namespace", "namespace0.1", "--image", image, "--force" },
                new[] { "ndctl", "create-namespace", "-e", "namespace0.1", "--image", image, "--force", "--mode", "fsdax" },
            })
            {
                var (exit, _, err) = Daxstack(args);
                Assert.Multiple(() =>
                {
                    Assert.That(exit, Is.EqualTo(1), err);
                    Assert.That(err, Does.Contain("namespace0.1 is in use").And.Contain("Device or resource busy"));
                });
            }
            var (other, _, otherErr) = Daxstack("ndctl", "destroy-namespace", "namespace0.0", "--image", image, "--force");
            Assert.That(other, Is.Zero, "another namespace is not held: " + otherErr);
            labels = Convert.ToHexString(File.ReadAllBytes(image + ".labels"));
        }
        // Released with the process's bus: destroying it works now.
        var (exitAfter, _, errAfter) = Daxstack("ndctl", "destroy-namespace", "namespace0.1", "--image", image, "--force");
        Assert.That(exitAfter, Is.Zero, errAfter);
        Assert.That(Convert.ToHexString(File.ReadAllBytes(image + ".labels")), Is.Not.EqualTo(labels));
    }

    [Test]
    [Platform("Linux")]
    [UnsupportedOSPlatform("macos")]
    public void AHoldOutlastsThisProcessClosingOtherDescriptorsOfTheImage()
    {
        string image = Path.Combine(_dir, "pmem.img");
        using (var bus = new NvdimmBus(Catalog()))
            bus.CreateImage(image, 16 << 20).CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Raw, Size = 16 << 20 });
        using var holder = new NvdimmBus(Catalog());
        var region = holder.OpenImage(image);
        var ns = region.GetNamespace("namespace0.0");
        using var hold = region.Hold(ns);

        // Work on the image that opens and closes descriptors of it in this process: a poisoned
        // block recorded in the badblocks file (under the image's label lock, on a descriptor of
        // its own) and a plain open, POSIX-locked and closed. The kernel drops every POSIX lock this
        // process has on a file when it closes any descriptor of it.
        region.InjectError(ns, 8, 1);
        using (var other = new FileStream(image, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite))
            other.Lock(1, 1);

        var (exit, _, err) = Daxstack("ndctl", "destroy-namespace", "namespace0.0", "--image", image, "--force");
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1), err);
            Assert.That(err, Does.Contain("namespace0.0 is in use").And.Contain("Device or resource busy"));
            Assert.That(File.Exists(image + ".badblocks"), Is.True, "the poison was recorded beside the image");
        });

        // Another open of the image in this process is another holder, as another process is.
        using var second = new NvdimmBus(Catalog());
        var again = second.OpenImage(image);
        var busy = Assert.Throws<NamespaceException>(() => again.Hold(again.GetNamespace("namespace0.0")));
        Assert.That(busy!.Errno, Is.EqualTo(Errno.EBUSY));

        hold.Dispose();
        using (again.Hold(again.GetNamespace("namespace0.0")))
        {
            // Released with the first hold: the second open may hold it now.
        }
        (exit, _, err) = Daxstack("ndctl", "destroy-namespace", "namespace0.0", "--image", image, "--force");
        Assert.That(exit, Is.Zero, err);
    }

    [Test]
    [UnsupportedOSPlatform("macos")]
    public void ClearErrorsWhileAnotherProcessHoldsTheImageLockFailsHavingChangedNothing()
    {
        string image = Path.Combine(_dir, "pmem.img");
        string badblocks = PoisonedImage(image, 16 << 20, 5);
        using (var holder = new FileStream(image, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite))
        {
            holder.Lock(0, 1);
            var (exit, _, err) = Daxstack("ndctl", "clear-errors", "namespace0.0", "--image", image);
            Assert.Multiple(() =>
            {
                Assert.That(exit, Is.EqualTo(1), err);
                Assert.That(err, Does.Contain("locked by another process"));
                Assert.That(BlockOf(image, 5), Is.All.EqualTo(0xab), "the poisoned block was not zeroed");
                Assert.That(File.ReadAllText(image + ".badblocks"), Is.EqualTo(badblocks), "the block is still recorded bad");
            });
        }
        var (again, _, againErr) = Daxstack("ndctl", "clear-errors", "namespace0.0", "--image", image);
        Assert.Multiple(() =>
        {
            Assert.That(again, Is.Zero, againErr);
            Assert.That(BlockOf(image, 5), Is.All.EqualTo(0));
            Assert.That(File.Exists(image + ".badblocks"), Is.False);
        });
    }

    [Test]
    [UnsupportedOSPlatform("windows")]
    public void AnImageNameThatIsNotUtf8IsRefusedRatherThanReadAsAnotherName()
    {
        // .NET cannot pass such bytes to a child process: the shell makes the argument.
        string dll = Path.Combine(AppContext.BaseDirectory, "daxstack.dll");
        string dir = _dir.Replace("'", "'\\''");
        var psi = new ProcessStartInfo("/bin/bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-c");
        // The shell counts the files, then removes its own (.NET could not: it cannot name it).
        psi.ArgumentList.Add($"cd '{dir}' && truncate -s 8M $'\\xff.img' || exit 99; dotnet '{dll}' ndctl create-namespace --image $'\\xfe.img' -s 4M -m raw; "
            + "rc=$?; n=$(ls -A | wc -l); rm -f -- $'\\xff.img'; echo files=$n; exit $rc");
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.Multiple(() =>
        {
            Assert.That(p.ExitCode, Is.EqualTo(1), err);
            Assert.That(err, Does.Contain("argument '\\xfe.img' is not valid UTF-8"));
            Assert.That(output.Result.Trim(), Is.EqualTo("files=1"), "only the shell's \\xff.img: no image named with U+FFFD was made");
        });
    }

    [TestCase(".labels")]
    [TestCase(".badblocks")]
    [UnsupportedOSPlatform("windows")]
    public void ASideFileThatIsAFifoIsRefusedWithoutWaitingForAWriter(string suffix)
    {
        string image = Path.Combine(_dir, "pmem.img");
        using (var fs = new FileStream(image, FileMode.CreateNew))
            fs.SetLength(8 << 20);
        using (var p = Process.Start(new ProcessStartInfo("mkfifo", [image + suffix]))!)
        {
            p.WaitForExit();
            Assert.That(p.ExitCode, Is.Zero, "mkfifo");
        }
        var started = Stopwatch.StartNew();
        var (exit, _, err) = Daxstack("ndctl", "list", "--image", image);
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1), err);
            Assert.That(err, Does.Contain("is a FIFO, not a regular file"));
            Assert.That(started.Elapsed, Is.LessThan(TimeSpan.FromSeconds(30)), "no wait for a writer");
        });
    }

    // A tmpfs of 'size' mounted at a new directory, unmounted at tear-down (or the test is
    // ignored where mounting is not permitted).
    private SmallFileSystem MountSmallFileSystem(string size)
    {
        string mnt = Path.Combine(_dir, "mnt");
        Directory.CreateDirectory(mnt);
        _mounted = SmallFileSystem.Mount(mnt, size);
        return _mounted;
    }

    private SmallFileSystem? _mounted;

    [TearDown]
    public void Unmount()
    {
        _mounted?.Dispose();
        _mounted = null;
    }

    [Test]
    [UnsupportedOSPlatform("windows")]
    public void ClearErrorsOnASparseImageInAFullFileSystemFailsWithEnospcNotACrash()
    {
        var small = MountSmallFileSystem("1m");
        string mnt = small.Path;
        string image = Path.Combine(mnt, "sparse.img");
        string badblocks = PoisonedImage(image, 4 << 20, 3000);
        // The poisoned block's page is allocated (it holds 0xab); the zeros go there. Poison a
        // block in a hole as well: writing its zeros needs a new page.
        var (exit, _, err) = Daxstack("ndctl", "inject-error", "namespace0.0", "--image", image, "-B", "7000", "-n", "8");
        Assert.That(exit, Is.Zero, err);
        badblocks = File.ReadAllText(image + ".badblocks");
        small.Fill();

        (exit, _, err) = Daxstack("ndctl", "clear-errors", "namespace0.0", "--image", image);
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1), "a clear error, not a crash: " + err);
            Assert.That(err, Does.Contain("No space left on device"));
            Assert.That(BlockOf(image, 3000), Is.All.EqualTo(0xab), "nothing was zeroed");
            Assert.That(File.ReadAllText(image + ".badblocks"), Is.EqualTo(badblocks), "the blocks are still recorded bad");
        });

        File.Delete(Path.Combine(mnt, "fill"));
        (exit, _, err) = Daxstack("ndctl", "clear-errors", "namespace0.0", "--image", image);
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.Zero, err);
            Assert.That(BlockOf(image, 3000), Is.All.EqualTo(0));
            Assert.That(BlockOf(image, 7003), Is.All.EqualTo(0));
            Assert.That(File.Exists(image + ".badblocks"), Is.False);
        });
    }

    [Test]
    [UnsupportedOSPlatform("windows")]
    public void ClearErrorsWhoseBadblocksFileHasNoRoomFailsHavingChangedNothing()
    {
        var small = MountSmallFileSystem("1m");
        string mnt = small.Path;
        string image = Path.Combine(mnt, "pmem.img");
        File.WriteAllBytes(image, Enumerable.Repeat((byte)0xab, 256 << 10).ToArray());
        foreach (var args in new[]
        {
            new[] { "ndctl", "destroy-namespace", "namespace0.0", "--image", image, "-f" },
            new[] { "ndctl", "create-namespace", "--image", image, "-s", "128K", "-m", "raw" },
            new[] { "ndctl", "create-namespace", "--image", image, "-s", "128K", "-m", "raw" },
            new[] { "ndctl", "inject-error", "namespace0.0", "--image", image, "-B", "5" },
            new[] { "ndctl", "inject-error", "namespace0.1", "--image", image, "-B", "5" },
        })
        {
            var (e, _, er) = Daxstack(args);
            Assert.That(e, Is.Zero, $"{string.Join(' ', args)}: {er}");
        }
        string badblocks = File.ReadAllText(image + ".badblocks");
        small.Fill();

        // Clearing namespace0.0 leaves namespace0.1's range: a new badblocks file, with no room for it.
        var (exit, _, err) = Daxstack("ndctl", "clear-errors", "namespace0.0", "--image", image);
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1), err);
            Assert.That(err, Does.Contain("No space left on device"));
            Assert.That(BlockOf(image, 5), Is.All.EqualTo(0xab), "nothing was zeroed");
            Assert.That(File.ReadAllText(image + ".badblocks"), Is.EqualTo(badblocks), "both ranges are still recorded");
            Assert.That(Directory.GetFiles(mnt, ".*"), Is.Empty, "no temporary file is left behind");
        });
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
