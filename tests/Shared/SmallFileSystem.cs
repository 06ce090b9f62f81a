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
    private readonly bool _ownsDirectory;

    private SmallFileSystem(string path, bool ownsDirectory)
    {
        _mounted = path;
        _ownsDirectory = ownsDirectory;
    }

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
        return new SmallFileSystem(directory, ownsDirectory: false);
    }

    /// <summary>
    /// Mounts a tmpfs of <paramref name="size"/> over a new temporary directory named from
    /// <paramref name="prefix"/>, which <see cref="Dispose"/> removes after unmounting.
    /// </summary>
    public static SmallFileSystem MountTemporary(string prefix, string size)
    {
        string directory = Directory.CreateTempSubdirectory(prefix).FullName;
        try
        {
            Mount(directory, size);
        }
        catch
        {
            Directory.Delete(directory, recursive: true);
            throw;
        }
        return new SmallFileSystem(directory, ownsDirectory: true);
    }

    /// <summary>The file <see cref="SparseImageWithFiller"/> writes beside the image.</summary>
    public string FillerPath => System.IO.Path.Combine(Path, "filler");

    /// <summary>
    /// A sparse image of <paramref name="imageBytes"/> zero bytes (no blocks allocated) named
    /// "sparse.img", and <see cref="FillerPath"/>, a file of <paramref name="fillerBytes"/> to
    /// delete when a test wants room again. Returns the image's path.
    /// </summary>
    public string SparseImageWithFiller(long imageBytes = 8 << 20, int fillerBytes = 256 << 10)
    {
        string image = System.IO.Path.Combine(Path, "sparse.img");
        using (var fs = new FileStream(image, FileMode.CreateNew))
            fs.SetLength(imageBytes);
        File.WriteAllBytes(FillerPath, new byte[fillerBytes]);
        return image;
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
        using (var p = Process.Start(new ProcessStartInfo("umount", [_mounted]))!)
            p.WaitForExit();
        if (_ownsDirectory)
            Directory.Delete(_mounted, recursive: true);
        _mounted = null;
    }
}
