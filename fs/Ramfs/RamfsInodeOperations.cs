using DaxStack.Device.Errors;
using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Ramfs;

/// <summary>
/// ramfs's namespace and attribute operations: names live in the directory inode's tables, a
/// directory counts a link for itself, its "." and each subdirectory's "..", as on Linux.
/// </summary>
/// <remarks>Models <c>ramfs_dir_inode_operations</c> / <c>shmem_dir_inode_operations</c> with <c>simple_lookup</c>, <c>simple_link</c>, <c>simple_unlink</c>, <c>simple_rmdir</c>, <c>simple_rename</c>, <c>simple_setattr</c>.</remarks>
internal sealed class RamfsInodeOperations : IInodeOperations
{
    // The FS_XFLAG_* ramfs stores; the others are XFS allocation features it does not have.
    private const FsXflags Supported = FsXflags.FS_XFLAG_IMMUTABLE | FsXflags.FS_XFLAG_APPEND | FsXflags.FS_XFLAG_SYNC
        | FsXflags.FS_XFLAG_NOATIME | FsXflags.FS_XFLAG_NODUMP | FsXflags.FS_XFLAG_PROJINHERIT | FsXflags.FS_XFLAG_NOSYMLINKS
        | FsXflags.FS_XFLAG_EXTSIZE | FsXflags.FS_XFLAG_EXTSZINHERIT | FsXflags.FS_XFLAG_NODEFRAG | FsXflags.FS_XFLAG_DAX
        | FsXflags.FS_XFLAG_COWEXTSIZE;

    private readonly RamfsSuper _super;

    public RamfsInodeOperations(RamfsSuper super)
    {
        _super = super;
    }

    public Inode? Lookup(Inode dir, string name)
    {
        var d = (RamfsInode)dir;
        if (name == "..")
        {
            return d.Parent;
        }

        return d.Entries.TryGetValue(name, out var e) ? e.Inode : null;
    }

    public Inode Create(Inode dir, string name, uint mode, Credentials owner)
    {
        var d = (RamfsInode)dir;
        var inode = _super.NewInode(mode, owner, d);
        inode.Nlink = 1;
        d.AddEntry(name, inode);
        Touch(d);
        return inode;
    }

    public Inode Mkdir(Inode dir, string name, uint mode, Credentials owner)
    {
        var d = (RamfsInode)dir;
        var inode = _super.NewInode(mode, owner, d);
        inode.Nlink = 2;
        inode.Parent = d;
        d.AddEntry(name, inode);
        d.Nlink++;
        Touch(d);
        return inode;
    }

    public void Link(Inode inode, Inode dir, string name)
    {
        var d = (RamfsInode)dir;
        d.AddEntry(name, (RamfsInode)inode);
        inode.Nlink++;
        inode.Ctime = Timespec.Now();
        Touch(d);
    }

    public void Unlink(Inode dir, string name, Inode inode)
    {
        var d = (RamfsInode)dir;
        d.RemoveEntry(name);
        inode.Nlink--;
        inode.Ctime = Timespec.Now();
        Touch(d);
    }

    public void Rmdir(Inode dir, string name, Inode inode)
    {
        var victim = (RamfsInode)inode;
        if (victim.Entries.Count != 0)
        {
            throw new ErrnoException(Errno.ENOTEMPTY, $"ramfs: directory inode {inode.Ino} is not empty");
        }

        var d = (RamfsInode)dir;
        d.RemoveEntry(name);
        d.Nlink--;
        victim.Nlink = 0;
        Touch(d);
    }

    public void Rename(Inode oldDir, string oldName, Inode source, Inode newDir, string newName, Inode? target, RenameFlags flags)
    {
        // simple_rename2 knows only these two flags.
        if ((flags & ~(RenameFlags.RENAME_NOREPLACE | RenameFlags.RENAME_EXCHANGE)) != 0)
        {
            throw new ErrnoException(Errno.EINVAL, $"ramfs: rename flags 0x{(int)flags:x} are not supported");
        }

        var od = (RamfsInode)oldDir;
        var nd = (RamfsInode)newDir;
        var src = (RamfsInode)source;
        var now = Timespec.Now();
        if ((flags & RenameFlags.RENAME_EXCHANGE) != 0)
        {
            var tgt = (RamfsInode)target!;
            od.RemoveEntry(oldName);
            nd.RemoveEntry(newName);
            od.AddEntry(oldName, tgt);
            nd.AddEntry(newName, src);

            // simple_rename_exchange: a directory trading places with a non-directory moves a link.
            if (od != nd && src.IsDirectory != tgt.IsDirectory)
            {
                if (src.IsDirectory)
                {
                    od.Nlink--;
                    nd.Nlink++;
                }
                else
                {
                    nd.Nlink--;
                    od.Nlink++;
                }
            }

            if (src.IsDirectory)
            {
                src.Parent = nd;
            }

            if (tgt.IsDirectory)
            {
                tgt.Parent = od;
            }

            src.Ctime = now;
            tgt.Ctime = now;
        }
        else
        {
            bool isDir = src.IsDirectory;
            if (target is RamfsInode tgt)
            {
                if (tgt.IsDirectory && tgt.Entries.Count != 0)
                {
                    throw new ErrnoException(Errno.ENOTEMPTY, $"ramfs: directory inode {tgt.Ino} is not empty");
                }

                nd.RemoveEntry(newName);
                tgt.Ctime = now;
                if (tgt.IsDirectory)
                {
                    tgt.Nlink = 0;
                    nd.Nlink--;
                }
                else
                {
                    tgt.Nlink--;
                }
            }

            od.RemoveEntry(oldName);
            nd.AddEntry(newName, src);
            if (isDir)
            {
                od.Nlink--;
                nd.Nlink++;
                src.Parent = nd;
            }

            src.Ctime = now;
        }

        Touch(od);
        Touch(nd);
    }

    public void SetAttr(Inode inode, in InodeAttributes attributes)
    {
        var ri = (RamfsInode)inode;
        var valid = attributes.Valid;
        if ((valid & AttrValid.ATTR_SIZE) != 0)
        {
            Truncate(ri, attributes.Size);
        }

        if ((valid & AttrValid.ATTR_MODE) != 0)
        {
            ri.Mode = (ri.Mode & InodeMode.S_IFMT) | (attributes.Mode & ~InodeMode.S_IFMT);
        }

        if ((valid & AttrValid.ATTR_UID) != 0)
        {
            ri.Uid = attributes.Uid;
        }

        if ((valid & AttrValid.ATTR_GID) != 0)
        {
            ri.Gid = attributes.Gid;
        }

        if ((valid & AttrValid.ATTR_ATIME) != 0)
        {
            ri.Atime = attributes.Time;
        }

        if ((valid & AttrValid.ATTR_MTIME) != 0)
        {
            ri.Mtime = attributes.Time;
        }

        if ((valid & AttrValid.ATTR_CTIME) != 0)
        {
            ri.Ctime = attributes.Time;
        }
    }

    /// <summary>Drops pages wholly beyond the new size and zeroes the tail of the last one (<c>shmem_truncate_range</c>).</summary>
    private void Truncate(RamfsInode inode, long size)
    {
        if (size < inode.Size)
        {
            long firstWhole = (size + RamfsPage.Size - 1) / RamfsPage.Size;
            var drop = inode.Pages.Keys.Where(k => k >= firstWhole).ToList();
            foreach (long k in drop)
            {
                inode.Pages.Remove(k);
            }

            _super.ReleasePages(drop.Count);
            int tail = (int)(size % RamfsPage.Size);
            if (tail != 0 && inode.Pages.TryGetValue(size / RamfsPage.Size, out var page))
            {
                page.Data.AsSpan(tail).Clear();
            }
        }
        else
        {
            // Growing: bytes between the old end and the next page boundary must read as zero;
            // pages preallocated beyond the old size already are.
            int tail = (int)(inode.Size % RamfsPage.Size);
            if (tail != 0 && inode.Pages.TryGetValue(inode.Size / RamfsPage.Size, out var page))
            {
                page.Data.AsSpan(tail).Clear();
            }
        }

        inode.Size = size;
        inode.UpdateBlocks();
    }

    public void Fiemap(Inode inode, FiemapExtentInfo info, long start, long length)
    {
        // Only regular files have ->fiemap.
        if (!inode.IsRegular)
        {
            throw new ErrnoException(Errno.EOPNOTSUPP, $"ramfs: fiemap on inode {inode.Ino}, which is not a regular file");
        }

        length = info.Prep(inode, start, length, FiemapFlags.None);
        var extents = Extents((RamfsInode)inode);
        long end = start + length;
        for (int i = 0; i < extents.Count; i++)
        {
            var (logical, len, unwritten) = extents[i];
            if (logical + len <= start)
            {
                continue;
            }

            if (logical >= end)
            {
                break;
            }

            // Memory pages have no device address: the location is reported unknown.
            var flags = FiemapExtentFlags.FIEMAP_EXTENT_UNKNOWN;
            if (unwritten)
            {
                flags |= FiemapExtentFlags.FIEMAP_EXTENT_UNWRITTEN;
            }

            if (i == extents.Count - 1)
            {
                flags |= FiemapExtentFlags.FIEMAP_EXTENT_LAST;
            }

            if (info.FillNextExtent(logical, 0, len, flags))
            {
                break;
            }
        }
    }

    /// <summary>Runs of consecutive pages in the same state, as (offset, length, unwritten).</summary>
    internal static List<(long Logical, long Length, bool Unwritten)> Extents(RamfsInode inode)
    {
        var result = new List<(long, long, bool)>();
        long runStart = -1;
        long runNext = -1;
        bool runUnwritten = false;
        foreach (var (index, page) in inode.Pages)
        {
            if (index == runNext && page.Unwritten == runUnwritten)
            {
                runNext++;
                continue;
            }

            if (runStart >= 0)
            {
                result.Add((runStart * RamfsPage.Size, (runNext - runStart) * RamfsPage.Size, runUnwritten));
            }

            runStart = index;
            runNext = index + 1;
            runUnwritten = page.Unwritten;
        }

        if (runStart >= 0)
        {
            result.Add((runStart * RamfsPage.Size, (runNext - runStart) * RamfsPage.Size, runUnwritten));
        }

        return result;
    }

    public FsXattr FileAttrGet(Inode inode)
    {
        var ri = (RamfsInode)inode;
        uint extents = ri.IsRegular ? (uint)Extents(ri).Count : 0;
        var flags = ri.Xattrs.Count != 0 ? ri.XFlags | FsXflags.FS_XFLAG_HASATTR : ri.XFlags;
        return new FsXattr(flags, ri.ExtSize, extents, ri.ProjId, ri.CowExtSize);
    }

    public void FileAttrSet(Inode inode, in FsXattr attributes)
    {
        var ri = (RamfsInode)inode;
        var flags = attributes.XFlags & ~FsXflags.FS_XFLAG_HASATTR;
        if ((flags & ~Supported) != 0)
        {
            throw new ErrnoException(Errno.EOPNOTSUPP, $"ramfs: flags 0x{(uint)(flags & ~Supported):x} are not supported");
        }

        // Extent size hints are whole blocks, as XFS requires.
        if (attributes.ExtSize % RamfsPage.Size != 0 || attributes.CowExtSize % RamfsPage.Size != 0)
        {
            throw new ErrnoException(Errno.EINVAL, $"ramfs: extent size hints must be multiples of {RamfsPage.Size}");
        }

        ri.XFlags = flags;
        ri.ExtSize = attributes.ExtSize;
        ri.CowExtSize = attributes.CowExtSize;
        ri.ProjId = attributes.ProjId;
        var vfsFlags = ri.Flags & ~(InodeFlags.S_IMMUTABLE | InodeFlags.S_APPEND | InodeFlags.S_SYNC | InodeFlags.S_NOATIME);
        if ((flags & FsXflags.FS_XFLAG_IMMUTABLE) != 0)
        {
            vfsFlags |= InodeFlags.S_IMMUTABLE;
        }

        if ((flags & FsXflags.FS_XFLAG_APPEND) != 0)
        {
            vfsFlags |= InodeFlags.S_APPEND;
        }

        if ((flags & FsXflags.FS_XFLAG_SYNC) != 0)
        {
            vfsFlags |= InodeFlags.S_SYNC;
        }

        if ((flags & FsXflags.FS_XFLAG_NOATIME) != 0)
        {
            vfsFlags |= InodeFlags.S_NOATIME;
        }

        ri.Flags = vfsFlags;
        ri.Ctime = Timespec.Now();
    }

    public byte[] GetXattr(Inode inode, XattrNamespace ns, string name)
    {
        var ri = (RamfsInode)inode;
        int i = FindXattr(ri, new XattrName(ns, name));
        if (i < 0)
        {
            throw new ErrnoException(Errno.ENODATA, $"ramfs: inode {ri.Ino} has no attribute {new XattrName(ns, name)}");
        }

        return ri.Xattrs[i].Value.ToArray();
    }

    // simple_xattr_set: the budget counts full names and values (tmpfs's ispace accounting).
    public void SetXattr(Inode inode, XattrNamespace ns, string name, ReadOnlySpan<byte> value, XattrFlags flags)
    {
        var ri = (RamfsInode)inode;
        var key = new XattrName(ns, name);
        int i = FindXattr(ri, key);
        if (i >= 0 && (flags & XattrFlags.XATTR_CREATE) != 0)
        {
            throw new ErrnoException(Errno.EEXIST, $"ramfs: inode {ri.Ino} already has {key}");
        }

        if (i < 0 && (flags & XattrFlags.XATTR_REPLACE) != 0)
        {
            throw new ErrnoException(Errno.ENODATA, $"ramfs: inode {ri.Ino} has no attribute {key} to replace");
        }

        long used = 0;
        for (int k = 0; k < ri.Xattrs.Count; k++)
        {
            if (k != i)
            {
                used += XattrCost(ri.Xattrs[k].Key, ri.Xattrs[k].Value.Length);
            }
        }

        if (used + XattrCost(key, value.Length) > _super.Options.XattrSpacePerInode)
        {
            throw new ErrnoException(Errno.ENOSPC, $"ramfs: inode {ri.Ino} has no room for {key} ({_super.Options.XattrSpacePerInode} bytes of attributes per inode)");
        }

        if (i >= 0)
        {
            ri.Xattrs[i] = new(key, value.ToArray());
        }
        else
        {
            ri.Xattrs.Add(new(key, value.ToArray()));
        }

        ri.Ctime = Timespec.Now();
    }

    public IReadOnlyList<XattrName> ListXattr(Inode inode) => [.. ((RamfsInode)inode).Xattrs.Select(x => x.Key)];

    public void RemoveXattr(Inode inode, XattrNamespace ns, string name)
    {
        var ri = (RamfsInode)inode;
        var key = new XattrName(ns, name);
        int i = FindXattr(ri, key);
        if (i < 0)
        {
            throw new ErrnoException(Errno.ENODATA, $"ramfs: inode {ri.Ino} has no attribute {key} to remove");
        }

        ri.Xattrs.RemoveAt(i);
        ri.Ctime = Timespec.Now();
    }

    private static int FindXattr(RamfsInode ri, XattrName key) => ri.Xattrs.FindIndex(x => x.Key == key);

    private static long XattrCost(XattrName key, int valueLength) => System.Text.Encoding.UTF8.GetByteCount(key.FullName) + valueLength;

    private static void Touch(RamfsInode dir)
    {
        var now = Timespec.Now();
        dir.Mtime = now;
        dir.Ctime = now;
    }
}
