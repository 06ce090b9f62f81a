using System.Security.Cryptography;
using DaxStack.Device.Cost;
using DaxStack.Device.Hosting;
using DaxStack.Device.Namespaces;

namespace DaxStack.Device.Tests.Namespaces;

/// <summary>A temporary directory for images and their label and badblocks files, removed on dispose.</summary>
internal sealed class ImageDirectory : IDisposable
{
    public ImageDirectory()
    {
        Root = Directory.CreateTempSubdirectory("daxstack-ns-").FullName;
    }

    public string Root { get; }

    /// <summary>The default cost profiles (no configuration).</summary>
    public static CostProfileCatalog Profiles { get; } = new(new NvdimmOptions());

    /// <summary>A path in the directory.</summary>
    public string PathOf(string name) => Path.Combine(Root, name);

    /// <summary>
    /// A plain image (no label file) of <paramref name="size"/> bytes, sparse, with a recognisable
    /// byte pattern in its first and last pages so damage to it shows.
    /// </summary>
    public string PlainImage(string name, long size)
    {
        string path = PathOf(name);
        using var fs = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        fs.SetLength(size);
        var pattern = Enumerable.Range(0, 4096).Select(i => (byte)(i * 7 + 1)).ToArray();
        fs.Write(pattern);
        fs.Seek(size - 4096, SeekOrigin.Begin);
        fs.Write(pattern);
        return path;
    }

    /// <summary>A new bus, as a new process would have.</summary>
    public static NvdimmBus NewBus() => new(Profiles);

    /// <summary>File name to SHA-256 of every file in the directory: equal snapshots mean nothing was written, created or removed.</summary>
    public IReadOnlyDictionary<string, string> Snapshot()
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Directory.GetFiles(Root))
        {
            using var fs = File.OpenRead(file);
            result[Path.GetFileName(file)] = Convert.ToHexString(SHA256.HashData(fs));
        }
        return result;
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
