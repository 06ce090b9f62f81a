using System.Text;
using DaxStack.Device.Errors;

namespace DaxStack.Fs.Vfs;

// Extended attributes: setxattr, getxattr, listxattr, removexattr and their f- variants
// (fs/xattr.c: setxattr_copy, vfs_setxattr, xattr_permission, vfs_getxattr, vfs_listxattr,
// vfs_removexattr). The VFS walks no symbolic links, so the l- variants are the path ones.
public sealed partial class Process
{
    /// <summary>
    /// <c>setxattr(path, name, value, flags)</c>: creates or replaces the attribute
    /// <paramref name="name"/> (with its <c>user.</c>, <c>trusted.</c> or <c>security.</c>
    /// prefix). EINVAL for unknown flags, ERANGE for an empty name or one over 255 bytes, E2BIG
    /// for a value over 65536 bytes, EOPNOTSUPP for another prefix, EEXIST / ENODATA for
    /// <see cref="XattrFlags.XATTR_CREATE"/> / <see cref="XattrFlags.XATTR_REPLACE"/>, EPERM or
    /// EACCES from <c>xattr_permission</c>, ENOSPC when the filesystem cannot store it.
    /// </summary>
    public void SetXattr(string path, string name, ReadOnlySpan<byte> value, XattrFlags flags = XattrFlags.None)
    {
        const string call = "setxattr";
        var p = WalkFull(path, call);
        DoSetXattr(p.Mount, p.Inode, name, value, flags, call);
    }

    /// <summary><c>fsetxattr(fd, name, value, flags)</c>: as <see cref="SetXattr(string, string, ReadOnlySpan{byte}, XattrFlags)"/> on the inode open on <paramref name="fd"/>.</summary>
    public void FSetXattr(int fd, string name, ReadOnlySpan<byte> value, XattrFlags flags = XattrFlags.None)
    {
        const string call = "fsetxattr";
        var file = GetFile(fd, call);
        DoSetXattr(file.Mount, file.Inode, name, value, flags, call);
    }

    /// <summary>
    /// <c>getxattr(path, name, buffer)</c>: copies the value into <paramref name="buffer"/> and
    /// returns its size; an empty buffer returns the size only. ENODATA when there is no such
    /// attribute (or it is a <c>trusted.</c> one and the process lacks CAP_SYS_ADMIN), ERANGE
    /// when the buffer is too small or the name empty or too long.
    /// </summary>
    public int GetXattr(string path, string name, Span<byte> buffer)
    {
        const string call = "getxattr";
        return DoGetXattr(WalkFull(path, call).Inode, name, buffer, call);
    }

    /// <summary><c>fgetxattr(fd, name, buffer)</c>: as <see cref="GetXattr(string, string, Span{byte})"/> on the inode open on <paramref name="fd"/>.</summary>
    public int FGetXattr(int fd, string name, Span<byte> buffer)
    {
        const string call = "fgetxattr";
        return DoGetXattr(GetFile(fd, call).Inode, name, buffer, call);
    }

    /// <summary>
    /// <c>listxattr(path, buffer)</c>: the full names of the attributes, each followed by a NUL,
    /// copied into <paramref name="buffer"/>; returns the size, and an empty buffer returns the
    /// size only. <c>trusted.</c> names appear only with CAP_SYS_ADMIN. ERANGE when the buffer is
    /// too small (E2BIG instead when that buffer already has 65536 bytes or more).
    /// </summary>
    public int ListXattr(string path, Span<byte> buffer)
    {
        const string call = "listxattr";
        return DoListXattr(WalkFull(path, call).Inode, buffer, call);
    }

    /// <summary><c>flistxattr(fd, buffer)</c>: as <see cref="ListXattr(string, Span{byte})"/> on the inode open on <paramref name="fd"/>.</summary>
    public int FListXattr(int fd, Span<byte> buffer)
    {
        const string call = "flistxattr";
        return DoListXattr(GetFile(fd, call).Inode, buffer, call);
    }

    /// <summary><c>removexattr(path, name)</c>: removes the attribute; ENODATA when there is none, other errors as for <see cref="SetXattr(string, string, ReadOnlySpan{byte}, XattrFlags)"/>.</summary>
    public void RemoveXattr(string path, string name)
    {
        const string call = "removexattr";
        var p = WalkFull(path, call);
        DoRemoveXattr(p.Mount, p.Inode, name, call);
    }

    /// <summary><c>fremovexattr(fd, name)</c>: as <see cref="RemoveXattr(string, string)"/> on the inode open on <paramref name="fd"/>.</summary>
    public void FRemoveXattr(int fd, string name)
    {
        const string call = "fremovexattr";
        var file = GetFile(fd, call);
        DoRemoveXattr(file.Mount, file.Inode, name, call);
    }

    /// <summary>The names <see cref="ListXattr(string, Span{byte})"/> returns, split at the NULs (a convenience over the size probe and the call).</summary>
    public IReadOnlyList<string> ListXattrNames(string path)
    {
        int size = ListXattr(path, []);
        var buffer = new byte[size];
        int n = ListXattr(path, buffer);
        return Encoding.UTF8.GetString(buffer, 0, n).Split('\0', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>The value <see cref="GetXattr(string, string, Span{byte})"/> returns (size probe, then the call).</summary>
    public byte[] GetXattrValue(string path, string name)
    {
        int size = GetXattr(path, name, []);
        var buffer = new byte[size];
        int n = GetXattr(path, name, buffer);
        return buffer.AsSpan(0, n).ToArray();
    }

    // setxattr_copy (flags, name, size) then vfs_setxattr (mnt_want_write, xattr_permission,
    // xattr_resolve_name, the handler).
    private void DoSetXattr(Mount mount, Inode inode, string name, ReadOnlySpan<byte> value, XattrFlags flags, string call)
    {
        ArgumentNullException.ThrowIfNull(name);
        if ((flags & ~(XattrFlags.XATTR_CREATE | XattrFlags.XATTR_REPLACE)) != 0)
        {
            throw new ErrnoException(Errno.EINVAL, $"{call}: flags 0x{(int)flags:x} are not XATTR_CREATE or XATTR_REPLACE");
        }

        CheckXattrNameLength(ref name, call);
        if (value.Length > XattrNames.SizeMax)
        {
            throw new ErrnoException(Errno.E2BIG, $"{call}: a value of {value.Length} bytes is over {XattrNames.SizeMax}");
        }

        MountWantWrite(mount, call);
        inode.Rwsem.EnterWriteLock();
        try
        {
            XattrPermission(inode, name, MAY_WRITE, call);
            var xn = XattrNames.Parse(name, call);
            inode.Operations.SetXattr(inode, xn.Namespace, xn.Name, value, flags);
        }
        finally
        {
            inode.Rwsem.ExitWriteLock();
        }
    }

    private int DoGetXattr(Inode inode, string name, Span<byte> buffer, string call)
    {
        ArgumentNullException.ThrowIfNull(name);
        CheckXattrNameLength(ref name, call);
        byte[] value;
        inode.Rwsem.EnterReadLock();
        try
        {
            XattrPermission(inode, name, MAY_READ, call);
            var xn = XattrNames.Parse(name, call);
            value = inode.Operations.GetXattr(inode, xn.Namespace, xn.Name);
        }
        finally
        {
            inode.Rwsem.ExitReadLock();
        }

        if (buffer.Length == 0)
        {
            return value.Length;
        }

        if (value.Length > buffer.Length)
        {
            throw new ErrnoException(Errno.ERANGE, $"{call}: the value of {name} is {value.Length} bytes, the buffer {buffer.Length}");
        }

        value.CopyTo(buffer);
        return value.Length;
    }

    private int DoListXattr(Inode inode, Span<byte> buffer, string call)
    {
        IReadOnlyList<XattrName> names;
        inode.Rwsem.EnterReadLock();
        try
        {
            names = inode.Operations.ListXattr(inode);
        }
        finally
        {
            inode.Rwsem.ExitReadLock();
        }

        // Trusted names are for CAP_SYS_ADMIN only (xfs_xattr_put_listent, trusted_xattr_list).
        bool admin = Credentials.Capable(Capabilities.CAP_SYS_ADMIN);
        var list = new List<byte>();
        foreach (var n in names)
        {
            if (n.Namespace == XattrNamespace.Trusted && !admin)
            {
                continue;
            }

            list.AddRange(Encoding.UTF8.GetBytes(n.FullName));
            list.Add(0);
        }

        if (buffer.Length == 0)
        {
            return list.Count;
        }

        // A list that does not fit even the largest buffer a caller may pass is E2BIG.
        if (list.Count > buffer.Length)
        {
            throw buffer.Length >= XattrNames.ListMax
                ? new ErrnoException(Errno.E2BIG, $"{call}: the list of {list.Count} bytes is over {XattrNames.ListMax}")
                : new ErrnoException(Errno.ERANGE, $"{call}: the list is {list.Count} bytes, the buffer {buffer.Length}");
        }

        for (int i = 0; i < list.Count; i++)
        {
            buffer[i] = list[i];
        }

        return list.Count;
    }

    private void DoRemoveXattr(Mount mount, Inode inode, string name, string call)
    {
        ArgumentNullException.ThrowIfNull(name);
        CheckXattrNameLength(ref name, call);
        MountWantWrite(mount, call);
        inode.Rwsem.EnterWriteLock();
        try
        {
            XattrPermission(inode, name, MAY_WRITE, call);
            var xn = XattrNames.Parse(name, call);
            inode.Operations.RemoveXattr(inode, xn.Namespace, xn.Name);
        }
        finally
        {
            inode.Rwsem.ExitWriteLock();
        }
    }

    // strncpy_from_user into a XATTR_NAME_MAX + 1 buffer: empty or unterminated is ERANGE. A C
    // string ends at its first NUL, so a name never holds one.
    private static void CheckXattrNameLength(ref string name, string call)
    {
        int nul = name.IndexOf('\0', StringComparison.Ordinal);
        if (nul >= 0)
        {
            name = name[..nul];
        }

        int bytes = Encoding.UTF8.GetByteCount(name);
        if (bytes == 0 || bytes > XattrNames.NameMax)
        {
            throw new ErrnoException(Errno.ERANGE, $"{call}: attribute name of {bytes} bytes (1 to {XattrNames.NameMax} allowed)");
        }
    }

    /// <summary>
    /// Who may read or write an attribute (<c>xattr_permission</c>): writes to immutable or
    /// append-only inodes are EPERM; security. needs CAP_SYS_ADMIN to write (commoncap) and
    /// nothing to read; trusted. needs CAP_SYS_ADMIN
    /// (EPERM to write, ENODATA to read); user. is for regular files and directories only (EPERM
    /// / ENODATA), and in a sticky directory only the owner writes; then the inode's permission bits.
    /// </summary>
    private void XattrPermission(Inode inode, string name, int mask, string call)
    {
        bool write = (mask & MAY_WRITE) != 0;
        if (write && (inode.IsImmutable || inode.IsAppendOnly))
        {
            throw new ErrnoException(Errno.EPERM, $"{call}: inode {inode.Ino} is immutable or append-only");
        }

        if (name.StartsWith("security.", StringComparison.Ordinal))
        {
            // No LSM but commoncap: cap_inode_setxattr / cap_inode_removexattr want
            // CAP_SYS_ADMIN to change a security. attribute; anyone may read one.
            if (write && !Credentials.Capable(Capabilities.CAP_SYS_ADMIN))
            {
                throw new ErrnoException(Errno.EPERM, $"{call}: changing {name} needs CAP_SYS_ADMIN");
            }

            return;
        }

        if (name.StartsWith("system.", StringComparison.Ordinal))
        {
            return;
        }

        if (name.StartsWith("trusted.", StringComparison.Ordinal))
        {
            if (!Credentials.Capable(Capabilities.CAP_SYS_ADMIN))
            {
                throw write
                    ? new ErrnoException(Errno.EPERM, $"{call}: {name} needs CAP_SYS_ADMIN")
                    : new ErrnoException(Errno.ENODATA, $"{call}: {name} is not visible without CAP_SYS_ADMIN");
            }

            return;
        }

        if (name.StartsWith("user.", StringComparison.Ordinal))
        {
            if (!inode.IsRegular && !inode.IsDirectory)
            {
                throw write
                    ? new ErrnoException(Errno.EPERM, $"{call}: user attributes are for regular files and directories, not inode {inode.Ino}")
                    : new ErrnoException(Errno.ENODATA, $"{call}: inode {inode.Ino} has no user attributes");
            }

            if (inode.IsDirectory && (inode.Mode & InodeMode.S_ISVTX) != 0 && write && !OwnerOrCapable(inode))
            {
                throw new ErrnoException(Errno.EPERM, $"{call}: only the owner writes user attributes of sticky directory inode {inode.Ino}");
            }
        }

        InodePermission(inode, mask, call);
    }
}
