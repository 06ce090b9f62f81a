using DaxStack.Device.Errors;

namespace DaxStack.Fs.Vfs;

/// <summary>
/// A process as the VFS sees it: credentials, umask, working directory and file-descriptor
/// table, and the POSIX-shaped system calls, which return values and throw
/// <see cref="ErrnoException"/> with the errno Linux returns for the same call. Each method
/// names, in a comment, the kernel function whose checks it models. Several threads may call
/// into one process or several processes at once.
/// </summary>
/// <remarks>
/// Models the kernel's <c>task_struct</c> fields the VFS uses (<c>cred</c>, <c>fs_struct</c>
/// with <c>pwd</c> and <c>umask</c>, <c>files_struct</c> with <c>RLIMIT_NOFILE</c>) and the
/// system calls of <c>fs/open.c</c>, <c>fs/read_write.c</c>, <c>fs/namei.c</c>, <c>fs/ioctl.c</c>,
/// <c>fs/remap_range.c</c>, <c>fs/readdir.c</c>, <c>fs/stat.c</c>, <c>fs/statfs.c</c>, <c>fs/namespace.c</c>.
/// Lock order: superblock namespace lock, then parent directory <c>i_rwsem</c>, then child
/// <c>i_rwsem</c>; the descriptor table lock is never held while calling a filesystem.
/// </remarks>
public sealed partial class Process : IDisposable
{
    /// <summary>The default descriptor limit (<c>RLIMIT_NOFILE</c> soft limit).</summary>
    public const int DefaultFdLimit = 1024;

    private readonly Lock _fdLock = new();
    private OpenFile?[] _fds = new OpenFile?[16];
    private bool[] _cloexec = new bool[16];
    private readonly HashSet<int> _reserved = new();
    private VfsPath _cwd;
    private int _fdLimit = DefaultFdLimit;
    private bool _disposed;

    internal Process(Vfs vfs, Credentials credentials)
    {
        Vfs = vfs;
        Credentials = credentials;
        var root = new VfsPath(vfs.RootMount, vfs.RootMount.Root);
        Grab(root);
        _cwd = root;
    }

    public Vfs Vfs { get; }

    /// <summary>Who the process acts as; may be replaced (setuid, capset).</summary>
    public Credentials Credentials { get; set; }

    /// <summary>Permission bits removed from the mode of created files (<c>umask</c>), 022 by default.</summary>
    public uint Umask { get; set; } = 0x12;

    /// <summary>Descriptors the process may hold (<c>RLIMIT_NOFILE</c>); open beyond it fails with EMFILE.</summary>
    public int FdLimit
    {
        get => _fdLimit;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 0);
            _fdLimit = value;
        }
    }

    /// <summary>The working directory.</summary>
    public VfsPath Cwd
    {
        get
        {
            lock (_fdLock)
            {
                return _cwd;
            }
        }
    }

    /// <summary>Descriptors now open.</summary>
    public int OpenFileCount
    {
        get
        {
            lock (_fdLock)
            {
                return _fds.Count(f => f != null);
            }
        }
    }

    /// <summary>Closes every descriptor and drops the working directory, as process exit does.</summary>
    public void Dispose()
    {
        OpenFile?[] files;
        VfsPath cwd;
        lock (_fdLock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            files = _fds;
            _fds = new OpenFile?[16];
            _cloexec = new bool[16];
            cwd = _cwd;
        }

        foreach (var f in files)
        {
            if (f != null)
            {
                Release(f);
            }
        }

        Drop(cwd);
    }

    /// <summary>Closes a descriptor (<c>close_fd</c>).</summary>
    public void Close(int fd)
    {
        OpenFile file;
        lock (_fdLock)
        {
            if (fd < 0 || fd >= _fds.Length || _fds[fd] == null)
            {
                throw new ErrnoException(Errno.EBADF, $"close: fd {fd} is not open");
            }

            file = _fds[fd]!;
            _fds[fd] = null;
            _cloexec[fd] = false;
        }

        Release(file);
    }

    private static void Release(OpenFile file)
    {
        // __fput: the filesystem's release, then the references the file held.
        file.Inode.FileOperations.Release(file.Inode, file);
        file.Mount.Put();
        file.Inode.Put();
    }

    private OpenFile GetFile(int fd, string call)
    {
        lock (_fdLock)
        {
            if (fd < 0 || fd >= _fds.Length || _fds[fd] == null)
            {
                throw new ErrnoException(Errno.EBADF, $"{call}: fd {fd} is not open");
            }

            return _fds[fd]!;
        }
    }

    /// <summary>Reserves the lowest free descriptor (<c>get_unused_fd_flags</c>).</summary>
    private int ReserveFd()
    {
        lock (_fdLock)
        {
            for (int fd = 0; fd < _fdLimit; fd++)
            {
                if (fd >= _fds.Length)
                {
                    Array.Resize(ref _fds, Math.Min(Math.Max(_fds.Length * 2, fd + 1), _fdLimit));
                    Array.Resize(ref _cloexec, _fds.Length);
                }

                if (_fds[fd] == null && !_reserved.Contains(fd))
                {
                    _reserved.Add(fd);
                    return fd;
                }
            }

            throw new ErrnoException(Errno.EMFILE, $"open: all {_fdLimit} descriptors are in use");
        }
    }

    private void InstallFd(int fd, OpenFile file, bool cloexec)
    {
        lock (_fdLock)
        {
            _reserved.Remove(fd);
            _fds[fd] = file;
            _cloexec[fd] = cloexec;
        }
    }

    private void UnreserveFd(int fd)
    {
        lock (_fdLock)
        {
            _reserved.Remove(fd);
        }
    }

    private static void Grab(VfsPath path)
    {
        if (!path.Inode.TryGrab())
        {
            throw new ErrnoException(Errno.ENOENT, $"inode {path.Inode.Ino} was removed");
        }

        path.Mount.Get();
    }

    private static void Drop(VfsPath path)
    {
        path.Mount.Put();
        path.Inode.Put();
    }
}
