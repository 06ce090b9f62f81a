using System.Text;
using DaxStack.Device.Errors;

namespace DaxStack.Fs.Vfs;

// Path walk and permission checks: fs/namei.c.
public sealed partial class Process
{
    /// <summary>Longest path including its terminating NUL (<c>PATH_MAX</c>).</summary>
    public const int PathMax = 4096;

    /// <summary>Longest path component in bytes (<c>NAME_MAX</c>).</summary>
    public const int NameMax = 255;

    internal const int MAY_EXEC = 1;
    internal const int MAY_WRITE = 2;
    internal const int MAY_READ = 4;

    private VfsPath RootPath => new(Vfs.RootMount, Vfs.RootMount.Root);

    /// <summary>Copies the path in: empty is ENOENT, PATH_MAX bytes or more ENAMETOOLONG (<c>getname</c>).</summary>
    private static void GetName(string path, string call)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length == 0)
        {
            throw new ErrnoException(Errno.ENOENT, $"{call}: empty path");
        }

        // The string plus its NUL must fit in PATH_MAX.
        if (path.Length >= PathMax / 4 && Encoding.UTF8.GetByteCount(path) >= PathMax)
        {
            throw new ErrnoException(Errno.ENAMETOOLONG, $"{call}: path is {Encoding.UTF8.GetByteCount(path)} bytes");
        }
    }

    /// <summary>Walks every component but the last (<c>filename_parentat</c> / <c>link_path_walk</c>).</summary>
    private ParentLookup WalkParent(string path, string call)
    {
        GetName(path, call);
        VfsPath cur = path[0] == '/' ? RootPath : Cwd;
        string[] parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
        {
            return new ParentLookup(cur, string.Empty, LastComponentType.Root, false);
        }

        for (int i = 0; i < parts.Length - 1; i++)
        {
            MayLookup(cur.Inode, call);
            cur = Step(cur, parts[i], call);
            if (!cur.Inode.IsDirectory)
            {
                throw new ErrnoException(Errno.ENOTDIR, $"{call}: {parts[i]} in {path} is not a directory");
            }
        }

        // link_path_walk checks search permission on the directory holding the last component too.
        MayLookup(cur.Inode, call);
        string last = parts[^1];
        var type = last switch
        {
            "." => LastComponentType.Dot,
            ".." => LastComponentType.DotDot,
            _ => LastComponentType.Norm,
        };
        return new ParentLookup(cur, last, type, path[^1] == '/');
    }

    /// <summary>Walks the whole path to an existing inode (<c>filename_lookup</c>); a trailing slash requires a directory.</summary>
    private VfsPath WalkFull(string path, string call, bool directory = false)
    {
        var nd = WalkParent(path, call);
        VfsPath result = nd.Type switch
        {
            LastComponentType.Root => nd.Parent,
            LastComponentType.Dot => nd.Parent,
            _ => Step(nd.Parent, nd.Last, call),
        };

        if ((nd.TrailingSlash || directory) && !result.Inode.IsDirectory)
        {
            throw new ErrnoException(Errno.ENOTDIR, $"{call}: {path} is not a directory");
        }

        return result;
    }

    /// <summary>One component: ".", "..", or a name looked up and followed into any mount on it (<c>walk_component</c>).</summary>
    private VfsPath Step(VfsPath cur, string name, string call)
    {
        if (name == ".")
        {
            return cur;
        }

        if (name == "..")
        {
            // follow_dotdot: at the root of a mount, first climb to the directory it covers.
            var root = RootPath;
            if (cur == root)
            {
                return cur;
            }

            while (cur.Inode == cur.Mount.Root && cur.Mount.Parent != null)
            {
                cur = new VfsPath(cur.Mount.Parent, cur.Mount.MountPoint!);
                if (cur == root)
                {
                    return cur;
                }
            }

            var parent = LookupChild(cur.Inode, "..", call)
                ?? throw new InvalidOperationException($"inode {cur.Inode.Ino}: the filesystem returned no parent");
            return CrossMounts(new VfsPath(cur.Mount, parent));
        }

        var child = LookupChild(cur.Inode, name, call)
            ?? throw new ErrnoException(Errno.ENOENT, $"{call}: {name}: no such file or directory");
        return CrossMounts(new VfsPath(cur.Mount, child));
    }

    /// <summary>Follows mounts stacked on <paramref name="path"/> (<c>handle_mounts</c>).</summary>
    private VfsPath CrossMounts(VfsPath path)
    {
        while (Vfs.MountedOn(path.Mount, path.Inode) is { } m)
        {
            path = new VfsPath(m, m.Root);
        }

        return path;
    }

    /// <summary>The filesystem's lookup under the directory's lock held shared (<c>lookup_slow</c>).</summary>
    private static Inode? LookupChild(Inode dir, string name, string call)
    {
        // The filesystem's ->lookup rejects names over NAME_MAX (simple_lookup, xfs_vn_lookup).
        if (name.Length > NameMax / 4 && Encoding.UTF8.GetByteCount(name) > NameMax)
        {
            throw new ErrnoException(Errno.ENAMETOOLONG, $"{call}: a name of {Encoding.UTF8.GetByteCount(name)} bytes is longer than {NameMax}");
        }

        // A removed directory holds no names, but its ".." still leads to where it was (d_parent).
        if (dir.IsDeadDirectory && name != "..")
        {
            return null;
        }

        dir.Rwsem.EnterReadLock();
        try
        {
            // d_lookup first; the filesystem's ->lookup only for a name not seen since it last changed.
            if (name == "..")
            {
                return dir.Operations.Lookup(dir, name);
            }

            var dentries = dir.Dentries;
            if (dentries.TryLookup(name, out var cached))
            {
                return cached;
            }

            var inode = dir.Operations.Lookup(dir, name);
            dentries.Add(name, inode);
            return inode;
        }
        finally
        {
            dir.Rwsem.ExitReadLock();
        }
    }

    /// <summary>Search permission on a directory being walked (<c>may_lookup</c>).</summary>
    private void MayLookup(Inode dir, string call) => InodePermission(dir, MAY_EXEC, call);

    /// <summary>Read-only filesystem, immutable inode, then the mode bits (<c>inode_permission</c>).</summary>
    private void InodePermission(Inode inode, int mask, string call)
    {
        if ((mask & MAY_WRITE) != 0)
        {
            // sb_permission: nobody writes to a read-only filesystem.
            if (inode.Sb.ReadOnly && (inode.IsRegular || inode.IsDirectory))
            {
                throw new ErrnoException(Errno.EROFS, $"{call}: read-only file system");
            }

            if (inode.IsImmutable)
            {
                throw new ErrnoException(Errno.EPERM, $"{call}: inode {inode.Ino} is immutable");
            }
        }

        GenericPermission(inode, mask, call);
    }

    /// <summary>Owner, group or other bits, then CAP_DAC_READ_SEARCH and CAP_DAC_OVERRIDE (<c>generic_permission</c>).</summary>
    private void GenericPermission(Inode inode, int mask, string call)
    {
        var cred = Credentials;
        uint mode = inode.Mode;

        // acl_permission_check: the owner class, else the group class, else other.
        uint bits = cred.Uid == inode.Uid ? (mode >> 6) & 7 : cred.Gid == inode.Gid ? (mode >> 3) & 7 : mode & 7;
        if ((mask & ~(int)bits & 7) == 0)
        {
            return;
        }

        if (inode.IsDirectory)
        {
            // DACs are overridable for directories.
            if ((mask & MAY_WRITE) == 0 && cred.Capable(Capabilities.CAP_DAC_READ_SEARCH))
            {
                return;
            }

            if (cred.Capable(Capabilities.CAP_DAC_OVERRIDE))
            {
                return;
            }
        }
        else
        {
            if (mask == MAY_READ && cred.Capable(Capabilities.CAP_DAC_READ_SEARCH))
            {
                return;
            }

            // Execute is overridable only when some execute bit is set.
            if (((mask & MAY_EXEC) == 0 || (mode & InodeMode.S_IXUGO) != 0) && cred.Capable(Capabilities.CAP_DAC_OVERRIDE))
            {
                return;
            }
        }

        throw new ErrnoException(Errno.EACCES, $"{call}: permission denied on inode {inode.Ino}");
    }

    /// <summary>The process owns the inode or has CAP_FOWNER (<c>inode_owner_or_capable</c>).</summary>
    private bool OwnerOrCapable(Inode inode) => Credentials.Uid == inode.Uid || Credentials.Capable(Capabilities.CAP_FOWNER);

    /// <summary>Checks before adding a name to <paramref name="dir"/> (<c>may_create</c>, after its EEXIST check).</summary>
    private void MayCreate(Inode dir, string call)
    {
        if (dir.IsDeadDirectory)
        {
            throw new ErrnoException(Errno.ENOENT, $"{call}: the directory was removed");
        }

        InodePermission(dir, MAY_WRITE | MAY_EXEC, call);
    }

    /// <summary>Checks before removing <paramref name="victim"/> from <paramref name="dir"/> (<c>may_delete</c>).</summary>
    private void MayDelete(VfsPath dir, Inode victim, bool isDir, string call)
    {
        InodePermission(dir.Inode, MAY_WRITE | MAY_EXEC, call);
        if (dir.Inode.IsAppendOnly)
        {
            throw new ErrnoException(Errno.EPERM, $"{call}: directory inode {dir.Inode.Ino} is append-only");
        }

        // check_sticky: in a sticky directory only the owners of the file or directory may remove.
        bool sticky = (dir.Inode.Mode & InodeMode.S_ISVTX) != 0 && Credentials.Uid != victim.Uid
            && Credentials.Uid != dir.Inode.Uid && !Credentials.Capable(Capabilities.CAP_FOWNER);
        if (sticky || victim.IsAppendOnly || victim.IsImmutable)
        {
            throw new ErrnoException(Errno.EPERM, $"{call}: inode {victim.Ino} may not be removed");
        }

        if (isDir)
        {
            if (!victim.IsDirectory)
            {
                throw new ErrnoException(Errno.ENOTDIR, $"{call}: inode {victim.Ino} is not a directory");
            }

            if (victim == dir.Mount.Root)
            {
                throw new ErrnoException(Errno.EBUSY, $"{call}: inode {victim.Ino} is the root of a mount");
            }
        }
        else if (victim.IsDirectory)
        {
            throw new ErrnoException(Errno.EISDIR, $"{call}: inode {victim.Ino} is a directory");
        }
    }

    /// <summary>The mount must be writable (<c>mnt_want_write</c>).</summary>
    private static void MountWantWrite(Mount mount, string call)
    {
        if (mount.ReadOnly)
        {
            throw new ErrnoException(Errno.EROFS, $"{call}: {mount.Path} is mounted read-only");
        }
    }
}
