using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Ramfs;

/// <summary>The ramfs filesystem type: each mount is a new, empty in-memory instance.</summary>
/// <remarks>Models <c>ramfs_fs_type</c> / <c>shmem_fs_type</c> and <c>ramfs_fill_super</c>.</remarks>
public sealed class RamfsFileSystemType : IFileSystemType
{
    public RamfsFileSystemType(RamfsOptions? options = null)
    {
        Options = options ?? new RamfsOptions();
    }

    public RamfsOptions Options { get; }

    /// <inheritdoc/>
    public string Name => "ramfs";

    /// <summary>The instance the last <see cref="Mount"/> made.</summary>
    public RamfsSuper? LastMounted { get; private set; }

    /// <inheritdoc/>
    public SuperBlock Mount(bool readOnly)
    {
        var super = new RamfsSuper(Options);
        var root = super.NewInode(InodeMode.S_IFDIR | 0x1ED, Credentials.Root, null);
        root.Nlink = 2;
        root.Parent = root;
        super.Sb.Root = root;
        LastMounted = super;
        return super.Sb;
    }
}
