namespace DaxStack.Fs.Vfs;

/// <summary>
/// A filesystem instance attached to the tree: where it is mounted, whether read-only, and how
/// many open files, working directories and child mounts keep it busy.
/// </summary>
/// <remarks>Models the kernel's <c>struct vfsmount</c> / <c>struct mount</c> (<c>mnt_sb</c>, <c>mnt_parent</c>, <c>mnt_mountpoint</c>, <c>MNT_READONLY</c>, <c>mnt_count</c>).</remarks>
public sealed class Mount
{
    private int _busy;

    internal Mount(SuperBlock sb, Mount? parent, Inode? mountPoint, string path)
    {
        Sb = sb;
        Parent = parent;
        MountPoint = mountPoint;
        Path = path;
    }

    public SuperBlock Sb { get; }

    /// <summary>The mount this one sits on; null for the root mount.</summary>
    public Mount? Parent { get; }

    /// <summary>The directory of <see cref="Parent"/> this mount covers; null for the root mount.</summary>
    public Inode? MountPoint { get; }

    /// <summary>The absolute path it was mounted at.</summary>
    public string Path { get; }

    public bool ReadOnly => Sb.ReadOnly;

    public Inode Root => Sb.Root!;

    /// <summary>Open files, working directories and child mounts that keep it mounted.</summary>
    internal int Busy => Volatile.Read(ref _busy);

    internal void Get() => Interlocked.Increment(ref _busy);

    internal void Put() => Interlocked.Decrement(ref _busy);
}
