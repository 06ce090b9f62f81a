using System.Text;
using DaxStack.Device.Errors;
using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Tests.Vfs.Model;

/// <summary>
/// An independent, deliberately simple model of a POSIX filesystem seen by a root process
/// (every capability, a descriptor table with a limit) and an unprivileged user
/// (<see cref="UserUid"/>, path calls only), both working in "/": a tree of nodes with owners,
/// permission bits and byte arrays, and the Linux errno rules written out directly from the
/// system calls' documented behaviour. It shares no code with any filesystem; the model-based test compares it with
/// the real stack after every step.
/// </summary>
internal sealed class ReferenceModel
{
    public const uint UserUid = 1000;
    public const uint UserGid = 1000;
    private const int NameMax = 255;
    private const uint Umask = 0x12;
    private const int MayExec = 1;
    private const int MayWrite = 2;
    private const int MayRead = 4;
    private readonly SortedDictionary<int, ModelOpenFile> _fds = new();

    public ReferenceModel(int fdLimit)
    {
        FdLimit = fdLimit;
        Root = ModelNode.NewDirectory(null, 0, 0, 0x1ED);
    }

    public ModelNode Root { get; }

    public int FdLimit { get; }

    public IReadOnlyDictionary<int, ModelOpenFile> Fds => _fds;

    private enum Kind
    {
        Norm,
        Root,
        Dot,
        DotDot,
    }

    private bool _asUser;

    public ModelOutcome Apply(ModelStep s)
    {
        _asUser = s.AsUser;
        try
        {
            return s.Op switch
            {
                ModelOp.Open or ModelOp.Creat => Open(s),
                ModelOp.Close => Close(s),
                ModelOp.Write => Write(s, positional: false),
                ModelOp.Pwrite => Write(s, positional: true),
                ModelOp.Read => Read(s, positional: false),
                ModelOp.Pread => Read(s, positional: true),
                ModelOp.Lseek => Lseek(s),
                ModelOp.Ftruncate => Ftruncate(s),
                ModelOp.Truncate => Truncate(s),
                ModelOp.Fallocate => Fallocate(s),
                ModelOp.Fsync => Fsync(s),
                ModelOp.Unlink => Unlink(s),
                ModelOp.Rename => Rename(s),
                ModelOp.Mkdir => Mkdir(s),
                ModelOp.Rmdir => Rmdir(s),
                ModelOp.Link => Link(s),
                ModelOp.Readdir => Readdir(s),
                ModelOp.Stat => Stat(s),
                ModelOp.Chmod => Chmod(s),
                ModelOp.SetXattr => SetXattr(s),
                ModelOp.GetXattr => GetXattr(s),
                ModelOp.RemoveXattr => RemoveXattr(s),
                ModelOp.ListXattr => ListXattr(s),
                _ => throw new ArgumentOutOfRangeException(nameof(s)),
            };
        }
        catch (ModelErrnoException e)
        {
            return ModelOutcome.Fail(e.Errno);
        }
    }

    /// <summary>The sorted "name:type" listing of a directory, "." and ".." included, as the test compares it.</summary>
    public static string Listing(ModelNode dir) =>
        string.Join(',', new[] { ".:d", "..:d" }.Concat(dir.Children.Select(c => $"{c.Key}:{(c.Value.IsDirectory ? 'd' : 'f')}")).Order(StringComparer.Ordinal));

    private static ModelErrnoException Fail(Errno e) => new(e);

    /// <summary>Root may do anything here; the user needs the bits of its class (owner, group, other).</summary>
    private void Require(ModelNode node, int mask)
    {
        if (!_asUser)
        {
            return;
        }

        uint bits = node.Uid == UserUid ? (node.Mode >> 6) & 7 : node.Gid == UserGid ? (node.Mode >> 3) & 7 : node.Mode & 7;
        if ((mask & ~(int)bits) != 0)
        {
            throw Fail(Errno.EACCES);
        }
    }

    private uint Owner => _asUser ? UserUid : 0;

    private uint Group => _asUser ? UserGid : 0;

    private readonly record struct Parsed(ModelNode Parent, string Last, Kind Kind, bool Slash);

    private Parsed ParseParent(string path)
    {
        if (path.Length == 0)
        {
            throw Fail(Errno.ENOENT);
        }

        string[] parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
        {
            return new Parsed(Root, string.Empty, Kind.Root, false);
        }

        var cur = Root;
        for (int i = 0; i < parts.Length - 1; i++)
        {
            Require(cur, MayExec);
            cur = Descend(cur, parts[i]);
            if (!cur.IsDirectory)
            {
                throw Fail(Errno.ENOTDIR);
            }
        }

        Require(cur, MayExec);
        string last = parts[^1];
        var kind = last == "." ? Kind.Dot : last == ".." ? Kind.DotDot : Kind.Norm;
        return new Parsed(cur, last, kind, path.EndsWith('/'));
    }

    private static ModelNode Descend(ModelNode dir, string name) => name switch
    {
        "." => dir,
        ".." => dir.Parent!,
        _ => Child(dir, name) ?? throw Fail(Errno.ENOENT),
    };

    private static ModelNode? Child(ModelNode dir, string name)
    {
        if (Encoding.UTF8.GetByteCount(name) > NameMax)
        {
            throw Fail(Errno.ENAMETOOLONG);
        }

        return dir.Children.GetValueOrDefault(name);
    }

    private ModelNode Resolve(string path)
    {
        var p = ParseParent(path);
        var node = p.Kind switch
        {
            Kind.Root or Kind.Dot => p.Parent,
            Kind.DotDot => p.Parent.Parent!,
            _ => Descend(p.Parent, p.Last),
        };
        if (p.Slash && !node.IsDirectory)
        {
            throw Fail(Errno.ENOTDIR);
        }

        return node;
    }

    private ModelOpenFile File(int fd) => _fds.GetValueOrDefault(fd) ?? throw Fail(Errno.EBADF);

    private int LowestFreeFd()
    {
        int fd = 0;
        while (_fds.ContainsKey(fd))
        {
            fd++;
        }

        return fd;
    }

    private ModelOutcome Open(ModelStep s)
    {
        var flags = (OpenFlags)s.Flags;
        bool creat = (flags & OpenFlags.O_CREAT) != 0;
        bool wantDir = (flags & OpenFlags.O_DIRECTORY) != 0;
        if (creat && wantDir)
        {
            throw Fail(Errno.EINVAL);
        }

        if (s.Path.Length == 0)
        {
            throw Fail(Errno.ENOENT);
        }

        if (!_asUser && _fds.Count >= FdLimit)
        {
            throw Fail(Errno.EMFILE);
        }

        var p = ParseParent(s.Path);
        ModelNode node;
        bool created = false;
        if (p.Kind != Kind.Norm)
        {
            node = p.Kind == Kind.DotDot ? p.Parent.Parent! : p.Parent;
        }
        else if (!creat)
        {
            node = Descend(p.Parent, p.Last);
            if ((p.Slash || wantDir) && !node.IsDirectory)
            {
                throw Fail(Errno.ENOTDIR);
            }
        }
        else
        {
            if (p.Slash)
            {
                throw Fail(Errno.EISDIR);
            }

            var existing = Child(p.Parent, p.Last);
            if (existing == null)
            {
                Require(p.Parent, MayWrite | MayExec);
                existing = ModelNode.NewFile(Owner, Group, 0x1A4 & ~Umask);
                p.Parent.Children[p.Last] = existing;
                created = true;
            }

            node = existing;
        }

        if (creat && (flags & OpenFlags.O_EXCL) != 0 && !created)
        {
            throw Fail(Errno.EEXIST);
        }

        if (creat && node.IsDirectory)
        {
            throw Fail(Errno.EISDIR);
        }

        if (wantDir && !node.IsDirectory)
        {
            throw Fail(Errno.ENOTDIR);
        }

        bool truncate = (flags & OpenFlags.O_TRUNC) != 0;
        var acc = flags & OpenFlags.O_ACCMODE;
        if (node.IsDirectory && (acc != OpenFlags.O_RDONLY || truncate))
        {
            throw Fail(Errno.EISDIR);
        }

        if (!created)
        {
            int mask = acc == OpenFlags.O_RDONLY ? MayRead : acc == OpenFlags.O_WRONLY ? MayWrite : MayRead | MayWrite;
            Require(node, truncate ? mask | MayWrite : mask);
        }

        if (truncate && !created)
        {
            node.Resize(0);
        }

        // The user's descriptor is closed at once: its table stays empty.
        if (_asUser)
        {
            return ModelOutcome.Ok(0);
        }

        int fd = LowestFreeFd();
        _fds[fd] = ModelOpenFile.From(node, flags);
        return ModelOutcome.Ok(fd);
    }

    private ModelOutcome Close(ModelStep s)
    {
        if (!_fds.Remove(s.Fd))
        {
            throw Fail(Errno.EBADF);
        }

        return ModelOutcome.Ok();
    }

    private ModelOutcome Read(ModelStep s, bool positional)
    {
        if (positional && s.Offset < 0)
        {
            throw Fail(Errno.EINVAL);
        }

        var f = File(s.Fd);
        if (!f.CanRead)
        {
            throw Fail(Errno.EBADF);
        }

        if (f.Node.IsDirectory)
        {
            throw Fail(Errno.EISDIR);
        }

        long pos = positional ? s.Offset : f.Pos;
        var data = f.Node.Data;
        int n = pos >= data.Length ? 0 : (int)Math.Min(s.Length, data.Length - pos);
        var bytes = data.AsSpan((int)Math.Min(pos, data.Length), n);
        if (!positional)
        {
            f.Pos += n;
        }

        return ModelOutcome.Ok(n, ModelOutcome.Hex(bytes));
    }

    private ModelOutcome Write(ModelStep s, bool positional)
    {
        if (positional && s.Offset < 0)
        {
            throw Fail(Errno.EINVAL);
        }

        var f = File(s.Fd);
        if (!f.CanWrite)
        {
            throw Fail(Errno.EBADF);
        }

        if (s.Length == 0)
        {
            return ModelOutcome.Ok(0);
        }

        var node = f.Node;
        long pos = f.Append ? node.Data.Length : positional ? s.Offset : f.Pos;
        if (pos + s.Length > node.Data.Length)
        {
            node.Resize(pos + s.Length);
        }

        s.Data().CopyTo(node.Data.AsSpan((int)pos));
        if (!positional)
        {
            f.Pos = pos + s.Length;
        }

        return ModelOutcome.Ok(s.Length);
    }

    private ModelOutcome Lseek(ModelStep s)
    {
        var f = File(s.Fd);
        long target = (SeekWhence)s.Flags switch
        {
            SeekWhence.SEEK_SET => s.Offset,
            SeekWhence.SEEK_CUR => f.Pos + s.Offset,
            SeekWhence.SEEK_END => f.Node.Data.Length + s.Offset,
            _ => throw Fail(Errno.EINVAL),
        };
        if (target < 0)
        {
            throw Fail(Errno.EINVAL);
        }

        f.Pos = target;
        return ModelOutcome.Ok(target);
    }

    private ModelOutcome Ftruncate(ModelStep s)
    {
        if (s.Length < 0)
        {
            throw Fail(Errno.EINVAL);
        }

        var f = File(s.Fd);
        if (f.Node.IsDirectory || !f.CanWrite)
        {
            throw Fail(Errno.EINVAL);
        }

        f.Node.Resize(s.Length);
        return ModelOutcome.Ok();
    }

    private ModelOutcome Truncate(ModelStep s)
    {
        if (s.Length < 0)
        {
            throw Fail(Errno.EINVAL);
        }

        var node = Resolve(s.Path);
        if (node.IsDirectory)
        {
            throw Fail(Errno.EISDIR);
        }

        Require(node, MayWrite);
        node.Resize(s.Length);
        return ModelOutcome.Ok();
    }

    private ModelOutcome Fallocate(ModelStep s)
    {
        var f = File(s.Fd);
        if (s.Offset < 0 || s.Length <= 0)
        {
            throw Fail(Errno.EINVAL);
        }

        var mode = (FallocateFlags)s.Flags;
        bool keep = (mode & FallocateFlags.FALLOC_FL_KEEP_SIZE) != 0;
        var op = mode & ~FallocateFlags.FALLOC_FL_KEEP_SIZE;
        bool valid = op switch
        {
            FallocateFlags.None or FallocateFlags.FALLOC_FL_ZERO_RANGE or FallocateFlags.FALLOC_FL_UNSHARE_RANGE => true,
            FallocateFlags.FALLOC_FL_PUNCH_HOLE => keep,
            FallocateFlags.FALLOC_FL_COLLAPSE_RANGE or FallocateFlags.FALLOC_FL_INSERT_RANGE => !keep,
            _ => false,
        };
        if (!valid)
        {
            throw Fail(Errno.EOPNOTSUPP);
        }

        if (!f.CanWrite)
        {
            throw Fail(Errno.EBADF);
        }

        var node = f.Node;
        long end = s.Offset + s.Length;
        if (op != FallocateFlags.FALLOC_FL_PUNCH_HOLE && !keep && end > node.Data.Length)
        {
            node.Resize(end);
        }

        if (op is FallocateFlags.FALLOC_FL_PUNCH_HOLE or FallocateFlags.FALLOC_FL_ZERO_RANGE && s.Offset < node.Data.Length)
        {
            node.Data.AsSpan((int)s.Offset, (int)(Math.Min(end, node.Data.Length) - s.Offset)).Clear();
        }

        return ModelOutcome.Ok();
    }

    private ModelOutcome Fsync(ModelStep s)
    {
        File(s.Fd);
        return ModelOutcome.Ok();
    }

    private ModelOutcome Unlink(ModelStep s)
    {
        var p = ParseParent(s.Path);
        if (p.Kind != Kind.Norm)
        {
            throw Fail(Errno.EISDIR);
        }

        var node = Descend(p.Parent, p.Last);
        if (p.Slash)
        {
            throw Fail(node.IsDirectory ? Errno.EISDIR : Errno.ENOTDIR);
        }

        Require(p.Parent, MayWrite | MayExec);
        if (node.IsDirectory)
        {
            throw Fail(Errno.EISDIR);
        }

        p.Parent.Children.Remove(p.Last);
        node.Nlink--;
        return ModelOutcome.Ok();
    }

    private ModelOutcome Rmdir(ModelStep s)
    {
        var p = ParseParent(s.Path);
        switch (p.Kind)
        {
            case Kind.DotDot:
                throw Fail(Errno.ENOTEMPTY);
            case Kind.Dot:
                throw Fail(Errno.EINVAL);
            case Kind.Root:
                throw Fail(Errno.EBUSY);
        }

        var node = Descend(p.Parent, p.Last);
        Require(p.Parent, MayWrite | MayExec);
        if (!node.IsDirectory)
        {
            throw Fail(Errno.ENOTDIR);
        }

        if (node.Children.Count != 0)
        {
            throw Fail(Errno.ENOTEMPTY);
        }

        p.Parent.Children.Remove(p.Last);
        p.Parent.Nlink--;
        node.Nlink = 0;
        return ModelOutcome.Ok();
    }

    private ModelOutcome Mkdir(ModelStep s)
    {
        var p = ParseParent(s.Path);
        if (p.Kind != Kind.Norm || Child(p.Parent, p.Last) != null)
        {
            throw Fail(Errno.EEXIST);
        }

        Require(p.Parent, MayWrite | MayExec);
        p.Parent.Children[p.Last] = ModelNode.NewDirectory(p.Parent, Owner, Group, 0x1ED & ~Umask);
        p.Parent.Nlink++;
        return ModelOutcome.Ok();
    }

    private ModelOutcome Link(ModelStep s)
    {
        var source = Resolve(s.Path);
        var p = ParseParent(s.Path2);
        if (p.Kind != Kind.Norm || Child(p.Parent, p.Last) != null)
        {
            throw Fail(Errno.EEXIST);
        }

        if (p.Slash)
        {
            throw Fail(Errno.ENOENT);
        }

        Require(p.Parent, MayWrite | MayExec);
        if (source.IsDirectory)
        {
            throw Fail(Errno.EPERM);
        }

        p.Parent.Children[p.Last] = source;
        source.Nlink++;
        return ModelOutcome.Ok();
    }

    private ModelOutcome Rename(ModelStep s)
    {
        var flags = (RenameFlags)s.Flags;
        bool exchange = (flags & RenameFlags.RENAME_EXCHANGE) != 0;
        bool noReplace = (flags & RenameFlags.RENAME_NOREPLACE) != 0;
        var op = ParseParent(s.Path);
        var np = ParseParent(s.Path2);
        if (op.Kind != Kind.Norm)
        {
            throw Fail(Errno.EBUSY);
        }

        if (np.Kind != Kind.Norm)
        {
            throw Fail(noReplace ? Errno.EEXIST : Errno.EBUSY);
        }

        var source = Descend(op.Parent, op.Last);
        var target = Child(np.Parent, np.Last);
        if (target != null && noReplace)
        {
            throw Fail(Errno.EEXIST);
        }

        if (target == null && exchange)
        {
            throw Fail(Errno.ENOENT);
        }

        if (exchange && !target!.IsDirectory && np.Slash)
        {
            throw Fail(Errno.ENOTDIR);
        }

        if (!source.IsDirectory && (op.Slash || (!exchange && np.Slash)))
        {
            throw Fail(Errno.ENOTDIR);
        }

        if (op.Parent != np.Parent)
        {
            if (Encloses(source, np.Parent))
            {
                throw Fail(Errno.EINVAL);
            }

            if (target != null && Encloses(target, op.Parent))
            {
                throw Fail(exchange ? Errno.EINVAL : Errno.ENOTEMPTY);
            }
        }

        if (source == target)
        {
            return ModelOutcome.Ok();
        }

        // The source's directory must let the user remove it; the target's, replace or add.
        Require(op.Parent, MayWrite | MayExec);
        Require(np.Parent, MayWrite | MayExec);
        if (target != null && !exchange)
        {
            if (source.IsDirectory && !target.IsDirectory)
            {
                throw Fail(Errno.ENOTDIR);
            }

            if (!source.IsDirectory && target.IsDirectory)
            {
                throw Fail(Errno.EISDIR);
            }
        }

        // A directory changing parent must be writable itself ("..").
        if (op.Parent != np.Parent)
        {
            if (source.IsDirectory)
            {
                Require(source, MayWrite);
            }

            if (exchange && target!.IsDirectory)
            {
                Require(target, MayWrite);
            }
        }

        if (exchange)
        {
            op.Parent.Children[op.Last] = target!;
            np.Parent.Children[np.Last] = source;
            if (source.IsDirectory)
            {
                source.Parent = np.Parent;
                op.Parent.Nlink--;
                np.Parent.Nlink++;
            }

            if (target!.IsDirectory)
            {
                target.Parent = op.Parent;
                np.Parent.Nlink--;
                op.Parent.Nlink++;
            }

            return ModelOutcome.Ok();
        }

        if (target != null)
        {
            if (target.IsDirectory && target.Children.Count != 0)
            {
                throw Fail(Errno.ENOTEMPTY);
            }

            np.Parent.Children.Remove(np.Last);
            if (target.IsDirectory)
            {
                target.Nlink = 0;
                np.Parent.Nlink--;
            }
            else
            {
                target.Nlink--;
            }
        }

        op.Parent.Children.Remove(op.Last);
        np.Parent.Children[np.Last] = source;
        if (source.IsDirectory)
        {
            op.Parent.Nlink--;
            np.Parent.Nlink++;
            source.Parent = np.Parent;
        }

        return ModelOutcome.Ok();
    }

    /// <summary>Whether <paramref name="dir"/> is <paramref name="node"/> or lies below it.</summary>
    private bool Encloses(ModelNode node, ModelNode dir)
    {
        for (var cur = dir; ; cur = cur.Parent!)
        {
            if (cur == node)
            {
                return true;
            }

            if (cur == Root)
            {
                return false;
            }
        }
    }

    private ModelOutcome Readdir(ModelStep s)
    {
        if (s.Path.Length == 0)
        {
            throw Fail(Errno.ENOENT);
        }

        if (!_asUser && _fds.Count >= FdLimit)
        {
            throw Fail(Errno.EMFILE);
        }

        var node = Resolve(s.Path);
        if (!node.IsDirectory)
        {
            throw Fail(Errno.ENOTDIR);
        }

        Require(node, MayRead);

        return ModelOutcome.Ok(node.Children.Count + 2, Listing(node));
    }

    private ModelOutcome Chmod(ModelStep s)
    {
        var node = Resolve(s.Path);
        node.Mode = (uint)s.Flags;
        return ModelOutcome.Ok();
    }

    private ModelOutcome Stat(ModelStep s)
    {
        var node = Resolve(s.Path);
        return ModelOutcome.Ok(node.IsDirectory ? 0 : node.Data.Length, $"{(node.IsDirectory ? 'd' : 'f')} nlink {node.Nlink}");
    }

    // xattr_permission for a process without capabilities (the user) or with all (root): no
    // immutable inodes, sticky directories or special files arise in the model.
    private void XattrPermission(ModelNode node, string name, int mask)
    {
        bool write = (mask & MayWrite) != 0;
        if (name.StartsWith("security.", StringComparison.Ordinal))
        {
            if (write && _asUser)
            {
                throw Fail(Errno.EPERM);
            }

            return;
        }

        if (name.StartsWith("system.", StringComparison.Ordinal))
        {
            return;
        }

        if (name.StartsWith("trusted.", StringComparison.Ordinal))
        {
            if (_asUser)
            {
                throw Fail(write ? Errno.EPERM : Errno.ENODATA);
            }

            return;
        }

        Require(node, mask);
    }

    // xattr_resolve_name: a known prefix with a name after it.
    private static void XattrResolve(string name)
    {
        foreach (var prefix in new[] { "user.", "trusted.", "security." })
        {
            if (name.StartsWith(prefix, StringComparison.Ordinal))
            {
                if (name.Length == prefix.Length)
                {
                    throw Fail(Errno.EINVAL);
                }

                return;
            }
        }

        throw Fail(Errno.EOPNOTSUPP);
    }

    private ModelOutcome SetXattr(ModelStep s)
    {
        var node = Resolve(s.Path);
        if ((s.Flags & ~3) != 0)
        {
            throw Fail(Errno.EINVAL);
        }

        if (s.Path2.Length == 0)
        {
            throw Fail(Errno.ERANGE);
        }

        XattrPermission(node, s.Path2, MayWrite);
        XattrResolve(s.Path2);
        bool exists = node.Xattrs.ContainsKey(s.Path2);
        if (exists && (s.Flags & 1) != 0)
        {
            throw Fail(Errno.EEXIST);
        }

        if (!exists && (s.Flags & 2) != 0)
        {
            throw Fail(Errno.ENODATA);
        }

        node.Xattrs[s.Path2] = s.Data();
        return ModelOutcome.Ok();
    }

    private ModelOutcome GetXattr(ModelStep s)
    {
        var node = Resolve(s.Path);
        if (s.Path2.Length == 0)
        {
            throw Fail(Errno.ERANGE);
        }

        XattrPermission(node, s.Path2, MayRead);
        XattrResolve(s.Path2);
        var value = node.Xattrs.GetValueOrDefault(s.Path2) ?? throw Fail(Errno.ENODATA);
        return ModelOutcome.Ok(value.Length, ModelOutcome.Hex(value));
    }

    private ModelOutcome RemoveXattr(ModelStep s)
    {
        var node = Resolve(s.Path);
        if (s.Path2.Length == 0)
        {
            throw Fail(Errno.ERANGE);
        }

        XattrPermission(node, s.Path2, MayWrite);
        XattrResolve(s.Path2);
        if (!node.Xattrs.Remove(s.Path2))
        {
            throw Fail(Errno.ENODATA);
        }

        return ModelOutcome.Ok();
    }

    private ModelOutcome ListXattr(ModelStep s)
    {
        var node = Resolve(s.Path);
        var names = node.Xattrs.Keys.Where(n => !_asUser || !n.StartsWith("trusted.", StringComparison.Ordinal)).ToList();
        return ModelOutcome.Ok(names.Count, string.Join(',', names));
    }
}
