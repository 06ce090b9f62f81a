using DaxStack.Device.Errors;
using DaxStack.Fs.Xfs.Bmap;
using DaxStack.Fs.Xfs.Ialloc;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Xfs.Inode;

/// <summary>
/// Births and deaths of inodes: <see cref="Create"/> takes a free inode from the inode
/// allocator and initialises it (mode, owner, link count, timestamps, an empty data fork in the
/// format its type starts with, flags inherited from a directory parent); <see cref="Free"/>
/// returns an inode whose last link and last block are gone to the allocator, leaving it
/// unallocated on disk with a new generation number.
/// </summary>
/// <remarks>Models the kernel's <c>xfs_dialloc</c> + <c>xfs_init_new_inode</c> (including <c>xfs_inode_inherit_flags</c> / <c>xfs_inode_inherit_flags2</c>) and <c>xfs_ifree</c> (<c>xfs_difree</c>, the reset of mode, flags, format and the generation bump).</remarks>
public static class XfsInodeAlloc
{
    /// <summary>File type bits (S_IFMT).</summary>
    public const ushort TypeMask = XfsDinode.TypeMask;

    // Directory flags a new child takes over (XFS_DIFLAG_*): sync, noatime, nodump, nodefrag,
    // and for directories the inherit flags themselves.
    private const XfsDiFlags InheritedByAll = XfsDiFlags.Sync | XfsDiFlags.NoAtime | XfsDiFlags.NoDump | XfsDiFlags.NoDefrag;

    /// <summary>
    /// Allocates and initialises a new inode of <paramref name="mode"/> (type and permission
    /// bits) owned by <paramref name="uid"/>/<paramref name="gid"/> with <paramref name="nlink"/>
    /// links, placed near <paramref name="parent"/>. The transaction must have reserved
    /// <see cref="XfsIalloc.AllocateReservation"/> blocks for a possible new inode chunk.
    /// ENOSPC (<see cref="XfsException"/>) when no inode can be had.
    /// </summary>
    public static XfsInode Create(XfsTransaction tp, XfsInode? parent, ushort mode, uint uid, uint gid, uint nlink)
    {
        ArgumentNullException.ThrowIfNull(tp);
        ushort type = (ushort)(mode & TypeMask);
        bool directory = type == XfsDinode.TypeDirectory;
        if (type is not (XfsDinode.TypeDirectory or XfsDinode.TypeRegular or XfsDinode.TypeSymlink or 0x1000 or 0x2000 or 0x6000 or 0xC000))
            throw new XfsException(Errno.EINVAL, $"mode 0{Convert.ToString(mode, 8)} is not a file type");
        var mp = tp.Mount;
        ulong ino = XfsIalloc.Allocate(tp, parent?.Ino ?? XfsFormat.NullFsIno, directory);
        var cache = XfsInodeCache.For(mp);
        var ip = cache.Get(tp, ino);
        ip.Join(tp);
        ip.ResetFromBuffer(tp);
        if (ip.InUse)
            throw new XfsCorruptionException($"inode {ino}", "the inode B+tree says the inode was free, but its mode is set");
        var now = cache.Now();
        var core = ip.Core;
        core.Mode = mode;
        core.Version = XfsDinode.Version3;
        core.Uid = uid;
        core.Gid = gid;
        core.Nlink = nlink;
        core.OnLink = 0;
        core.ProjIdLo = parent?.Core.ProjIdLo ?? 0;
        core.ProjIdHi = parent?.Core.ProjIdHi ?? 0;
        core.Atime = now;
        core.Mtime = now;
        core.Ctime = now;
        core.Crtime = now;
        core.Size = 0;
        core.NBlocks = 0;
        core.ExtSize = 0;
        core.NExtents = 0;
        core.ANExtents = 0;
        core.ForkOff = 0;
        core.AFormat = XfsDinodeFormat.Extents;
        core.Flags = 0;
        core.Flags2 = (mp.Superblock.FeaturesIncompat & XfsIncompatFeatures.BigTime) != 0 ? XfsDiFlags2.BigTime : 0;
        core.CowExtSize = 0;
        core.ChangeCount = 0;
        if (parent is { IsDirectory: true })
            Inherit(parent, ip, directory);
        var fork = new XfsIfork
        {
            Format = type switch
            {
                XfsDinode.TypeDirectory or XfsDinode.TypeSymlink => XfsDinodeFormat.Local,
                XfsDinode.TypeRegular => XfsDinodeFormat.Extents,
                _ => XfsDinodeFormat.Dev,
            },
        };
        ip.ReplaceDataFork(fork);
        ip.Log(tp);
        return ip;
    }

    private static void Inherit(XfsInode parent, XfsInode child, bool directory)
    {
        var pf = parent.Core.Flags;
        var flags = pf & InheritedByAll;
        if (directory)
        {
            flags |= pf & (XfsDiFlags.ProjInherit | XfsDiFlags.ExtSzInherit);
            if ((pf & XfsDiFlags.ExtSzInherit) != 0)
                child.Core.ExtSize = parent.Core.ExtSize;
        }
        else if ((pf & XfsDiFlags.ExtSzInherit) != 0 && parent.Core.ExtSize != 0)
        {
            flags |= XfsDiFlags.ExtSize;
            child.Core.ExtSize = parent.Core.ExtSize;
        }
        child.Core.Flags = flags;
        // xfs_inode_inherit_flags2: the DAX flag passes to files and subdirectories.
        if ((parent.Core.Flags2 & XfsDiFlags2.Dax) != 0)
            child.Core.Flags2 |= XfsDiFlags2.Dax;
    }

    /// <summary>
    /// xfs_ifree: frees inode <paramref name="ip"/>, which has no links and no blocks left (unmap
    /// its blocks first, in as many transactions as that takes), and marks it unallocated with
    /// the next generation number.
    /// </summary>
    public static void Free(XfsTransaction tp, XfsInode ip)
    {
        ArgumentNullException.ThrowIfNull(tp);
        ArgumentNullException.ThrowIfNull(ip);
        if (!ip.InUse)
            throw new InvalidOperationException($"inode {ip.Ino} is already free");
        if (ip.Core.Nlink != 0)
            throw new InvalidOperationException($"inode {ip.Ino} still has {ip.Core.Nlink} links");
        if (ip.DataFork.Format is XfsDinodeFormat.Extents or XfsDinodeFormat.Btree && ip.DataFork.Count != 0)
            throw new InvalidOperationException($"inode {ip.Ino} still maps {ip.DataFork.Count} extents");
        ip.Join(tp);
        var core = ip.Core;
        core.Mode = 0;
        core.Flags = 0;
        core.Flags2 = (tp.Mount.Superblock.FeaturesIncompat & XfsIncompatFeatures.BigTime) != 0 ? XfsDiFlags2.BigTime : 0;
        core.Size = 0;
        core.NBlocks = 0;
        // A short-form attribute fork goes with the inode (xfs_attr_inactive's
        // xfs_attr_fork_remove); Inactivate refuses forks that own blocks.
        core.ForkOff = 0;
        core.AFormat = XfsDinodeFormat.Extents;
        core.ANExtents = 0;
        core.ExtSize = 0;
        core.CowExtSize = 0;
        core.Gen++;
        ip.ReplaceDataFork(new XfsIfork { Format = XfsDinodeFormat.Extents });
        ip.ReplaceAttrFork(null);
        ip.Log(tp);
        XfsIalloc.Free(tp, ip.Ino);
    }
}
