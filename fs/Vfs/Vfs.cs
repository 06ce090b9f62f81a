using DaxStack.Device.Errors;

namespace DaxStack.Fs.Vfs;

/// <summary>
/// The mount table: the root filesystem and every filesystem mounted on a directory of another.
/// Processes made with <see cref="CreateProcess"/> share it.
/// </summary>
/// <remarks>Models the kernel's mount namespace (<c>struct mnt_namespace</c>) with <c>do_new_mount</c> and <c>do_umount</c>.</remarks>
public sealed class Vfs
{
    private readonly Lock _lock = new();
    private readonly List<Mount> _mounts = new();
    private ulong _nextDev = 1;

    /// <summary>A tree with <paramref name="rootType"/> mounted at "/".</summary>
    public Vfs(IFileSystemType rootType, bool readOnly = false)
    {
        RootMount = new Mount(MountSuper(rootType, readOnly), null, null, "/");
        _mounts.Add(RootMount);
    }

    /// <summary>The mount at "/".</summary>
    public Mount RootMount { get; }

    /// <summary>Every mount, root first.</summary>
    public IReadOnlyList<Mount> Mounts
    {
        get
        {
            lock (_lock)
            {
                return _mounts.ToArray();
            }
        }
    }

    /// <summary>A process with <paramref name="credentials"/>, its working directory "/".</summary>
    public Process CreateProcess(Credentials credentials) => new(this, credentials);

    internal Mount? MountedOn(Mount parent, Inode dir)
    {
        lock (_lock)
        {
            // The newest mount on a directory hides older ones, as stacked mounts do.
            for (int i = _mounts.Count - 1; i >= 0; i--)
            {
                if (_mounts[i].Parent == parent && _mounts[i].MountPoint == dir)
                {
                    return _mounts[i];
                }
            }

            return null;
        }
    }

    internal bool IsMountPoint(Mount parent, Inode dir) => MountedOn(parent, dir) != null;

    internal Mount Attach(IFileSystemType type, VfsPath at, string path, bool readOnly)
    {
        var sb = MountSuper(type, readOnly);
        var mount = new Mount(sb, at.Mount, at.Inode, path);
        lock (_lock)
        {
            _mounts.Add(mount);
        }

        at.Mount.Get();
        return mount;
    }

    internal void Detach(Mount mount)
    {
        lock (_lock)
        {
            // do_umount: open files, working directories or mounts below keep it busy.
            if (mount.Parent == null || mount.Busy != 0 || _mounts.Exists(m => m.Parent == mount))
            {
                throw new ErrnoException(Errno.EBUSY, $"umount: {mount.Path}: target is busy");
            }

            _mounts.Remove(mount);
        }

        mount.Parent.Put();
        mount.Sb.Operations.PutSuper();
    }

    private SuperBlock MountSuper(IFileSystemType type, bool readOnly)
    {
        var sb = type.Mount(readOnly);
        if (sb.Root == null || !sb.Root.IsDirectory)
        {
            throw new InvalidOperationException($"{type.Name}: mount returned no root directory");
        }

        sb.ReadOnly |= readOnly;
        lock (_lock)
        {
            sb.Dev = _nextDev++;
        }

        return sb;
    }
}
