namespace DaxStack.Interop.Tests.Tools;

/// <summary>
/// A program from a Debian package that the interop tests drive (an NBD client, or the
/// reference NBD server). A missing one is installed from its Debian package on first use; if
/// that is impossible the test fails naming the package: never a reason to skip.
/// </summary>
public sealed class ExternalTool
{
    private ExternalTool(string name, string debianPackage)
    {
        Name = name;
        DebianPackage = debianPackage;
    }

    /// <summary>libnbd's export inspector.</summary>
    public static ExternalTool NbdInfo { get; } = new("nbdinfo", "libnbd-bin");

    /// <summary>libnbd's parallel copier between files and NBD exports.</summary>
    public static ExternalTool NbdCopy { get; } = new("nbdcopy", "libnbd-bin");

    /// <summary>QEMU's block-layer exerciser (one request per command).</summary>
    public static ExternalTool QemuIo { get; } = new("qemu-io", "qemu-utils");

    /// <summary>QEMU's image converter and comparer.</summary>
    public static ExternalTool QemuImg { get; } = new("qemu-img", "qemu-utils");

    /// <summary>The reference NBD server (its memory plugin and filters ship in the same package).</summary>
    public static ExternalTool Nbdkit { get; } = new("nbdkit", "nbdkit");

    /// <summary>strace, to see the system calls a daxstack command makes.</summary>
    public static ExternalTool Strace { get; } = new("strace", "strace");

    /// <summary>The program's name as typed on a command line.</summary>
    public string Name { get; }

    /// <summary>The Debian package that installs it.</summary>
    public string DebianPackage { get; }

    /// <summary>
    /// The program's full path on PATH, installing its Debian package first when it is missing
    /// (see <see cref="DaxStack.Tests.Shared.DebianPackages"/>); fails the test naming the package
    /// when it cannot be had.
    /// </summary>
    public string Locate()
    {
        if (DaxStack.Tests.Shared.DebianPackages.Find(Name, DebianPackage, out string? problem) is { } path)
            return path;
        Assert.Fail($"{Name} is not installed and could not be installed ({problem}): install the Debian package '{DebianPackage}' (apt-get install {DebianPackage})");
        throw new InvalidOperationException("unreachable: Assert.Fail throws");
    }

    /// <summary>
    /// Runs the program to completion with no input, killing it and failing the test if it has
    /// not exited within <paramref name="timeout"/>.
    /// </summary>
    public ToolResult Run(TimeSpan timeout, params string[] args) => ChildProcess.Run(Locate(), Name, args, timeout);

    /// <summary>A command line as a shell user would type it, for messages and reports.</summary>
    public static string CommandLine(string program, IEnumerable<string> args) =>
        string.Join(' ', new[] { program }.Concat(args.Select(Quote)));

    private static string Quote(string arg) =>
        arg.Length > 0 && arg.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=,@+%".Contains(c)) ? arg : $"'{arg.Replace("'", "'\\''")}'";
}
