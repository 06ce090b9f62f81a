namespace DaxStack.Fs.Tests.Vfs.Model;

/// <summary>A file or directory of the reference model: bytes or named children, and a link count kept by the model's own rules.</summary>
internal sealed class ModelNode
{
    private ModelNode(bool isDirectory)
    {
        IsDirectory = isDirectory;
    }

    public bool IsDirectory { get; }

    public byte[] Data { get; set; } = [];

    public SortedDictionary<string, ModelNode> Children { get; } = new(StringComparer.Ordinal);

    /// <summary>The directory holding this one (itself for the root); unused for files.</summary>
    public ModelNode? Parent { get; set; }

    public uint Nlink { get; set; }

    /// <summary>Permission bits (no file type).</summary>
    public uint Mode { get; set; }

    public uint Uid { get; set; }

    public uint Gid { get; set; }

    /// <summary>Extended attributes by full name.</summary>
    public SortedDictionary<string, byte[]> Xattrs { get; } = new(StringComparer.Ordinal);

    public static ModelNode NewFile(uint uid, uint gid, uint mode) => new(false) { Nlink = 1, Uid = uid, Gid = gid, Mode = mode };

    public static ModelNode NewDirectory(ModelNode? parent, uint uid, uint gid, uint mode)
    {
        var d = new ModelNode(true) { Nlink = 2, Uid = uid, Gid = gid, Mode = mode };
        d.Parent = parent ?? d;
        return d;
    }

    /// <summary>Sets the size, cutting or appending zero bytes.</summary>
    public void Resize(long size)
    {
        var data = Data;
        Array.Resize(ref data, (int)size);
        Data = data;
    }
}
