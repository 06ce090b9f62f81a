using DaxStack.Device.Errors;

namespace DaxStack.Fs.Vfs;

// mkdir, rmdir, unlink, link, rename: fs/namei.c.
public sealed partial class Process
{
    /// <summary>Creates a directory (<c>do_mkdirat</c>, <c>filename_create</c>, <c>vfs_mkdir</c>).</summary>
    public void Mkdir(string path, uint mode)
    {
        const string call = "mkdir";
        var nd = WalkParent(path, call);
        if (nd.Type != LastComponentType.Norm)
        {
            throw new ErrnoException(Errno.EEXIST, $"{call}: {path} exists");
        }

        var dir = nd.Parent.Inode;
        lock (dir.Sb.NamespaceLock)
        {
            dir.Rwsem.EnterWriteLock();
            try
            {
                FilenameCreate(nd, wantDir: true, call);
                MayCreate(dir, call);
                uint max = dir.Sb.MaxLinks;
                if (max != 0 && dir.Nlink >= max)
                {
                    throw new ErrnoException(Errno.EMLINK, $"{call}: the parent already has {dir.Nlink} links");
                }

                uint dirMode = InodeMode.S_IFDIR | (mode & (InodeMode.S_IRWXUGO | InodeMode.S_ISVTX) & ~Umask);
                try
                {
                    dir.Operations.Mkdir(dir, nd.Last, dirMode, Credentials);
                }
                finally
                {
                    dir.Dentries.Drop(nd.Last);
                }
            }
            finally
            {
                dir.Rwsem.ExitWriteLock();
            }
        }
    }

    /// <summary>
    /// The final lookup of a name about to be created (<c>filename_create</c>): a removed
    /// directory, an overlong or existing name, a trailing slash on a non-directory, then a
    /// read-only mount. Called with the parent locked.
    /// </summary>
    private static void FilenameCreate(ParentLookup nd, bool wantDir, string call)
    {
        var dir = nd.Parent.Inode;
        if (dir.IsDeadDirectory)
        {
            throw new ErrnoException(Errno.ENOENT, $"{call}: the parent directory was removed");
        }

        if (LookupChild(dir, nd.Last, call) != null)
        {
            throw new ErrnoException(Errno.EEXIST, $"{call}: {nd.Last} exists");
        }

        if (nd.TrailingSlash && !wantDir)
        {
            throw new ErrnoException(Errno.ENOENT, $"{call}: {nd.Last}/ names a directory that does not exist");
        }

        MountWantWrite(nd.Parent.Mount, call);
    }

    /// <summary>Removes an empty directory (<c>do_rmdir</c>, <c>vfs_rmdir</c>).</summary>
    public void Rmdir(string path)
    {
        const string call = "rmdir";
        var nd = WalkParent(path, call);
        switch (nd.Type)
        {
            case LastComponentType.DotDot:
                throw new ErrnoException(Errno.ENOTEMPTY, $"{call}: {path} ends in ..");
            case LastComponentType.Dot:
                throw new ErrnoException(Errno.EINVAL, $"{call}: {path} ends in .");
            case LastComponentType.Root:
                throw new ErrnoException(Errno.EBUSY, $"{call}: {path} is the root");
        }

        MountWantWrite(nd.Parent.Mount, call);
        var dir = nd.Parent.Inode;
        Inode victim;
        lock (dir.Sb.NamespaceLock)
        {
            dir.Rwsem.EnterWriteLock();
            try
            {
                victim = LookupChild(dir, nd.Last, call)
                    ?? throw new ErrnoException(Errno.ENOENT, $"{call}: {path}: no such file or directory");
                MayDelete(nd.Parent, victim, isDir: true, call);
                if (Vfs.IsMountPoint(nd.Parent.Mount, victim))
                {
                    throw new ErrnoException(Errno.EBUSY, $"{call}: {path} is a mount point");
                }

                victim.Rwsem.EnterWriteLock();
                try
                {
                    dir.Operations.Rmdir(dir, nd.Last, victim);
                    victim.Flags |= InodeFlags.S_DEAD;
                }
                finally
                {
                    dir.Dentries.Drop(nd.Last);
                    victim.Rwsem.ExitWriteLock();
                }
            }
            finally
            {
                dir.Rwsem.ExitWriteLock();
            }
        }

        victim.EvictIfUnused();
    }

    /// <summary>Removes a name of a non-directory (<c>do_unlinkat</c>, <c>vfs_unlink</c>); the inode lives on while open.</summary>
    public void Unlink(string path)
    {
        const string call = "unlink";
        var nd = WalkParent(path, call);
        if (nd.Type != LastComponentType.Norm)
        {
            throw new ErrnoException(Errno.EISDIR, $"{call}: {path} is a directory");
        }

        MountWantWrite(nd.Parent.Mount, call);
        var dir = nd.Parent.Inode;
        Inode victim;
        lock (dir.Sb.NamespaceLock)
        {
            dir.Rwsem.EnterWriteLock();
            try
            {
                victim = LookupChild(dir, nd.Last, call)
                    ?? throw new ErrnoException(Errno.ENOENT, $"{call}: {path}: no such file or directory");
                if (nd.TrailingSlash)
                {
                    throw new ErrnoException(victim.IsDirectory ? Errno.EISDIR : Errno.ENOTDIR, $"{call}: {path} ends in a slash");
                }

                MayDelete(nd.Parent, victim, isDir: false, call);
                victim.Rwsem.EnterWriteLock();
                try
                {
                    dir.Operations.Unlink(dir, nd.Last, victim);
                }
                finally
                {
                    dir.Dentries.Drop(nd.Last);
                    victim.Rwsem.ExitWriteLock();
                }
            }
            finally
            {
                dir.Rwsem.ExitWriteLock();
            }
        }

        victim.EvictIfUnused();
    }

    /// <summary>Adds a hard link <paramref name="newPath"/> to the inode at <paramref name="oldPath"/> (<c>do_linkat</c>, <c>vfs_link</c>).</summary>
    public void Link(string oldPath, string newPath)
    {
        const string call = "link";
        var old = WalkFull(oldPath, call);
        var nd = WalkParent(newPath, call);
        if (nd.Type != LastComponentType.Norm)
        {
            throw new ErrnoException(Errno.EEXIST, $"{call}: {newPath} exists");
        }

        var dir = nd.Parent.Inode;
        var inode = old.Inode;
        lock (dir.Sb.NamespaceLock)
        {
            dir.Rwsem.EnterWriteLock();
            try
            {
                FilenameCreate(nd, wantDir: false, call);
                if (old.Mount != nd.Parent.Mount)
                {
                    throw new ErrnoException(Errno.EXDEV, $"{call}: {oldPath} and {newPath} are on different mounts");
                }

                MayCreate(dir, call);
                if (inode.IsAppendOnly || inode.IsImmutable)
                {
                    throw new ErrnoException(Errno.EPERM, $"{call}: inode {inode.Ino} is append-only or immutable");
                }

                if (inode.IsDirectory)
                {
                    throw new ErrnoException(Errno.EPERM, $"{call}: {oldPath} is a directory");
                }

                inode.Rwsem.EnterWriteLock();
                try
                {
                    // An unlinked file cannot get a name back.
                    if (inode.Nlink == 0)
                    {
                        throw new ErrnoException(Errno.ENOENT, $"{call}: {oldPath} was removed");
                    }

                    uint max = inode.Sb.MaxLinks;
                    if (max != 0 && inode.Nlink >= max)
                    {
                        throw new ErrnoException(Errno.EMLINK, $"{call}: inode {inode.Ino} already has {inode.Nlink} links");
                    }

                    dir.Operations.Link(inode, dir, nd.Last);
                }
                finally
                {
                    dir.Dentries.Drop(nd.Last);
                    inode.Rwsem.ExitWriteLock();
                }
            }
            finally
            {
                dir.Rwsem.ExitWriteLock();
            }
        }
    }

    /// <summary>Renames, optionally without replacing or by exchanging (<c>do_renameat2</c>, <c>lock_rename</c>, <c>vfs_rename</c>).</summary>
    public void Rename(string oldPath, string newPath, RenameFlags flags = RenameFlags.None)
    {
        const string call = "rename";
        const RenameFlags known = RenameFlags.RENAME_NOREPLACE | RenameFlags.RENAME_EXCHANGE | RenameFlags.RENAME_WHITEOUT;
        if ((flags & ~known) != 0)
        {
            throw new ErrnoException(Errno.EINVAL, $"{call}: unknown flags 0x{(int)flags:x}");
        }

        bool exchange = (flags & RenameFlags.RENAME_EXCHANGE) != 0;
        if (exchange && (flags & (RenameFlags.RENAME_NOREPLACE | RenameFlags.RENAME_WHITEOUT)) != 0)
        {
            throw new ErrnoException(Errno.EINVAL, $"{call}: RENAME_EXCHANGE with RENAME_NOREPLACE or RENAME_WHITEOUT");
        }

        if ((flags & RenameFlags.RENAME_WHITEOUT) != 0 && !Credentials.Capable(Capabilities.CAP_MKNOD))
        {
            throw new ErrnoException(Errno.EPERM, $"{call}: RENAME_WHITEOUT needs CAP_MKNOD");
        }

        var oldNd = WalkParent(oldPath, call);
        var newNd = WalkParent(newPath, call);
        if (oldNd.Parent.Mount != newNd.Parent.Mount)
        {
            throw new ErrnoException(Errno.EXDEV, $"{call}: {oldPath} and {newPath} are on different mounts");
        }

        if (oldNd.Type != LastComponentType.Norm)
        {
            throw new ErrnoException(Errno.EBUSY, $"{call}: {oldPath} cannot be renamed");
        }

        if (newNd.Type != LastComponentType.Norm)
        {
            throw new ErrnoException((flags & RenameFlags.RENAME_NOREPLACE) != 0 ? Errno.EEXIST : Errno.EBUSY, $"{call}: {newPath} cannot be a target");
        }

        MountWantWrite(oldNd.Parent.Mount, call);
        var oldDir = oldNd.Parent.Inode;
        var newDir = newNd.Parent.Inode;
        Inode? replaced = null;
        lock (oldDir.Sb.NamespaceLock)
        {
            oldDir.Rwsem.EnterWriteLock();
            newDir.Rwsem.EnterWriteLock();
            try
            {
                var source = LookupChild(oldDir, oldNd.Last, call)
                    ?? throw new ErrnoException(Errno.ENOENT, $"{call}: {oldPath}: no such file or directory");
                var target = LookupChild(newDir, newNd.Last, call);
                if (target != null && (flags & RenameFlags.RENAME_NOREPLACE) != 0)
                {
                    throw new ErrnoException(Errno.EEXIST, $"{call}: {newPath} exists");
                }

                if (target == null && exchange)
                {
                    throw new ErrnoException(Errno.ENOENT, $"{call}: {newPath}: no such file or directory");
                }

                if (exchange && !target!.IsDirectory && newNd.TrailingSlash)
                {
                    throw new ErrnoException(Errno.ENOTDIR, $"{call}: {newPath} is not a directory");
                }

                // Unless the source is a directory, trailing slashes give ENOTDIR.
                if (!source.IsDirectory && (oldNd.TrailingSlash || (!exchange && newNd.TrailingSlash)))
                {
                    throw new ErrnoException(Errno.ENOTDIR, $"{call}: {oldPath} is not a directory");
                }

                if (oldDir != newDir)
                {
                    // lock_rename's trap: the source must not be an ancestor of the target ...
                    if (IsAncestorOrSelf(source, newDir))
                    {
                        throw new ErrnoException(Errno.EINVAL, $"{call}: {oldPath} would move under itself");
                    }

                    // ... nor the target an ancestor of the source.
                    if (target != null && IsAncestorOrSelf(target, oldDir))
                    {
                        throw new ErrnoException(exchange ? Errno.EINVAL : Errno.ENOTEMPTY, $"{call}: {newPath} is an ancestor of {oldPath}");
                    }
                }

                replaced = VfsRename(oldNd, source, newNd, target, flags, call);
            }
            finally
            {
                newDir.Rwsem.ExitWriteLock();
                oldDir.Rwsem.ExitWriteLock();
            }
        }

        replaced?.EvictIfUnused();
    }

    private Inode? VfsRename(ParentLookup oldNd, Inode source, ParentLookup newNd, Inode? target, RenameFlags flags, string call)
    {
        var oldDir = oldNd.Parent.Inode;
        var newDir = newNd.Parent.Inode;
        bool exchange = (flags & RenameFlags.RENAME_EXCHANGE) != 0;

        // Two names of one inode: rename does nothing and succeeds.
        if (source == target)
        {
            return null;
        }

        bool isDir = source.IsDirectory;
        bool newIsDir = target?.IsDirectory ?? false;
        MayDelete(oldNd.Parent, source, isDir, call);
        if (target == null)
        {
            MayCreate(newDir, call);
        }
        else
        {
            MayDelete(newNd.Parent, target, exchange ? newIsDir : isDir, call);
        }

        // A directory changing parent needs write permission on itself to rewrite "..".
        if (oldDir != newDir)
        {
            if (isDir)
            {
                InodePermission(source, MAY_WRITE, call);
            }

            if (exchange && newIsDir)
            {
                InodePermission(target!, MAY_WRITE, call);
            }
        }

        if (Vfs.IsMountPoint(oldNd.Parent.Mount, source) || (target != null && Vfs.IsMountPoint(newNd.Parent.Mount, target)))
        {
            throw new ErrnoException(Errno.EBUSY, $"{call}: a mount point cannot be renamed or replaced");
        }

        uint max = oldDir.Sb.MaxLinks;
        if (max != 0 && oldDir != newDir)
        {
            if ((isDir && !newIsDir && newDir.Nlink >= max) || (exchange && !isDir && newIsDir && oldDir.Nlink >= max))
            {
                throw new ErrnoException(Errno.EMLINK, $"{call}: the new parent has too many links");
            }
        }

        source.Rwsem.EnterWriteLock();
        target?.Rwsem.EnterWriteLock();
        try
        {
            oldDir.Operations.Rename(oldDir, oldNd.Last, source, newDir, newNd.Last, target, flags);
            if (target != null && !exchange && newIsDir)
            {
                target.Flags |= InodeFlags.S_DEAD;
            }
        }
        finally
        {
            oldDir.Dentries.Drop(oldNd.Last);
            newDir.Dentries.Drop(newNd.Last);
            target?.Rwsem.ExitWriteLock();
            source.Rwsem.ExitWriteLock();
        }

        return exchange ? null : target;
    }

    /// <summary>Whether <paramref name="ancestor"/> is <paramref name="dir"/> or above it in the same filesystem (<c>d_ancestor</c>).</summary>
    private static bool IsAncestorOrSelf(Inode ancestor, Inode dir)
    {
        var root = dir.Sb.Root;
        for (var cur = dir; ; )
        {
            if (cur == ancestor)
            {
                return true;
            }

            if (cur == root)
            {
                return false;
            }

            cur = LookupChild(cur, "..", "rename") ?? throw new InvalidOperationException($"inode {cur.Ino}: no parent");
        }
    }
}
