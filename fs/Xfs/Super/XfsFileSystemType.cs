using DaxStack.Driver.Block;
using DaxStack.Fs.Vfs;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Xfs.Super;

/// <summary>
/// The XFS-like filesystem type for the VFS: mounting reads the superblock, recovers the log if
/// the filesystem was not cleanly unmounted, and hands the VFS a superblock whose root is the
/// root directory. Unmounting (the VFS's put_super) writes a clean log.
/// </summary>
/// <remarks>Models the kernel's <c>xfs_fs_type</c> (<c>struct file_system_type</c> "xfs") with <c>xfs_fs_fill_super</c> / <c>xfs_mountfs</c>.</remarks>
public sealed class XfsFileSystemType : IFileSystemType
{
    private readonly IBlockDeviceOperations _device;
    private readonly XfsMountOptions? _options;

    /// <summary>A filesystem type that mounts the filesystem on <paramref name="device"/>.</summary>
    public XfsFileSystemType(IBlockDeviceOperations device, XfsMountOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        _device = device;
        _options = options;
    }

    public string Name => "xfs";

    /// <summary>The last mount made (for tools and tests that reach below the VFS).</summary>
    public XfsSuper? Super { get; private set; }

    public SuperBlock Mount(bool readOnly)
    {
        var options = _options ?? new XfsMountOptions();
        var mount = XfsMount.Mount(_device, readOnly ? options with { ReadOnly = true } : options);
        // A read-only device mounts read-only whatever was asked (as mount(8) falls back to ro).
        Super = new XfsSuper(mount, readOnly || mount.IsReadOnly);
        return Super.Sb;
    }
}
