using DaxStack.Fs.Vfs;
using DaxStack.Fs.Xfs.Files;
using DaxStack.Fs.Xfs.Inode;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Xfs.Super;

/// <summary>
/// One mounted XFS-like filesystem as the VFS sees it: the superblock with its root, the VFS
/// inodes (one object per inode number, kept while the filesystem is mounted), and the
/// filesystem-wide operations: freeing an inode whose last link and last reference are gone,
/// statfs, sync (a log force) and unmount. Every operation holds the mount's lock for its whole
/// length (one operation at a time per filesystem: simple and safe; finer locking is future work).
/// </summary>
/// <remarks>Models the kernel's fs/xfs/xfs_super.c: <c>xfs_fs_fill_super</c>, <c>xfs_fs_evict_inode</c> / <c>xfs_inactive</c>, <c>xfs_fs_statfs</c>, <c>xfs_fs_sync_fs</c>, <c>xfs_fs_put_super</c>, and <c>xfs_iget</c>'s one-inode-one-object rule.</remarks>
public sealed class XfsSuper : ISuperOperations
{
    /// <summary>XFS_SUPER_MAGIC.</summary>
    public const long Magic = 0x58465342;

    /// <summary>XFS_MAXLINK.</summary>
    public const uint MaxLinks = int.MaxValue;

    private readonly Dictionary<ulong, XfsVfsInode> _inodes = [];

    internal XfsSuper(XfsMount mount, bool readOnly)
    {
        Mount = mount;
        Sb = new SuperBlock(this, Magic, mount.Geometry.BlockSize, XfsFileIo.MaxBytes, MaxLinks) { ReadOnly = readOnly };
        InodeOperations = new XfsInodeOperations(this);
        FileOperations = new XfsFileOperations(this);
        Sb.Root = Iget(mount.Superblock.RootIno);
    }

    /// <summary>The filesystem.</summary>
    public XfsMount Mount { get; }

    /// <summary>The VFS superblock.</summary>
    public SuperBlock Sb { get; }

    internal XfsInodeOperations InodeOperations { get; }

    internal XfsFileOperations FileOperations { get; }

    /// <summary>The VFS inode of allocated inode <paramref name="ino"/>.</summary>
    internal XfsVfsInode Iget(ulong ino)
    {
        lock (Mount.Lock)
        {
            if (_inodes.TryGetValue(ino, out var vi))
                return vi;
            using var tp = XfsTransaction.Begin(Mount);
            var ip = XfsInodeCache.For(Mount).GetInUse(tp, ino);
            return Wrap(ip);
        }
    }

    /// <summary>The VFS inode of <paramref name="ip"/> (a new one for a newly created inode).</summary>
    internal XfsVfsInode Wrap(XfsInode ip)
    {
        lock (Mount.Lock)
        {
            if (_inodes.TryGetValue(ip.Ino, out var vi))
            {
                vi.Refresh();
                return vi;
            }
            vi = new XfsVfsInode(Sb, ip, InodeOperations, FileOperations);
            _inodes.Add(ip.Ino, vi);
            return vi;
        }
    }

    public void EvictInode(Vfs.Inode inode)
    {
        var vi = (XfsVfsInode)inode;
        var ip = vi.Xfs;
        lock (Mount.Lock)
        {
            _inodes.Remove(ip.Ino);
            if (!ip.InUse || ip.Core.Nlink != 0 || Mount.IsUnmounted)
                return;
            // xfs_inactive: the data goes (as many transactions as it takes), then the inode
            // leaves its unlinked list and is freed.
            XfsInactive.Inactivate(ip);
        }
    }

    public StatFs StatFs()
    {
        lock (Mount.Lock)
        {
            var sb = Mount.Superblock;
            var geo = Mount.Geometry;
            long blocks = (long)sb.DataBlocks - geo.LogBlocks;
            long free = (long)Mount.FreeBlocksAvailable;
            // xfs_fs_statfs: as many more inodes as the free blocks could hold, up to imaxpct.
            ulong files = sb.ICount + Mount.FreeBlocksAvailable * (ulong)(geo.BlockSize / geo.InodeSize);
            if (Mount.MaxInodeCount != 0)
                files = Math.Min(files, Mount.MaxInodeCount);
            files = Math.Max(files, sb.ICount);
            long used = (long)(sb.ICount - sb.IFree);
            return new StatFs(Magic, geo.BlockSize, blocks, free, free, (long)files, (long)files - used, 255, geo.BlockSize, Sb.ReadOnly ? Vfs.StatFs.ST_RDONLY : 0);
        }
    }

    public void SyncFs() => Mount.ForceLogAll();

    public void PutSuper() => Mount.Unmount();
}
