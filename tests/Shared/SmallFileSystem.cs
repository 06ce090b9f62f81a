using System.Diagnostics;

namespace DaxStack.Tests.Shared;

/// <summary>
/// A tmpfs of a given size mounted over a directory, for tests of what happens when a file
/// system fills up; unmounted on dispose. Mounting needs root (CAP_SYS_ADMIN): where it is not
/// permitted the test is ignored, with the reason.
/// </summary>
internal sealed class SmallFileSystem : IDisposable
{
    private string? _mounted;

    private SmallFileSystem(string path) => _mounted = path;

    /// <summary>The mounted directory.</summary>
    public string Path => _mounted ?? throw new ObjectDisposedException(nameof(SmallFileSystem));

    /// <summary>Mounts a tmpfs of <paramref name="size"/> (mount's syntax: "1m") over the existing directory <paramref name="directory"/>.</summary>
    public static SmallFileSystem Mount(string directory, string size)
    {
        var psi = new ProcessStartInfo("mount", ["-t", "tmpfs", "-o", $"size={size}", "tmpfs", directory]) { RedirectStandardError = true };
        try
        {
            using var p = Process.Start(psi)!;
            string err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0)
                Assert.Ignore($"cannot mount a {size} tmpfs here: {err.Trim()}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Assert.Ignore($"cannot run mount: {e.Message}");
        }
        return new SmallFileSystem(directory);
    }

    /// <summary>Writes a file in it until the file system is full.</summary>
    public void Fill(string name = "fill")
    {
        using var fs = new FileStream(System.IO.Path.Combine(Path, name), FileMode.Create);
        var chunk = new byte[4096];
        try
        {
            while (true)
                fs.Write(chunk);
        }
        catch (IOException)
        {
            // Full.
        }
    }

    public void Dispose()
    {
        if (_mounted == null)
            return;
        using var p = Process.Start(new ProcessStartInfo("umount", [_mounted]))!;
        p.WaitForExit();
        _mounted = null;
    }
}
