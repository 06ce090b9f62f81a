using DaxStack.Fs.Vfs;
using DaxStack.Fs.Xfs.Inode;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Super;

/// <summary>
/// The VFS inode of an XFS-like inode: the generic attributes the VFS reads (mode, links,
/// owner, size, blocks, times, flags), refreshed from the in-core XFS inode after every
/// operation that may change them.
/// </summary>
/// <remarks>Models the <c>struct inode</c> embedded in the kernel's <c>struct xfs_inode</c> (<c>VFS_I()</c>) and <c>xfs_setup_inode</c> / <c>xfs_diflags_to_iflags</c>.</remarks>
public sealed class XfsVfsInode : Vfs.Inode
{
    internal XfsVfsInode(SuperBlock sb, XfsInode inode, IInodeOperations operations, IFileOperations fileOperations)
        : base(sb, (long)inode.Ino, inode.Core.Mode, operations, fileOperations)
    {
        Xfs = inode;
        Directory = new XfsDirectoryInode(inode);
        Refresh();
    }

    /// <summary>The XFS in-core inode.</summary>
    public XfsInode Xfs { get; }

    /// <summary>The inode as the directory code sees it.</summary>
    internal XfsDirectoryInode Directory { get; }

    /// <summary>Copies the attributes the VFS reads from the XFS inode core.</summary>
    internal void Refresh()
    {
        var core = Xfs.Core;
        Mode = core.Mode;
        Nlink = core.Nlink;
        Uid = core.Uid;
        Gid = core.Gid;
        Size = (long)core.Size;
        Blocks = (long)core.NBlocks << (Xfs.Mount.Geometry.BlockLog - 9);
        Atime = ToTimespec(core.Atime);
        Mtime = ToTimespec(core.Mtime);
        Ctime = ToTimespec(core.Ctime);
        var flags = Flags & ~(InodeFlags.S_IMMUTABLE | InodeFlags.S_APPEND | InodeFlags.S_SYNC | InodeFlags.S_NOATIME);
        if ((core.Flags & XfsDiFlags.Immutable) != 0)
            flags |= InodeFlags.S_IMMUTABLE;
        if ((core.Flags & XfsDiFlags.Append) != 0)
            flags |= InodeFlags.S_APPEND;
        if ((core.Flags & XfsDiFlags.Sync) != 0)
            flags |= InodeFlags.S_SYNC;
        if ((core.Flags & XfsDiFlags.NoAtime) != 0)
            flags |= InodeFlags.S_NOATIME;
        Flags = flags;
    }

    internal static Timespec ToTimespec(XfsTimestamp t) => new(t.Seconds, t.Nanoseconds);

    internal static XfsTimestamp ToXfs(Timespec t) => new(t.Seconds, (uint)t.Nanoseconds);
}
