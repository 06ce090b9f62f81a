using System.Diagnostics;

namespace DaxStack.Tests.Shared;

/// <summary>
/// Finds the external programs the interop tests drive and, when one is missing, installs the
/// Debian package that has it (once per package and test run), so that <c>dotnet test</c> works
/// on a fresh Debian machine as the README promises. Installing needs root or password-less sudo
/// and apt-get; without them the caller fails the test naming the package, never skips it.
/// </summary>
internal static class DebianPackages
{
    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(10);
    private static readonly object Gate = new();
    private static readonly Dictionary<string, string?> Attempts = [];

    /// <summary>
    /// The full path of <paramref name="program"/>, installing <paramref name="package"/> first if
    /// the program is not on PATH (or in sbin); null if it is still missing, with why in <paramref name="problem"/>.
    /// </summary>
    public static string? Find(string program, string package, out string? problem)
    {
        problem = null;
        if (OnPath(program) is { } found)
            return found;
        lock (Gate)
        {
            if (!Attempts.TryGetValue(package, out problem))
                Attempts[package] = problem = Install(package);
        }
        found = OnPath(program);
        if (found == null)
            problem ??= $"package '{package}' is installed but has no '{program}' on PATH";
        return found;
    }

    private static string? OnPath(string program)
    {
        // Debian puts administration tools (xfs_repair, mkfs.xfs) in sbin, which a user's PATH may lack.
        var dirs = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/sbin", "/usr/bin"]);
        foreach (var dir in dirs)
        {
            string candidate = Path.Combine(dir, program);
            if (File.Exists(candidate))
                return candidate;
        }
        return null;
    }

    // Null on success, else what went wrong.
    private static string? Install(string package)
    {
        if (!File.Exists("/usr/bin/apt-get"))
            return "apt-get is not available on this machine";
        bool root = Environment.UserName == "root";
        if (!root && !File.Exists("/usr/bin/sudo"))
            return "installing needs root or sudo";
        // Other test assemblies may be installing at the same time: wait for dpkg's lock.
        string[] install = ["apt-get", "install", "-y", "-q", "-o", "DPkg::Lock::Timeout=300", package];
        string? error = Run(root, install);
        if (error == null)
            return null;
        // A fresh machine may have no package lists yet.
        string? update = Run(root, ["apt-get", "update", "-q", "-o", "DPkg::Lock::Timeout=300"]);
        return update ?? Run(root, install);
    }

    private static string? Run(bool root, string[] command)
    {
        var psi = new ProcessStartInfo(root ? command[0] : "sudo")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (!root)
            psi.ArgumentList.Add("-n");
        foreach (var a in root ? command[1..] : command)
            psi.ArgumentList.Add(a);
        psi.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        try
        {
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(InstallTimeout))
            {
                p.Kill(entireProcessTree: true);
                return $"'{string.Join(' ', command)}' did not finish within {InstallTimeout.TotalMinutes} minutes";
            }
            _ = stdout.Result;
            string err = stderr.Result.Trim();
            return p.ExitCode == 0 ? null : $"'{string.Join(' ', command)}' exited {p.ExitCode}: {err}";
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"cannot run {psi.FileName}: {e.Message}";
        }
    }
}
