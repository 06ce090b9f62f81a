using DaxStack.Device.Errors;

namespace DaxStack.Fs.Vfs;

// open, read, write, lseek, truncate, fallocate, fsync, fcntl: fs/open.c, fs/read_write.c, fs/fcntl.c.
public sealed partial class Process
{
    // The largest transfer one call makes (MAX_RW_COUNT: INT_MAX rounded down to a page).
    private const int MaxRwCount = 0x7FFFF000;

    // The status flags F_SETFL may change (SETFL_MASK).
    private const OpenFlags SetflMask = OpenFlags.O_APPEND | OpenFlags.O_NONBLOCK | OpenFlags.O_DIRECT | OpenFlags.O_NOATIME;

    /// <summary>Opens or creates a file and returns the lowest free descriptor (<c>do_sys_openat2</c>, <c>path_openat</c>, <c>do_open</c>, <c>may_open</c>).</summary>
    public int Open(string path, OpenFlags flags, uint mode = 0)
    {
        const string call = "open";

        // build_open_flags
        if ((flags & (OpenFlags.O_DIRECTORY | OpenFlags.O_CREAT)) == (OpenFlags.O_DIRECTORY | OpenFlags.O_CREAT))
        {
            throw new ErrnoException(Errno.EINVAL, $"{call}: O_DIRECTORY with O_CREAT");
        }

        int accessMode = (int)(flags & OpenFlags.O_ACCMODE);
        int accMode = accessMode switch { 0 => MAY_READ, 1 => MAY_WRITE, _ => MAY_READ | MAY_WRITE };
        if ((flags & OpenFlags.O_TRUNC) != 0)
        {
            accMode |= MAY_WRITE;
        }

        // OPEN_FMODE: O_ACCMODE 3 gives neither read nor write access.
        bool canRead = accessMode is 0 or 2;
        bool canWrite = accessMode is 1 or 2;

        // do_sys_openat2: the name is copied in before a descriptor is reserved.
        GetName(path, call);
        int fd = ReserveFd();
        try
        {
            var (target, created) = OpenLastLookups(path, flags, mode, call);
            var file = DoOpen(target, created, flags, accMode, canRead, canWrite, call);
            InstallFd(fd, file, (flags & OpenFlags.O_CLOEXEC) != 0);
            return fd;
        }
        catch
        {
            UnreserveFd(fd);
            throw;
        }
    }

    /// <summary>Short for <c>open(path, O_CREAT|O_WRONLY|O_TRUNC, mode)</c> (<c>creat</c>).</summary>
    public int Creat(string path, uint mode) => Open(path, OpenFlags.O_CREAT | OpenFlags.O_WRONLY | OpenFlags.O_TRUNC, mode);

    private (VfsPath Target, bool Created) OpenLastLookups(string path, OpenFlags flags, uint mode, string call)
    {
        var nd = WalkParent(path, call);
        bool creat = (flags & OpenFlags.O_CREAT) != 0;
        if (nd.Type != LastComponentType.Norm)
        {
            var dots = nd.Type == LastComponentType.DotDot ? Step(nd.Parent, "..", call) : nd.Parent;
            return (dots, false);
        }

        if (!creat)
        {
            var found = Step(nd.Parent, nd.Last, call);
            if ((nd.TrailingSlash || (flags & OpenFlags.O_DIRECTORY) != 0) && !found.Inode.IsDirectory)
            {
                throw new ErrnoException(Errno.ENOTDIR, $"{call}: {path} is not a directory");
            }

            return (found, false);
        }

        // open_last_lookups: O_CREAT with a trailing slash names a directory.
        if (nd.TrailingSlash)
        {
            throw new ErrnoException(Errno.EISDIR, $"{call}: {path} with O_CREAT ends in a slash");
        }

        var dir = nd.Parent.Inode;
        var sb = dir.Sb;
        lock (sb.NamespaceLock)
        {
            dir.Rwsem.EnterWriteLock();
            try
            {
                // lookup_open
                if (dir.IsDeadDirectory)
                {
                    throw new ErrnoException(Errno.ENOENT, $"{call}: the directory of {path} was removed");
                }

                var existing = LookupChild(dir, nd.Last, call);
                if (existing != null)
                {
                    return (CrossMounts(new VfsPath(nd.Parent.Mount, existing)), false);
                }

                MountWantWrite(nd.Parent.Mount, call);
                MayCreate(dir, call);
                uint createMode = InodeMode.S_IFREG | (mode & InodeMode.S_IALLUGO & ~Umask);
                Inode inode;
                try
                {
                    inode = dir.Operations.Create(dir, nd.Last, createMode, Credentials);
                }
                finally
                {
                    dir.Dentries.Drop(nd.Last);
                }

                // Take the open file's reference before the directory is unlocked, so an unlink
                // racing with this open cannot free the new inode first.
                if (!inode.TryGrab())
                {
                    throw new InvalidOperationException($"inode {inode.Ino}: freed while being created");
                }

                return (new VfsPath(nd.Parent.Mount, inode), true);
            }
            finally
            {
                dir.Rwsem.ExitWriteLock();
            }
        }
    }

    private OpenFile DoOpen(VfsPath target, bool created, OpenFlags flags, int accMode, bool canRead, bool canWrite, string call)
    {
        var inode = target.Inode;

        // do_open
        if ((flags & OpenFlags.O_CREAT) != 0)
        {
            if ((flags & OpenFlags.O_EXCL) != 0 && !created)
            {
                throw new ErrnoException(Errno.EEXIST, $"{call}: inode {inode.Ino} exists and O_EXCL was given");
            }

            if (inode.IsDirectory)
            {
                throw new ErrnoException(Errno.EISDIR, $"{call}: O_CREAT on a directory");
            }
        }

        if ((flags & OpenFlags.O_DIRECTORY) != 0 && !inode.IsDirectory)
        {
            throw new ErrnoException(Errno.ENOTDIR, $"{call}: O_DIRECTORY on inode {inode.Ino}, which is not a directory");
        }

        // A file this call created is not checked for write permission nor truncated.
        bool truncate = (flags & OpenFlags.O_TRUNC) != 0 && !created && inode.IsRegular;
        if (created)
        {
            accMode = 0;
        }

        try
        {
            MayOpen(inode, accMode, flags, call);
        }
        catch when (created)
        {
            inode.Put();
            throw;
        }

        // A created inode was grabbed under the directory lock.
        if (!created && !inode.TryGrab())
        {
            throw new ErrnoException(Errno.ENOENT, $"{call}: inode {inode.Ino} was removed");
        }

        target.Mount.Get();
        var fileFlags = (flags & ~(OpenFlags.O_CREAT | OpenFlags.O_EXCL | OpenFlags.O_NOCTTY | OpenFlags.O_TRUNC)) | OpenFlags.O_LARGEFILE;
        var file = new OpenFile(inode, target.Mount, fileFlags, canRead, canWrite);
        try
        {
            inode.FileOperations.Open(inode, file);
        }
        catch
        {
            target.Mount.Put();
            inode.Put();
            throw;
        }

        if (truncate)
        {
            try
            {
                // handle_truncate
                DoTruncate(inode, 0, call);
            }
            catch
            {
                Release(file);
                throw;
            }
        }

        return file;
    }

    /// <summary>Checks an existing inode may be opened with <paramref name="accMode"/> (<c>may_open</c>).</summary>
    private void MayOpen(Inode inode, int accMode, OpenFlags flags, string call)
    {
        if (inode.IsDirectory && (accMode & MAY_WRITE) != 0)
        {
            throw new ErrnoException(Errno.EISDIR, $"{call}: a directory cannot be opened for writing");
        }

        if (accMode != 0)
        {
            InodePermission(inode, accMode, call);
        }

        // An append-only file must be opened in append mode for writing.
        if (inode.IsAppendOnly)
        {
            if ((flags & OpenFlags.O_ACCMODE) != OpenFlags.O_RDONLY && (flags & OpenFlags.O_APPEND) == 0)
            {
                throw new ErrnoException(Errno.EPERM, $"{call}: inode {inode.Ino} is append-only");
            }

            if ((flags & OpenFlags.O_TRUNC) != 0)
            {
                throw new ErrnoException(Errno.EPERM, $"{call}: inode {inode.Ino} is append-only and cannot be truncated");
            }
        }

        if ((flags & OpenFlags.O_NOATIME) != 0 && !OwnerOrCapable(inode))
        {
            throw new ErrnoException(Errno.EPERM, $"{call}: O_NOATIME needs ownership of inode {inode.Ino}");
        }
    }

    /// <summary>Reads at the file position and advances it (<c>ksys_read</c>, <c>vfs_read</c>).</summary>
    public int Read(int fd, Span<byte> buffer)
    {
        var file = GetFile(fd, "read");
        lock (file.PosLock)
        {
            int n = VfsRead(file, buffer, file.Pos, "read");
            file.Pos += n;
            return n;
        }
    }

    /// <summary>Reads at <paramref name="offset"/> without moving the file position (<c>ksys_pread64</c>).</summary>
    public int Pread(int fd, Span<byte> buffer, long offset)
    {
        if (offset < 0)
        {
            throw new ErrnoException(Errno.EINVAL, $"pread: negative offset {offset}");
        }

        return VfsRead(GetFile(fd, "pread"), buffer, offset, "pread");
    }

    private static int VfsRead(OpenFile file, Span<byte> buffer, long pos, string call)
    {
        if (!file.CanRead)
        {
            throw new ErrnoException(Errno.EBADF, $"{call}: the file is not open for reading");
        }

        RwVerifyArea(pos, buffer.Length, call);
        var inode = file.Inode;
        if (inode.IsDirectory)
        {
            // generic_read_dir
            throw new ErrnoException(Errno.EISDIR, $"{call}: inode {inode.Ino} is a directory");
        }

        // generic_file_read_iter: nothing can lie at or beyond s_maxbytes.
        if (buffer.Length == 0 || pos >= inode.Sb.MaxBytes)
        {
            return 0;
        }

        if (buffer.Length > MaxRwCount)
        {
            buffer = buffer[..MaxRwCount];
        }

        inode.Rwsem.EnterReadLock();
        try
        {
            return inode.FileOperations.Read(file, buffer, pos);
        }
        finally
        {
            inode.Rwsem.ExitReadLock();
        }
    }

    /// <summary>Writes at the file position (the end of file with O_APPEND) and advances it (<c>ksys_write</c>, <c>vfs_write</c>).</summary>
    public int Write(int fd, ReadOnlySpan<byte> buffer)
    {
        var file = GetFile(fd, "write");
        lock (file.PosLock)
        {
            var (n, end) = VfsWrite(file, buffer, file.Pos, "write");
            file.Pos = end;
            return n;
        }
    }

    /// <summary>
    /// Writes at <paramref name="offset"/> without moving the file position (<c>ksys_pwrite64</c>).
    /// As on Linux, a descriptor opened with O_APPEND appends regardless of the offset.
    /// </summary>
    public int Pwrite(int fd, ReadOnlySpan<byte> buffer, long offset)
    {
        if (offset < 0)
        {
            throw new ErrnoException(Errno.EINVAL, $"pwrite: negative offset {offset}");
        }

        return VfsWrite(GetFile(fd, "pwrite"), buffer, offset, "pwrite").Written;
    }

    private (int Written, long End) VfsWrite(OpenFile file, ReadOnlySpan<byte> buffer, long pos, string call)
    {
        if (!file.CanWrite)
        {
            throw new ErrnoException(Errno.EBADF, $"{call}: the file is not open for writing");
        }

        RwVerifyArea(pos, buffer.Length, call);
        var inode = file.Inode;
        int written;
        inode.Rwsem.EnterWriteLock();
        try
        {
            // Writes to an immutable inode through a descriptor opened before the flag was set
            // fail, as ext4_write_checks and the fsverity/immutable write checks make them.
            if (inode.IsImmutable)
            {
                throw new ErrnoException(Errno.EPERM, $"{call}: inode {inode.Ino} is immutable");
            }

            // generic_write_checks_count
            if (buffer.Length == 0)
            {
                return (0, pos);
            }

            if ((file.Flags & OpenFlags.O_APPEND) != 0)
            {
                pos = inode.Size;
            }

            // generic_write_check_limits
            long maxBytes = inode.Sb.MaxBytes;
            if (pos >= maxBytes)
            {
                throw new ErrnoException(Errno.EFBIG, $"{call}: offset {pos} is at or beyond the maximum file size {maxBytes}");
            }

            int count = (int)Math.Min(Math.Min(buffer.Length, MaxRwCount), maxBytes - pos);
            FileRemovePrivs(inode);
            written = inode.FileOperations.Write(file, buffer[..count], pos);
        }
        finally
        {
            inode.Rwsem.ExitWriteLock();
        }

        // generic_write_sync: O_DSYNC, O_SYNC or a sync inode make the write durable before returning.
        bool dsync = (file.Flags & OpenFlags.O_DSYNC) != 0 || (inode.Flags & InodeFlags.S_SYNC) != 0;
        if (written > 0 && dsync)
        {
            bool fullSync = (file.Flags & OpenFlags.O_SYNC) == OpenFlags.O_SYNC || (inode.Flags & InodeFlags.S_SYNC) != 0;
            inode.FileOperations.Fsync(file, pos, pos + written - 1, !fullSync);
        }

        return (written, pos + written);
    }

    /// <summary>Clears setuid and setgid on a write by a process without CAP_FSETID (<c>file_remove_privs</c>).</summary>
    private void FileRemovePrivs(Inode inode)
    {
        uint kill = InodeMode.S_ISUID;
        if ((inode.Mode & InodeMode.S_IXGRP) != 0)
        {
            kill |= InodeMode.S_ISGID;
        }

        if ((inode.Mode & kill) != 0 && inode.IsRegular && !Credentials.Capable(Capabilities.CAP_FSETID))
        {
            var attr = new InodeAttributes(AttrValid.ATTR_MODE, inode.Mode & ~kill, 0, 0, 0, Timespec.Now());
            inode.Operations.SetAttr(inode, attr);
        }
    }

    /// <summary>Offsets and counts must not be negative or overflow (<c>rw_verify_area</c>).</summary>
    private static void RwVerifyArea(long pos, int count, string call)
    {
        if (pos < 0 || pos > long.MaxValue - count)
        {
            throw new ErrnoException(Errno.EINVAL, $"{call}: range at {pos} of {count} bytes is invalid");
        }
    }

    /// <summary>Moves the file position (<c>ksys_lseek</c>, <c>vfs_llseek</c>).</summary>
    public long Lseek(int fd, long offset, SeekWhence whence)
    {
        var file = GetFile(fd, "lseek");
        if (whence < SeekWhence.SEEK_SET || whence > SeekWhence.SEEK_HOLE)
        {
            throw new ErrnoException(Errno.EINVAL, $"lseek: whence {(int)whence} is not valid");
        }

        lock (file.PosLock)
        {
            return file.Inode.FileOperations.Llseek(file, offset, whence);
        }
    }

    /// <summary>Sets the size of the file open on <paramref name="fd"/> (<c>do_sys_ftruncate</c>).</summary>
    public void Ftruncate(int fd, long length)
    {
        const string call = "ftruncate";
        if (length < 0)
        {
            throw new ErrnoException(Errno.EINVAL, $"{call}: negative length {length}");
        }

        var file = GetFile(fd, call);
        var inode = file.Inode;
        if (!inode.IsRegular || !file.CanWrite)
        {
            throw new ErrnoException(Errno.EINVAL, $"{call}: fd {fd} is not a regular file open for writing");
        }

        if (inode.IsAppendOnly)
        {
            throw new ErrnoException(Errno.EPERM, $"{call}: inode {inode.Ino} is append-only");
        }

        DoTruncate(inode, length, call);
    }

    /// <summary>Sets the size of the file at <paramref name="path"/> (<c>do_sys_truncate</c>, <c>vfs_truncate</c>).</summary>
    public void Truncate(string path, long length)
    {
        const string call = "truncate";
        if (length < 0)
        {
            throw new ErrnoException(Errno.EINVAL, $"{call}: negative length {length}");
        }

        var p = WalkFull(path, call);
        var inode = p.Inode;
        if (inode.IsDirectory)
        {
            throw new ErrnoException(Errno.EISDIR, $"{call}: {path} is a directory");
        }

        if (!inode.IsRegular)
        {
            throw new ErrnoException(Errno.EINVAL, $"{call}: {path} is not a regular file");
        }

        MountWantWrite(p.Mount, call);
        InodePermission(inode, MAY_WRITE, call);
        if (inode.IsAppendOnly)
        {
            throw new ErrnoException(Errno.EPERM, $"{call}: {path} is append-only");
        }

        DoTruncate(inode, length, call);
    }

    /// <summary>Changes the size under the inode lock (<c>do_truncate</c>, <c>notify_change</c>, <c>inode_newsize_ok</c>).</summary>
    private void DoTruncate(Inode inode, long length, string call)
    {
        inode.Rwsem.EnterWriteLock();
        try
        {
            if (inode.IsImmutable)
            {
                throw new ErrnoException(Errno.EPERM, $"{call}: inode {inode.Ino} is immutable");
            }

            if (length > inode.Sb.MaxBytes)
            {
                throw new ErrnoException(Errno.EFBIG, $"{call}: length {length} exceeds the maximum file size {inode.Sb.MaxBytes}");
            }

            FileRemovePrivs(inode);
            var attr = new InodeAttributes(AttrValid.ATTR_SIZE | AttrValid.ATTR_MTIME | AttrValid.ATTR_CTIME, 0, 0, 0, length, Timespec.Now());
            inode.Operations.SetAttr(inode, attr);
        }
        finally
        {
            inode.Rwsem.ExitWriteLock();
        }
    }

    /// <summary>Allocates or deallocates space of the file open on <paramref name="fd"/> (<c>ksys_fallocate</c>, <c>vfs_fallocate</c>).</summary>
    public void Fallocate(int fd, FallocateFlags mode, long offset, long length)
    {
        const string call = "fallocate";
        var file = GetFile(fd, call);
        var inode = file.Inode;

        // vfs_fallocate
        if (offset < 0 || length <= 0)
        {
            throw new ErrnoException(Errno.EINVAL, $"{call}: offset {offset} and length {length} are invalid");
        }

        if ((mode & ~(FallocateFlags.ModeMask | FallocateFlags.FALLOC_FL_KEEP_SIZE)) != 0)
        {
            throw new ErrnoException(Errno.EOPNOTSUPP, $"{call}: unknown mode bits 0x{(int)mode:x}");
        }

        // The modes exclude each other; punch needs KEEP_SIZE, collapse and insert forbid it.
        switch (mode & FallocateFlags.ModeMask)
        {
            case FallocateFlags.None:
            case FallocateFlags.FALLOC_FL_UNSHARE_RANGE:
            case FallocateFlags.FALLOC_FL_ZERO_RANGE:
                break;
            case FallocateFlags.FALLOC_FL_PUNCH_HOLE:
                if ((mode & FallocateFlags.FALLOC_FL_KEEP_SIZE) == 0)
                {
                    throw new ErrnoException(Errno.EOPNOTSUPP, $"{call}: FALLOC_FL_PUNCH_HOLE needs FALLOC_FL_KEEP_SIZE");
                }

                break;
            case FallocateFlags.FALLOC_FL_COLLAPSE_RANGE:
            case FallocateFlags.FALLOC_FL_INSERT_RANGE:
            case FallocateFlags.FALLOC_FL_WRITE_ZEROES:
                if ((mode & FallocateFlags.FALLOC_FL_KEEP_SIZE) != 0)
                {
                    throw new ErrnoException(Errno.EOPNOTSUPP, $"{call}: mode 0x{(int)mode:x} cannot keep the size");
                }

                break;
            default:
                throw new ErrnoException(Errno.EOPNOTSUPP, $"{call}: mode 0x{(int)mode:x} combines exclusive modes");
        }

        if (!file.CanWrite)
        {
            throw new ErrnoException(Errno.EBADF, $"{call}: fd {fd} is not open for writing");
        }

        // On append-only files only space preallocation is supported.
        if ((mode & ~FallocateFlags.FALLOC_FL_KEEP_SIZE) != 0 && inode.IsAppendOnly)
        {
            throw new ErrnoException(Errno.EPERM, $"{call}: inode {inode.Ino} is append-only");
        }

        if (inode.IsImmutable)
        {
            throw new ErrnoException(Errno.EPERM, $"{call}: inode {inode.Ino} is immutable");
        }

        if ((inode.Mode & InodeMode.S_IFMT) == InodeMode.S_IFIFO)
        {
            throw new ErrnoException(Errno.ESPIPE, $"{call}: inode {inode.Ino} is a pipe");
        }

        // Unreachable through a descriptor (directories cannot be opened for writing, EBADF
        // above) but kept in the kernel's order.
        if (inode.IsDirectory)
        {
            throw new ErrnoException(Errno.EISDIR, $"{call}: inode {inode.Ino} is a directory");
        }

        if (!inode.IsRegular && (inode.Mode & InodeMode.S_IFMT) != InodeMode.S_IFBLK)
        {
            throw new ErrnoException(Errno.ENODEV, $"{call}: inode {inode.Ino} is not a regular file");
        }

        if (offset > long.MaxValue - length || offset + length > inode.Sb.MaxBytes)
        {
            throw new ErrnoException(Errno.EFBIG, $"{call}: range ends beyond the maximum file size {inode.Sb.MaxBytes}");
        }

        inode.Rwsem.EnterWriteLock();
        try
        {
            inode.FileOperations.Fallocate(file, mode, offset, length);
        }
        finally
        {
            inode.Rwsem.ExitWriteLock();
        }
    }

    /// <summary>Makes the file's data and metadata durable (<c>do_fsync</c>, <c>vfs_fsync_range</c>).</summary>
    public void Fsync(int fd)
    {
        var file = GetFile(fd, "fsync");
        file.Inode.FileOperations.Fsync(file, 0, long.MaxValue, dataSync: false);
    }

    /// <summary>Makes the file's data and the metadata needed to read it durable (<c>do_fsync</c> with datasync).</summary>
    public void Fdatasync(int fd)
    {
        var file = GetFile(fd, "fdatasync");
        file.Inode.FileOperations.Fsync(file, 0, long.MaxValue, dataSync: true);
    }

    /// <summary>Descriptor and status flag commands (<c>do_fcntl</c>, <c>setfl</c>).</summary>
    public int Fcntl(int fd, FcntlCommand command, int argument = 0)
    {
        const string call = "fcntl";
        var file = GetFile(fd, call);
        switch (command)
        {
            case FcntlCommand.F_GETFD:
                lock (_fdLock)
                {
                    return _cloexec[fd] ? 1 : 0;
                }

            case FcntlCommand.F_SETFD:
                lock (_fdLock)
                {
                    _cloexec[fd] = (argument & 1) != 0;
                    return 0;
                }

            case FcntlCommand.F_GETFL:
                return (int)file.Flags;
            case FcntlCommand.F_SETFL:
                var arg = (OpenFlags)argument;
                if (((arg ^ file.Flags) & OpenFlags.O_APPEND) != 0 && file.Inode.IsAppendOnly)
                {
                    throw new ErrnoException(Errno.EPERM, $"{call}: O_APPEND cannot change on append-only inode {file.Inode.Ino}");
                }

                if ((arg & OpenFlags.O_NOATIME) != 0 && (file.Flags & OpenFlags.O_NOATIME) == 0 && !OwnerOrCapable(file.Inode))
                {
                    throw new ErrnoException(Errno.EPERM, $"{call}: O_NOATIME needs ownership of inode {file.Inode.Ino}");
                }

                lock (file.PosLock)
                {
                    file.Flags = (arg & SetflMask) | (file.Flags & ~SetflMask);
                }

                return 0;
            default:
                throw new ErrnoException(Errno.EINVAL, $"{call}: command {(int)command} is not supported");
        }
    }
}
