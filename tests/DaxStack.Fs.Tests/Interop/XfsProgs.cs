using System.Diagnostics;

namespace DaxStack.Fs.Tests.Interop;

/// <summary>
/// Runs the xfsprogs tools (mkfs.xfs, xfs_repair, xfs_db) with a time bound. A missing tool is
/// installed from the Debian package <c>xfsprogs</c> on first use; if that is impossible the test
/// fails saying so, never skips it.
/// </summary>
internal static class XfsProgs
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Where <paramref name="tool"/> is (PATH, then /usr/sbin and /sbin, where Debian puts them),
    /// installing xfsprogs first when it is missing (see <see cref="DaxStack.Tests.Shared.DebianPackages"/>).
    /// </summary>
    public static string Locate(string tool)
    {
        if (DaxStack.Tests.Shared.DebianPackages.Find(tool, "xfsprogs", out string? problem) is { } path)
            return path;
        Assert.Fail($"{tool} is not installed and could not be installed ({problem}): install the Debian package xfsprogs (apt-get install xfsprogs)");
        return "";
    }

    /// <summary>Runs <paramref name="tool"/> to completion; kills it and fails the test if it runs past the bound.</summary>
    public static (int Status, string Out, string Err) Run(string tool, params string[] args)
    {
        var psi = new ProcessStartInfo(Locate(tool))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        // xfs_db prints times in local time; both sides of a comparison run in this process's zone.
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {tool}");
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(Timeout))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"{tool} {string.Join(' ', args)} did not finish within {Timeout.TotalSeconds} s");
        }
        if (!Task.WaitAll([stdout, stderr], TimeSpan.FromSeconds(10)))
            Assert.Fail($"{tool} exited but its output stayed open");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary><c>xfs_repair -n -f IMAGE</c>.</summary>
    public static (int Status, string Out, string Err) RepairNoModify(string image) => Run("xfs_repair", "-n", "-f", image);

    /// <summary><c>xfs_db -r IMAGE -c CMD...</c>; its output lines.</summary>
    public static string[] Db(string image, params string[] commands)
    {
        var args = new List<string> { "-r", image };
        foreach (var c in commands)
            args.AddRange(["-c", c]);
        var (status, output, error) = Run("xfs_db", [.. args]);
        Assert.That(status, Is.Zero, $"xfs_db failed: {error}");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary><c>mkfs.xfs</c> with DaxStack's feature set and <paramref name="extra"/> options on a sparse file.</summary>
    public static void MkfsXfs(string image, params string[] extra)
    {
        var (status, _, error) = Run("mkfs.xfs", ["-q", "-f", "-m", "crc=1,finobt=1,rmapbt=0", "-i", "sparse=0", "--unsupported", .. extra, image]);
        Assert.That(status, Is.Zero, $"mkfs.xfs failed: {error}");
    }

    /// <summary>Asserts that <c>xfs_repair -n</c> exits 0 on <paramref name="image"/>, reaches phase 7 and reports nothing it would fix; <paramref name="when"/> names the state in messages.</summary>
    public static void AssertRepairPasses(string image, string when)
    {
        var (status, output, error) = RepairNoModify(image);
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.Zero, $"xfs_repair -n failed {when}:\n{output}\n{error}");
            Assert.That(output + error, Does.Not.Contain("would").IgnoreCase.And.Not.Contain("bad ").IgnoreCase, when);
            Assert.That(output + error, Does.Contain("Phase 7 - verify link counts"), when);
        });
    }

    /// <summary>The <c>name = value</c> fields <c>xfs_db -r</c> prints for <paramref name="command"/> (e.g. "agf 1").</summary>
    public static Dictionary<string, string> DbFields(string image, string command) =>
        Db(image, command, "print")
            .Select(l => l.Split(" = ", 2))
            .Where(p => p.Length == 2)
            .ToDictionary(p => p[0].Trim(), p => p[1].Trim());
}
