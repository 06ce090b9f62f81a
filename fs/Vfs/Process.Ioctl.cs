using DaxStack.Device.Errors;

namespace DaxStack.Fs.Vfs;

// The ioctls as typed methods: FS_IOC_FIEMAP, FS_IOC_FSGETXATTR/FSSETXATTR, FICLONE/FICLONERANGE
// (fs/ioctl.c, fs/file_attr.c, fs/remap_range.c).
public sealed partial class Process
{
    /// <summary>
    /// <c>ioctl(fd, FS_IOC_FIEMAP, fiemap)</c>: reports the extents of the range through
    /// <paramref name="fiemap"/> (<c>ioctl_fiemap</c>); the filesystem calls <see cref="FiemapExtentInfo.Prep"/>.
    /// </summary>
    public void Fiemap(int fd, Fiemap fiemap)
    {
        ArgumentNullException.ThrowIfNull(fiemap);
        var file = GetFile(fd, "fiemap");
        var inode = file.Inode;
        fiemap.MappedExtents = 0;
        var info = new FiemapExtentInfo(fiemap);
        inode.Rwsem.EnterReadLock();
        try
        {
            inode.Operations.Fiemap(inode, info, fiemap.Start, fiemap.Length);
        }
        finally
        {
            inode.Rwsem.ExitReadLock();
        }
    }

    /// <summary><c>ioctl(fd, FS_IOC_FSGETXATTR)</c> (<c>ioctl_fsgetxattr</c>, <c>vfs_fileattr_get</c>).</summary>
    public FsXattr FsGetXattr(int fd)
    {
        var inode = GetFile(fd, "fsgetxattr").Inode;
        inode.Rwsem.EnterReadLock();
        try
        {
            return inode.Operations.FileAttrGet(inode);
        }
        finally
        {
            inode.Rwsem.ExitReadLock();
        }
    }

    /// <summary>
    /// <c>ioctl(fd, FS_IOC_FSSETXATTR, fa)</c>: only the owner (or CAP_FOWNER) may, and changing
    /// IMMUTABLE or APPEND needs CAP_LINUX_IMMUTABLE (<c>ioctl_fssetxattr</c>, <c>vfs_fileattr_set</c>, <c>fileattr_set_prepare</c>).
    /// </summary>
    public void FsSetXattr(int fd, FsXattr attributes)
    {
        const string call = "fssetxattr";
        var file = GetFile(fd, call);
        var inode = file.Inode;
        MountWantWrite(file.Mount, call);
        if (!OwnerOrCapable(inode))
        {
            throw new ErrnoException(Errno.EPERM, $"{call}: inode {inode.Ino} is not owned by uid {Credentials.Uid}");
        }

        inode.Rwsem.EnterWriteLock();
        try
        {
            var old = inode.Operations.FileAttrGet(inode);
            const FsXflags guarded = FsXflags.FS_XFLAG_IMMUTABLE | FsXflags.FS_XFLAG_APPEND;
            if (((attributes.XFlags ^ old.XFlags) & guarded) != 0 && !Credentials.Capable(Capabilities.CAP_LINUX_IMMUTABLE))
            {
                throw new ErrnoException(Errno.EPERM, $"{call}: changing IMMUTABLE or APPEND needs CAP_LINUX_IMMUTABLE");
            }

            var fa = attributes;

            // Extent size hints of zero turn their flags off.
            if (fa.ExtSize == 0)
            {
                fa = fa with { XFlags = fa.XFlags & ~(FsXflags.FS_XFLAG_EXTSIZE | FsXflags.FS_XFLAG_EXTSZINHERIT) };
            }

            if (fa.CowExtSize == 0)
            {
                fa = fa with { XFlags = fa.XFlags & ~FsXflags.FS_XFLAG_COWEXTSIZE };
            }

            // The DAX flag is only valid on regular files and directories.
            if ((fa.XFlags & FsXflags.FS_XFLAG_DAX) != 0 && !inode.IsRegular && !inode.IsDirectory)
            {
                throw new ErrnoException(Errno.EINVAL, $"{call}: FS_XFLAG_DAX on inode {inode.Ino}");
            }

            inode.Operations.FileAttrSet(inode, fa);
        }
        finally
        {
            inode.Rwsem.ExitWriteLock();
        }
    }

    /// <summary><c>ioctl(destFd, FICLONE, srcFd)</c>: shares all of the source file into the destination (<c>ioctl_file_clone</c>).</summary>
    public void Ficlone(int destFd, int srcFd) => FicloneRange(destFd, srcFd, 0, 0, 0);

    /// <summary>
    /// <c>ioctl(destFd, FICLONERANGE, {srcFd, srcOffset, srcLength, destOffset})</c>; a 0 length
    /// clones to the source's end of file (<c>ioctl_file_clone</c>, <c>vfs_clone_file_range</c>).
    /// </summary>
    public void FicloneRange(int destFd, int srcFd, long srcOffset, long srcLength, long destOffset)
    {
        const string call = "clone";
        var dst = GetFile(destFd, call);
        var src = GetFile(srcFd, call);
        var inodeIn = src.Inode;
        var inodeOut = dst.Inode;
        if (inodeIn.Sb != inodeOut.Sb)
        {
            throw new ErrnoException(Errno.EXDEV, $"{call}: source and destination are on different filesystems");
        }

        // generic_file_rw_checks
        if (inodeIn.IsDirectory || inodeOut.IsDirectory)
        {
            throw new ErrnoException(Errno.EISDIR, $"{call}: a directory cannot be cloned");
        }

        if (!inodeIn.IsRegular || !inodeOut.IsRegular)
        {
            throw new ErrnoException(Errno.EINVAL, $"{call}: only regular files can be cloned");
        }

        if (!src.CanRead || !dst.CanWrite || (dst.Flags & OpenFlags.O_APPEND) != 0)
        {
            throw new ErrnoException(Errno.EBADF, $"{call}: the source must be readable and the destination writable without O_APPEND");
        }

        if (!inodeIn.FileOperations.CanRemapFileRange)
        {
            throw new ErrnoException(Errno.EOPNOTSUPP, $"{call}: the filesystem cannot share extents");
        }

        // remap_verify_area for both ranges
        if (srcOffset < 0 || srcLength < 0 || destOffset < 0 || srcOffset > long.MaxValue - srcLength || destOffset > long.MaxValue - srcLength)
        {
            throw new ErrnoException(Errno.EINVAL, $"{call}: offsets {srcOffset}, {destOffset} and length {srcLength} are invalid");
        }

        long cloned = inodeIn.FileOperations.RemapFileRange(src, srcOffset, dst, destOffset, srcLength);
        if (srcLength != 0 && cloned != srcLength)
        {
            throw new ErrnoException(Errno.EINVAL, $"{call}: cloned {cloned} of {srcLength} bytes");
        }
    }
}
