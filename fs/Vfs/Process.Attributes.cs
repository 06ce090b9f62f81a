using DaxStack.Device.Errors;

namespace DaxStack.Fs.Vfs;

// getdents, stat, chmod, chown, statfs, chdir, mount, umount: fs/readdir.c, fs/stat.c, fs/open.c,
// fs/attr.c, fs/statfs.c, fs/namespace.c.
public sealed partial class Process
{
    /// <summary>
    /// Reads directory entries from the directory's position into <paramref name="entries"/> and
    /// advances the position; returns the count, 0 at the end (<c>getdents64</c>, <c>iterate_dir</c>).
    /// </summary>
    public int Getdents(int fd, Span<DirEntry> entries)
    {
        const string call = "getdents";
        var file = GetFile(fd, call);
        var inode = file.Inode;
        if (!inode.IsDirectory)
        {
            throw new ErrnoException(Errno.ENOTDIR, $"{call}: fd {fd} is not a directory");
        }

        if (entries.Length == 0)
        {
            throw new ErrnoException(Errno.EINVAL, $"{call}: the buffer holds no entry");
        }

        lock (file.PosLock)
        {
            inode.Rwsem.EnterReadLock();
            try
            {
                if (inode.IsDeadDirectory)
                {
                    throw new ErrnoException(Errno.ENOENT, $"{call}: the directory was removed");
                }

                var ctx = new DirContext(file.Pos, entries.Length);
                inode.FileOperations.Iterate(file, ctx);
                file.Pos = ctx.Pos;
                ctx.CopyTo(entries);
                return ctx.Count;
            }
            finally
            {
                inode.Rwsem.ExitReadLock();
            }
        }
    }

    /// <summary>Every entry of the directory at <paramref name="path"/>, "." and ".." included (opendir + getdents to the end).</summary>
    public IReadOnlyList<DirEntry> ReadDirectory(string path)
    {
        int fd = Open(path, OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY);
        try
        {
            var all = new List<DirEntry>();
            var buffer = new DirEntry[64];
            int n;
            while ((n = Getdents(fd, buffer)) > 0)
            {
                all.AddRange(buffer.AsSpan(0, n).ToArray());
            }

            return all;
        }
        finally
        {
            Close(fd);
        }
    }

    /// <summary>Attributes of the inode at <paramref name="path"/> (<c>vfs_statx</c>, <c>generic_fillattr</c>).</summary>
    public Stat Stat(string path) => FillAttr(WalkFull(path, "stat").Inode);

    /// <summary>Attributes of the inode open on <paramref name="fd"/> (<c>vfs_fstat</c>).</summary>
    public Stat Fstat(int fd) => FillAttr(GetFile(fd, "fstat").Inode);

    private static Stat FillAttr(Inode inode)
    {
        inode.Rwsem.EnterReadLock();
        try
        {
            return new Stat(inode.Sb.Dev, inode.Ino, inode.Mode, inode.Nlink, inode.Uid, inode.Gid, inode.Size,
                inode.Sb.BlockSize, inode.Blocks, inode.Atime, inode.Mtime, inode.Ctime);
        }
        finally
        {
            inode.Rwsem.ExitReadLock();
        }
    }

    /// <summary>Changes the permission bits (<c>chmod_common</c>, <c>notify_change</c>, <c>setattr_prepare</c>).</summary>
    public void Chmod(string path, uint mode)
    {
        const string call = "chmod";
        var p = WalkFull(path, call);
        MountWantWrite(p.Mount, call);
        var inode = p.Inode;
        inode.Rwsem.EnterWriteLock();
        try
        {
            if (inode.IsImmutable || inode.IsAppendOnly)
            {
                throw new ErrnoException(Errno.EPERM, $"{call}: {path} is immutable or append-only");
            }

            if (!OwnerOrCapable(inode))
            {
                throw new ErrnoException(Errno.EPERM, $"{call}: {path} is not owned by uid {Credentials.Uid}");
            }

            uint newMode = (inode.Mode & InodeMode.S_IFMT) | (mode & InodeMode.S_IALLUGO);

            // Only a member of the file's group (or CAP_FSETID) may set setgid.
            if (Credentials.Gid != inode.Gid && !Credentials.Capable(Capabilities.CAP_FSETID))
            {
                newMode &= ~InodeMode.S_ISGID;
            }

            inode.Operations.SetAttr(inode, new InodeAttributes(AttrValid.ATTR_MODE | AttrValid.ATTR_CTIME, newMode, 0, 0, 0, Timespec.Now()));
        }
        finally
        {
            inode.Rwsem.ExitWriteLock();
        }
    }

    /// <summary>Changes owner and group; <see cref="uint.MaxValue"/> (-1) keeps one (<c>chown_common</c>, <c>chown_ok</c>, <c>chgrp_ok</c>).</summary>
    public void Chown(string path, uint uid, uint gid)
    {
        const string call = "chown";
        var p = WalkFull(path, call);
        MountWantWrite(p.Mount, call);
        var inode = p.Inode;
        inode.Rwsem.EnterWriteLock();
        try
        {
            var valid = AttrValid.ATTR_CTIME;
            if (uid != uint.MaxValue)
            {
                valid |= AttrValid.ATTR_UID;
            }

            if (gid != uint.MaxValue)
            {
                valid |= AttrValid.ATTR_GID;
            }

            if ((valid & (AttrValid.ATTR_UID | AttrValid.ATTR_GID)) != 0 && (inode.IsImmutable || inode.IsAppendOnly))
            {
                throw new ErrnoException(Errno.EPERM, $"{call}: {path} is immutable or append-only");
            }

            var cred = Credentials;
            bool capChown = cred.Capable(Capabilities.CAP_CHOWN);
            if ((valid & AttrValid.ATTR_UID) != 0 && uid != inode.Uid && !capChown)
            {
                throw new ErrnoException(Errno.EPERM, $"{call}: changing the owner of {path} needs CAP_CHOWN");
            }

            if ((valid & AttrValid.ATTR_GID) != 0 && gid != inode.Gid && !capChown && !(cred.Uid == inode.Uid && gid == cred.Gid))
            {
                throw new ErrnoException(Errno.EPERM, $"{call}: changing the group of {path} needs ownership and membership or CAP_CHOWN");
            }

            uint mode = inode.Mode;
            if (!inode.IsDirectory)
            {
                // A change of owner clears setuid, and setgid when the group may execute.
                mode &= ~InodeMode.S_ISUID;
                if ((mode & InodeMode.S_IXGRP) != 0)
                {
                    mode &= ~InodeMode.S_ISGID;
                }
            }

            if (mode != inode.Mode)
            {
                valid |= AttrValid.ATTR_MODE;
            }

            inode.Operations.SetAttr(inode, new InodeAttributes(valid, mode, uid, gid, 0, Timespec.Now()));
        }
        finally
        {
            inode.Rwsem.ExitWriteLock();
        }
    }

    /// <summary>Space and inode counts of the filesystem holding <paramref name="path"/> (<c>user_statfs</c>, <c>vfs_statfs</c>).</summary>
    public StatFs Statfs(string path)
    {
        var p = WalkFull(path, "statfs");
        var st = p.Inode.Sb.Operations.StatFs();
        return p.Mount.ReadOnly ? st with { Flags = st.Flags | StatFs.ST_RDONLY } : st;
    }

    /// <summary>Changes the working directory (<c>chdir</c>).</summary>
    public void Chdir(string path)
    {
        const string call = "chdir";
        var p = WalkFull(path, call, directory: true);
        InodePermission(p.Inode, MAY_EXEC, call);
        Grab(p);
        VfsPath old;
        lock (_fdLock)
        {
            old = _cwd;
            _cwd = p;
        }

        Drop(old);
    }

    /// <summary>Mounts a new instance of <paramref name="type"/> on the directory <paramref name="target"/> (<c>do_new_mount</c>).</summary>
    public Mount Mount(IFileSystemType type, string target, bool readOnly = false)
    {
        const string call = "mount";
        if (!Credentials.Capable(Capabilities.CAP_SYS_ADMIN))
        {
            throw new ErrnoException(Errno.EPERM, $"{call}: CAP_SYS_ADMIN is needed");
        }

        var p = WalkFull(target, call);
        if (!p.Inode.IsDirectory)
        {
            throw new ErrnoException(Errno.ENOTDIR, $"{call}: {target} is not a directory");
        }

        return Vfs.Attach(type, p, target, readOnly);
    }

    /// <summary>Unmounts the filesystem mounted at <paramref name="target"/>; EBUSY while anything uses it (<c>ksys_umount</c>, <c>do_umount</c>).</summary>
    public void Umount(string target)
    {
        const string call = "umount";
        if (!Credentials.Capable(Capabilities.CAP_SYS_ADMIN))
        {
            throw new ErrnoException(Errno.EPERM, $"{call}: CAP_SYS_ADMIN is needed");
        }

        var p = WalkFull(target, call);
        if (p.Inode != p.Mount.Root)
        {
            throw new ErrnoException(Errno.EINVAL, $"{call}: {target} is not a mount point");
        }

        Vfs.Detach(p.Mount);
    }
}
