using System.Text;
using DaxStack.Device.Errors;
using DaxStack.Fs.Iomap;
using DaxStack.Fs.Vfs;
using DaxStack.Fs.Xfs.Attr;
using DaxStack.Fs.Xfs.Dir2;
using DaxStack.Fs.Xfs.Files;
using DaxStack.Fs.Xfs.Ialloc;
using DaxStack.Fs.Xfs.Inode;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Xfs.Super;

/// <summary>
/// Namespace and attribute operations of the XFS-like filesystem: each name change is one
/// transaction that updates the directory (through the directory code), the inode's link
/// count and the timestamps together, so a crash leaves all of it or none.
/// </summary>
/// <remarks>Models the kernel's fs/xfs/xfs_iops.c (<c>xfs_vn_lookup</c>, <c>xfs_vn_create</c>, <c>xfs_vn_mkdir</c>, <c>xfs_vn_link</c>, <c>xfs_vn_unlink</c>, <c>xfs_vn_rename</c>, <c>xfs_vn_setattr</c>, <c>xfs_vn_fiemap</c>) over fs/xfs/xfs_inode.c (<c>xfs_create</c>, <c>xfs_link</c>, <c>xfs_remove</c>, <c>xfs_rename</c>) xfs_ioctl.c (<c>xfs_fileattr_get</c>, <c>xfs_fileattr_set</c>) and xfs_xattr.c (<c>xfs_xattr_get</c>, <c>xfs_xattr_set</c>, <c>xfs_vn_listxattr</c>).</remarks>
public sealed class XfsInodeOperations : IInodeOperations
{
    // Blocks a directory change may allocate: a new data block, leaf/node and free-index
    // blocks and the bmap splits each of them can cause (XFS_DIRENTER_SPACE_RES).
    private const uint DirEnterBlocks = 48;

    private readonly XfsSuper _super;

    internal XfsInodeOperations(XfsSuper super)
    {
        _super = super;
    }

    private XfsMount Mp => _super.Mount;

    private static XfsVfsInode X(Vfs.Inode inode) => (XfsVfsInode)inode;

    private static byte[] NameBytes(string name) => Encoding.UTF8.GetBytes(name);

    private static XfsDirFileType FileType(uint mode) => (mode & InodeMode.S_IFMT) switch
    {
        InodeMode.S_IFREG => XfsDirFileType.RegularFile,
        InodeMode.S_IFDIR => XfsDirFileType.Directory,
        InodeMode.S_IFLNK => XfsDirFileType.Symlink,
        InodeMode.S_IFCHR => XfsDirFileType.CharDevice,
        InodeMode.S_IFBLK => XfsDirFileType.BlockDevice,
        InodeMode.S_IFIFO => XfsDirFileType.Fifo,
        InodeMode.S_IFSOCK => XfsDirFileType.Socket,
        _ => XfsDirFileType.Unknown,
    };

    private XfsTimestamp Now() => XfsInodeCache.For(Mp).Now();

    // A directory whose entries changed: mtime and ctime move (xfs_trans_ichgtime).
    private void Touch(XfsTransaction tp, XfsVfsInode dir)
    {
        dir.Xfs.Join(tp);
        var now = Now();
        dir.Xfs.Core.Mtime = now;
        dir.Xfs.Core.Ctime = now;
        dir.Xfs.Log(tp);
    }

    private void ChangeLinks(XfsTransaction tp, XfsVfsInode inode, int delta)
    {
        var ip = inode.Xfs;
        ip.Join(tp);
        long links = ip.Core.Nlink + (long)delta;
        if (links < 0)
            throw new XfsCorruptionException($"inode {ip.Ino}", "link count would go below zero");
        ip.Core.Nlink = (uint)links;
        ip.Core.Ctime = Now();
        ip.Log(tp);
    }

    public Vfs.Inode? Lookup(Vfs.Inode dir, string name)
    {
        lock (Mp.Lock)
        {
            XfsDirEntry? entry;
            using (var tp = XfsTransaction.Begin(Mp))
                entry = XfsDirectory.TryLookup(tp, X(dir).Directory, NameBytes(name));
            return entry == null ? null : _super.Iget(entry.Ino);
        }
    }

    public Vfs.Inode Create(Vfs.Inode dir, string name, uint mode, Credentials owner) => Make(dir, name, mode, owner);

    public Vfs.Inode Mkdir(Vfs.Inode dir, string name, uint mode, Credentials owner) =>
        Make(dir, name, (mode & ~InodeMode.S_IFMT) | InodeMode.S_IFDIR, owner);

    // xfs_create: a new inode and its name in one transaction (and for a directory its "."/".."
    // and the parent's extra link).
    private XfsVfsInode Make(Vfs.Inode dir, string name, uint mode, Credentials owner)
    {
        var d = X(dir);
        bool isDir = (mode & InodeMode.S_IFMT) == InodeMode.S_IFDIR;
        lock (Mp.Lock)
        {
            using var tp = XfsTransaction.Begin(Mp, XfsIalloc.AllocateReservation(Mp) + DirEnterBlocks);
            var ip = XfsInodeAlloc.Create(tp, d.Xfs, (ushort)mode, owner.Uid, owner.Gid, isDir ? 2u : 1u);
            if (isDir)
                XfsDirectory.Init(tp, new XfsDirectoryInode(ip), d.Xfs.Ino);
            XfsDirectory.AddName(tp, d.Directory, NameBytes(name), ip.Ino, FileType(mode));
            if (isDir)
                ChangeLinks(tp, d, +1);
            Touch(tp, d);
            tp.Commit();
            d.Refresh();
            return _super.Wrap(ip);
        }
    }

    public void Link(Vfs.Inode inode, Vfs.Inode dir, string name)
    {
        var d = X(dir);
        var i = X(inode);
        lock (Mp.Lock)
        {
            using var tp = XfsTransaction.Begin(Mp, DirEnterBlocks);
            XfsDirectory.AddName(tp, d.Directory, NameBytes(name), i.Xfs.Ino, FileType(i.Mode));
            ChangeLinks(tp, i, +1);
            Touch(tp, d);
            tp.Commit();
            d.Refresh();
            i.Refresh();
        }
    }

    public void Unlink(Vfs.Inode dir, string name, Vfs.Inode inode)
    {
        var d = X(dir);
        var i = X(inode);
        lock (Mp.Lock)
        {
            using var tp = XfsTransaction.Begin(Mp, DirEnterBlocks);
            XfsDirectory.RemoveName(tp, d.Directory, NameBytes(name));
            DropLinks(tp, i, 1);
            Touch(tp, d);
            tp.Commit();
            d.Refresh();
            i.Refresh();
        }
    }

    // xfs_droplink: the last link puts the inode on its AGI unlinked list in the same
    // transaction, so a crash before it is freed leaves it for mount-time recovery.
    private static void DropLinks(XfsTransaction tp, XfsVfsInode inode, uint count)
    {
        for (uint k = 0; k < count; k++)
            XfsInactive.DropLink(tp, inode.Xfs);
    }

    public void Rmdir(Vfs.Inode dir, string name, Vfs.Inode inode)
    {
        var d = X(dir);
        var i = X(inode);
        lock (Mp.Lock)
        {
            using var tp = XfsTransaction.Begin(Mp, DirEnterBlocks);
            if (!XfsDirectory.IsEmpty(tp, i.Directory))
                throw new XfsException(Errno.ENOTEMPTY, $"directory inode {i.Xfs.Ino} is not empty");
            XfsDirectory.RemoveName(tp, d.Directory, NameBytes(name));
            // The child's ".." link to the parent and both of the child's own links go.
            ChangeLinks(tp, d, -1);
            DropLinks(tp, i, i.Xfs.Core.Nlink);
            Touch(tp, d);
            tp.Commit();
            d.Refresh();
            i.Refresh();
        }
    }

    public void Rename(Vfs.Inode oldDir, string oldName, Vfs.Inode source, Vfs.Inode newDir, string newName, Vfs.Inode? target, RenameFlags flags)
    {
        if ((flags & ~(RenameFlags.RENAME_NOREPLACE | RenameFlags.RENAME_EXCHANGE)) != 0)
            throw new XfsException(Errno.EINVAL, $"rename flags 0x{(int)flags:x} are not supported");
        var od = X(oldDir);
        var nd = X(newDir);
        var src = X(source);
        var tgt = target == null ? null : X(target);
        bool exchange = (flags & RenameFlags.RENAME_EXCHANGE) != 0;
        bool srcDir = src.IsDirectory;
        lock (Mp.Lock)
        {
            using var tp = XfsTransaction.Begin(Mp, 3 * DirEnterBlocks);
            if (exchange)
            {
                // xfs_cross_rename: the two names swap inodes; moved directories get new parents.
                var t = tgt ?? throw new XfsException(Errno.ENOENT, "RENAME_EXCHANGE without a target");
                XfsDirectory.Replace(tp, od.Directory, NameBytes(oldName), t.Xfs.Ino, FileType(t.Mode));
                XfsDirectory.Replace(tp, nd.Directory, NameBytes(newName), src.Xfs.Ino, FileType(src.Mode));
                if (od != nd)
                {
                    if (srcDir)
                        XfsDirectory.Replace(tp, src.Directory, ".."u8, nd.Xfs.Ino, XfsDirFileType.Directory);
                    if (t.IsDirectory)
                        XfsDirectory.Replace(tp, t.Directory, ".."u8, od.Xfs.Ino, XfsDirFileType.Directory);
                    if (srcDir != t.IsDirectory)
                    {
                        ChangeLinks(tp, srcDir ? od : nd, -1);
                        ChangeLinks(tp, srcDir ? nd : od, +1);
                    }
                }
                ChangeLinks(tp, src, 0);
                ChangeLinks(tp, t, 0);
            }
            else
            {
                if (tgt != null)
                {
                    if (tgt.IsDirectory && !XfsDirectory.IsEmpty(tp, tgt.Directory))
                        throw new XfsException(Errno.ENOTEMPTY, $"directory inode {tgt.Xfs.Ino} is not empty");
                    XfsDirectory.Replace(tp, nd.Directory, NameBytes(newName), src.Xfs.Ino, FileType(src.Mode));
                    if (tgt.IsDirectory)
                    {
                        DropLinks(tp, tgt, tgt.Xfs.Core.Nlink);
                        ChangeLinks(tp, nd, -1);
                    }
                    else
                    {
                        DropLinks(tp, tgt, 1);
                    }
                }
                else
                {
                    XfsDirectory.AddName(tp, nd.Directory, NameBytes(newName), src.Xfs.Ino, FileType(src.Mode));
                }
                XfsDirectory.RemoveName(tp, od.Directory, NameBytes(oldName));
                if (srcDir && od != nd)
                {
                    XfsDirectory.Replace(tp, src.Directory, ".."u8, nd.Xfs.Ino, XfsDirFileType.Directory);
                    ChangeLinks(tp, od, -1);
                    ChangeLinks(tp, nd, +1);
                }
                ChangeLinks(tp, src, 0);
            }
            Touch(tp, od);
            if (nd != od)
                Touch(tp, nd);
            tp.Commit();
            od.Refresh();
            nd.Refresh();
            src.Refresh();
            tgt?.Refresh();
        }
    }

    public void SetAttr(Vfs.Inode inode, in InodeAttributes attributes)
    {
        var i = X(inode);
        var valid = attributes.Valid;
        lock (Mp.Lock)
        {
            if ((valid & AttrValid.ATTR_SIZE) != 0)
                XfsFileIo.Truncate(i.Xfs, attributes.Size);
            if ((valid & ~AttrValid.ATTR_SIZE) != 0)
            {
                using var tp = XfsTransaction.Begin(Mp);
                var ip = i.Xfs;
                ip.Join(tp);
                var core = ip.Core;
                if ((valid & AttrValid.ATTR_MODE) != 0)
                    core.Mode = (ushort)((core.Mode & XfsDinode.TypeMask) | (ushort)(attributes.Mode & ~InodeMode.S_IFMT & 0xFFFFu));
                if ((valid & AttrValid.ATTR_UID) != 0)
                    core.Uid = attributes.Uid;
                if ((valid & AttrValid.ATTR_GID) != 0)
                    core.Gid = attributes.Gid;
                var time = XfsVfsInode.ToXfs(attributes.Time);
                if ((valid & AttrValid.ATTR_ATIME) != 0)
                    core.Atime = time;
                if ((valid & AttrValid.ATTR_MTIME) != 0)
                    core.Mtime = time;
                if ((valid & AttrValid.ATTR_CTIME) != 0)
                    core.Ctime = time;
                ip.Log(tp);
                tp.Commit();
            }
            i.Refresh();
        }
    }

    public void Fiemap(Vfs.Inode inode, FiemapExtentInfo info, long start, long length)
    {
        var i = X(inode);
        if (!i.IsRegular && !i.IsDirectory)
            throw new XfsException(Errno.EOPNOTSUPP, $"fiemap on inode {i.Xfs.Ino}, which has no block map");
        length = info.Prep(inode, start, length, FiemapFlags.FIEMAP_FLAG_SYNC);
        lock (Mp.Lock)
        {
            var ip = i.Xfs;
            if (ip.DataFork.Format is not (XfsDinodeFormat.Extents or XfsDinodeFormat.Btree))
                return;
            // iomap_fiemap: one extent per mapping; the last one found carries FIEMAP_EXTENT_LAST.
            var ops = new XfsIomapOps(ip, XfsFileIo.DaxOf(Mp));
            long end = start > long.MaxValue - length ? long.MaxValue : start + length;
            long mapEnd = (long)Bmap.XfsBmap.LastOffset(ip) << Mp.Geometry.BlockLog;
            end = Math.Min(end, mapEnd);
            IomapMapping? pending = null;
            for (long pos = start; pos < end;)
            {
                var map = ops.Begin(pos, end - pos, IomapFlags.Report);
                if (map.Type != IomapType.Hole)
                {
                    if (pending is { } p && Emit(info, p, last: false))
                        return;
                    pending = map;
                }
                pos = map.End;
            }
            if (pending is { } final)
                Emit(info, final, last: true);
        }
    }

    private static bool Emit(FiemapExtentInfo info, in IomapMapping map, bool last)
    {
        var flags = FiemapExtentFlags.None;
        if (map.Type == IomapType.Unwritten)
            flags |= FiemapExtentFlags.FIEMAP_EXTENT_UNWRITTEN;
        if ((map.Flags & IomapMapFlags.Shared) != 0)
            flags |= FiemapExtentFlags.FIEMAP_EXTENT_SHARED;
        if (last)
            flags |= FiemapExtentFlags.FIEMAP_EXTENT_LAST;
        return info.FillNextExtent(map.Offset, map.Address, map.Length, flags);
    }

    public FsXattr FileAttrGet(Vfs.Inode inode)
    {
        var ip = X(inode).Xfs;
        lock (Mp.Lock)
        {
            var core = ip.Core;
            var flags = (FsXflags)(uint)core.Flags & KnownXflags;
            if ((core.Flags2 & XfsDiFlags2.Dax) != 0)
                flags |= FsXflags.FS_XFLAG_DAX;
            if ((core.Flags2 & XfsDiFlags2.CowExtSize) != 0)
                flags |= FsXflags.FS_XFLAG_COWEXTSIZE;
            // xfs_ip2xflags: an inode with an attribute fork reports FS_XFLAG_HASATTR.
            if (core.ForkOff != 0)
                flags |= FsXflags.FS_XFLAG_HASATTR;
            uint extents = ip.DataFork.Format == XfsDinodeFormat.Local ? 0 : (uint)ip.DataFork.Count;
            int bs = Mp.Geometry.BlockSize;
            return new FsXattr(flags, core.ExtSize * (uint)bs, extents, (uint)core.ProjIdLo | ((uint)core.ProjIdHi << 16), core.CowExtSize * (uint)bs);
        }
    }

    // The FS_XFLAG_* bits that are XFS_DIFLAG_* bits of the same value.
    private const FsXflags KnownXflags = FsXflags.FS_XFLAG_REALTIME | FsXflags.FS_XFLAG_PREALLOC | FsXflags.FS_XFLAG_IMMUTABLE
        | FsXflags.FS_XFLAG_APPEND | FsXflags.FS_XFLAG_SYNC | FsXflags.FS_XFLAG_NOATIME | FsXflags.FS_XFLAG_NODUMP
        | FsXflags.FS_XFLAG_RTINHERIT | FsXflags.FS_XFLAG_PROJINHERIT | FsXflags.FS_XFLAG_NOSYMLINKS | FsXflags.FS_XFLAG_EXTSIZE
        | FsXflags.FS_XFLAG_EXTSZINHERIT | FsXflags.FS_XFLAG_NODEFRAG | FsXflags.FS_XFLAG_FILESTREAM;

    public void FileAttrSet(Vfs.Inode inode, in FsXattr attributes)
    {
        var i = X(inode);
        var ip = i.Xfs;
        var want = attributes.XFlags & ~FsXflags.FS_XFLAG_HASATTR;
        int bs = Mp.Geometry.BlockSize;
        // xfs_ioctl_setattr_check_*: no realtime device, hints in whole blocks on the right kinds of inode.
        if ((want & (FsXflags.FS_XFLAG_REALTIME | FsXflags.FS_XFLAG_RTINHERIT)) != 0)
            throw new XfsException(Errno.EINVAL, "the filesystem has no realtime device");
        var unknown = want & ~(KnownXflags | FsXflags.FS_XFLAG_DAX | FsXflags.FS_XFLAG_COWEXTSIZE);
        if (unknown != 0)
            throw new XfsException(Errno.EOPNOTSUPP, $"flags 0x{(uint)unknown:x} are not supported");
        if (attributes.ExtSize % bs != 0 || attributes.CowExtSize % bs != 0)
            throw new XfsException(Errno.EINVAL, $"extent size hints must be multiples of the {bs}-byte block");
        if ((want & FsXflags.FS_XFLAG_EXTSIZE) != 0 && !i.IsRegular)
            throw new XfsException(Errno.EINVAL, "FS_XFLAG_EXTSIZE is for regular files");
        if ((want & (FsXflags.FS_XFLAG_EXTSZINHERIT | FsXflags.FS_XFLAG_PROJINHERIT | FsXflags.FS_XFLAG_NOSYMLINKS)) != 0 && !i.IsDirectory)
            throw new XfsException(Errno.EINVAL, "inherit flags are for directories");
        lock (Mp.Lock)
        {
            using var tp = XfsTransaction.Begin(Mp);
            ip.Join(tp);
            var core = ip.Core;
            core.Flags = (XfsDiFlags)(uint)(want & KnownXflags);
            core.Flags2 = (core.Flags2 & ~(XfsDiFlags2.Dax | XfsDiFlags2.CowExtSize))
                | ((want & FsXflags.FS_XFLAG_DAX) != 0 ? XfsDiFlags2.Dax : 0)
                | ((want & FsXflags.FS_XFLAG_COWEXTSIZE) != 0 ? XfsDiFlags2.CowExtSize : 0);
            core.ExtSize = attributes.ExtSize / (uint)bs;
            core.CowExtSize = attributes.CowExtSize / (uint)bs;
            core.ProjIdLo = (ushort)attributes.ProjId;
            core.ProjIdHi = (ushort)(attributes.ProjId >> 16);
            core.Ctime = Now();
            ip.Log(tp);
            tp.Commit();
            i.Refresh();
        }
    }

    public byte[] GetXattr(Vfs.Inode inode, XattrNamespace ns, string name)
    {
        var ip = X(inode).Xfs;
        lock (Mp.Lock)
        {
            return XfsAttr.Get(ip, ns, NameBytes(name))
                ?? throw new XfsException(Errno.ENODATA, $"inode {ip.Ino}: no attribute {new XattrName(ns, name)}");
        }
    }

    // xfs_xattr_set: one transaction changes the attr fork, di_forkoff, the data fork if it must
    // make room, and the change time.
    public void SetXattr(Vfs.Inode inode, XattrNamespace ns, string name, ReadOnlySpan<byte> value, XattrFlags flags)
    {
        var i = X(inode);
        lock (Mp.Lock)
        {
            using var tp = XfsTransaction.Begin(Mp, XfsAttr.SetReservation);
            XfsAttr.Set(tp, i.Xfs, ns, NameBytes(name), value, flags);
            tp.Commit();
            i.Refresh();
        }
    }

    public IReadOnlyList<XattrName> ListXattr(Vfs.Inode inode)
    {
        var ip = X(inode).Xfs;
        lock (Mp.Lock)
        {
            return [.. XfsAttr.List(ip).Select(e => new XattrName(XfsAttrShortform.NamespaceOf(e.Flags), Encoding.UTF8.GetString(e.Name)))];
        }
    }

    public void RemoveXattr(Vfs.Inode inode, XattrNamespace ns, string name)
    {
        var i = X(inode);
        lock (Mp.Lock)
        {
            using var tp = XfsTransaction.Begin(Mp, XfsAttr.SetReservation);
            XfsAttr.Remove(tp, i.Xfs, ns, NameBytes(name));
            tp.Commit();
            i.Refresh();
        }
    }
}
