namespace DaxStack.Fs.Vfs;

/// <summary>A kind of filesystem the VFS can mount: makes a <see cref="SuperBlock"/> with its root set.</summary>
/// <remarks>Models the kernel's <c>struct file_system_type</c> and its <c>fill_super</c> (<c>get_tree</c>).</remarks>
public interface IFileSystemType
{
    /// <summary>The type name (<c>ramfs</c>, <c>xfs</c>).</summary>
    string Name { get; }

    /// <summary>Mounts an instance, read-only if asked; the returned superblock's <see cref="SuperBlock.Root"/> is set.</summary>
    SuperBlock Mount(bool readOnly);
}
