using DaxStack.Device.Errors;
using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Tests.Crash;

/// <summary>
/// Runs a workload's syscalls on a process and keeps a model of what they made durable, for
/// checking the filesystem recovered after a power failure. Every operation records which
/// inodes it changed (the file, its parent directories, a replaced or unlinked target) and which
/// names; an fsync of an inode forces the log up to that inode's last change, so it makes
/// durable the inode's data and size and every name whose last change also changed that inode
/// (for a directory: every entry added or removed in it; for a file: its creation, links,
/// renames and unlinks). A later change of the data or the name drops what was asserted about
/// it. After the power fails (the first syscall that fails while the device is cut, or a given
/// number of operations) the rest of the workload does nothing.
/// </summary>
/// <remarks>Models the fsync durability contract the kernel's <c>xfs_file_fsync</c> gives (<c>xfs_log_force_seq</c> up to the inode's last commit) and the crash tests of fstests' generic/ and xfs/ groups that check it.</remarks>
internal sealed class CrashModel(Process process, Func<bool> powerCut, Action logWorker, int syscallsBeforeCut = int.MaxValue)
{
    private sealed class Node
    {
        public long Ino { get; init; }

        public bool IsDirectory { get; init; }

        public byte[] Data { get; set; } = [];

        public int Fd { get; set; } = -1;

        public Dictionary<string, byte[]> Xattrs { get; } = new(StringComparer.Ordinal);
    }

    private const int Root = 0;
    private readonly Dictionary<int, Node> _nodes = new() { [Root] = new Node { Ino = process.Stat("/").Ino, IsDirectory = true } };
    private readonly Dictionary<string, int> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<int>> _lastChangers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int?> _durableNames = new(StringComparer.Ordinal);
    private readonly Dictionary<int, byte[]> _durableData = new();

    // Per inode fsync'd since its first attribute change: each attribute name's possible values
    // after a crash (hex, null = absent): the value at the last fsync and every one set since.
    private readonly Dictionary<int, Dictionary<string, HashSet<string?>>> _xattrCandidates = new();
    private readonly HashSet<int> _xattrFsynced = new();

    /// <summary>Whether the power failed during the workload.</summary>
    public bool Stopped { get; private set; }

    /// <summary>The workload's operations started before the power failed.</summary>
    public int Operations { get; private set; }

    /// <summary>The fsyncs that completed before the power failed.</summary>
    public int Fsyncs { get; private set; }

    /// <summary>Creates a regular file at <paramref name="path"/> and keeps it open; returns its handle.</summary>
    public int Create(string path) => Do(() =>
    {
        int fd = process.Open(path, OpenFlags.O_CREAT | OpenFlags.O_EXCL | OpenFlags.O_RDWR, 0x1a4);
        int id = _nodes.Count;
        _nodes[id] = new Node { Ino = process.Fstat(fd).Ino, Fd = fd };
        _names[path] = id;
        Changed([id, ParentOf(path)], [path]);
        return id;
    });

    /// <summary>Makes a directory; returns its handle.</summary>
    public int Mkdir(string path) => Do(() =>
    {
        process.Mkdir(path, 0x1ed);
        int id = _nodes.Count;
        _nodes[id] = new Node { Ino = process.Stat(path).Ino, IsDirectory = true };
        _names[path] = id;
        Changed([id, ParentOf(path)], [path]);
        return id;
    });

    /// <summary>pwrite of <paramref name="length"/> pattern bytes (seeded) at <paramref name="offset"/>.</summary>
    public void Write(int file, long offset, int length, int seed) => Do(() =>
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        int n = process.Pwrite(Fd(file), bytes, offset);
        if (n != length)
            throw new InvalidOperationException($"short write of {n} of {length} bytes without a power failure");
        var node = _nodes[file];
        if (offset + length > node.Data.Length)
            node.Data = Resized(node.Data, offset + length);
        bytes.CopyTo(node.Data, offset);
        _durableData.Remove(file);
        return 0;
    });

    /// <summary>ftruncate.</summary>
    public void Truncate(int file, long length) => Do(() =>
    {
        process.Ftruncate(Fd(file), length);
        _nodes[file].Data = Resized(_nodes[file].Data, length);
        _durableData.Remove(file);
        return 0;
    });

    /// <summary>fallocate with <paramref name="mode"/> (allocate, punch hole or zero range, with or without KEEP_SIZE).</summary>
    public void Fallocate(int file, FallocateFlags mode, long offset, long length) => Do(() =>
    {
        process.Fallocate(Fd(file), mode, offset, length);
        var node = _nodes[file];
        bool keep = (mode & FallocateFlags.FALLOC_FL_KEEP_SIZE) != 0;
        if (!keep && offset + length > node.Data.Length)
            node.Data = Resized(node.Data, offset + length);
        if ((mode & (FallocateFlags.FALLOC_FL_PUNCH_HOLE | FallocateFlags.FALLOC_FL_ZERO_RANGE)) != 0)
        {
            long end = Math.Min(offset + length, node.Data.Length);
            if (end > offset)
                Array.Clear(node.Data, (int)offset, (int)(end - offset));
        }
        _durableData.Remove(file);
        return 0;
    });

    /// <summary>FICLONERANGE of <paramref name="length"/> bytes from <paramref name="source"/> into <paramref name="dest"/>.</summary>
    public void Clone(int dest, int source, long sourceOffset, long length, long destOffset) => Do(() =>
    {
        process.FicloneRange(Fd(dest), Fd(source), sourceOffset, length, destOffset);
        var d = _nodes[dest];
        if (destOffset + length > d.Data.Length)
            d.Data = Resized(d.Data, destOffset + length);
        Array.Copy(_nodes[source].Data, sourceOffset, d.Data, destOffset, length);
        _durableData.Remove(dest);
        return 0;
    });

    /// <summary>setxattr(2) by path; the attribute becomes one of the values a crash may leave.</summary>
    public void SetXattr(int handle, string name, byte[] value) => Do(() =>
    {
        var node = _nodes[handle];
        XattrCandidates(handle, name).Add(Convert.ToHexString(value));
        process.SetXattr(PathOf(handle), name, value);
        node.Xattrs[name] = value;
        return 0;
    });

    /// <summary>removexattr(2) by path; absence becomes one of the states a crash may leave.</summary>
    public void RemoveXattr(int handle, string name) => Do(() =>
    {
        var node = _nodes[handle];
        XattrCandidates(handle, name).Add(null);
        process.RemoveXattr(PathOf(handle), name);
        node.Xattrs.Remove(name);
        return 0;
    });

    private HashSet<string?> XattrCandidates(int handle, string name)
    {
        if (!_xattrCandidates.TryGetValue(handle, out var names))
            _xattrCandidates[handle] = names = new(StringComparer.Ordinal);
        if (!names.TryGetValue(name, out var values))
        {
            names[name] = values = [];
            values.Add(_nodes[handle].Xattrs.TryGetValue(name, out var current) ? Convert.ToHexString(current) : null);
        }
        return values;
    }

    /// <summary>fsync of an open file, or of a directory (opened for the call).</summary>
    public void Fsync(int handle) => Do(() =>
    {
        var node = _nodes[handle];
        if (node.IsDirectory)
        {
            int fd = process.Open(PathOf(handle), OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY);
            process.Fsync(fd);
            process.Close(fd);
        }
        else
        {
            process.Fsync(Fd(handle));
            _durableData[handle] = (byte[])node.Data.Clone();
        }
        // The inode's attributes as they are now are durable: each name has one possible value.
        if (_xattrCandidates.TryGetValue(handle, out var attrs))
        {
            _xattrFsynced.Add(handle);
            foreach (var (name, values) in attrs)
            {
                values.Clear();
                values.Add(node.Xattrs.TryGetValue(name, out var v) ? Convert.ToHexString(v) : null);
            }
        }
        foreach (var (path, changers) in _lastChangers)
        {
            if (changers.Contains(handle))
                _durableNames[path] = _names.TryGetValue(path, out int id) ? id : null;
        }
        Fsyncs++;
        return 0;
    });

    /// <summary>
    /// One run of the log worker: forces the log and writes the logged metadata home (a
    /// checkpoint that moves the tail). Makes nothing newly durable the model relies on.
    /// </summary>
    public void LogWorker() => Do(() =>
    {
        logWorker();
        return 0;
    });

    /// <summary>close of a file's descriptor.</summary>
    public void Close(int file) => Do(() =>
    {
        process.Close(Fd(file));
        _nodes[file].Fd = -1;
        return 0;
    });

    /// <summary>rename(2), replacing an existing target.</summary>
    public void Rename(string from, string to) => Do(() =>
    {
        int id = _names[from];
        var touched = new List<int> { id, ParentOf(from), ParentOf(to) };
        if (_names.TryGetValue(to, out int replaced))
            touched.Add(replaced);
        process.Rename(from, to);
        // Everything below a renamed directory moves with it.
        var moved = _names.Keys.Where(p => p == from || p.StartsWith(from + "/", StringComparison.Ordinal)).ToList();
        var changedPaths = new List<string>();
        foreach (string old in moved)
        {
            string now = to + old[from.Length..];
            int child = _names[old];
            _names.Remove(old);
            _names[now] = child;
            changedPaths.Add(old);
            changedPaths.Add(now);
        }
        Changed(touched, changedPaths);
        return 0;
    });

    /// <summary>link(2).</summary>
    public void Link(string existing, string newPath) => Do(() =>
    {
        int id = _names[existing];
        process.Link(existing, newPath);
        _names[newPath] = id;
        Changed([id, ParentOf(newPath)], [newPath]);
        return 0;
    });

    /// <summary>unlink(2) (the file may stay open).</summary>
    public void Unlink(string path) => Do(() =>
    {
        int id = _names[path];
        process.Unlink(path);
        _names.Remove(path);
        Changed([id, ParentOf(path)], [path]);
        return 0;
    });

    /// <summary>rmdir(2).</summary>
    public void Rmdir(string path) => Do(() =>
    {
        int id = _names[path];
        process.Rmdir(path);
        _names.Remove(path);
        Changed([id, ParentOf(path)], [path]);
        return 0;
    });

    /// <summary>
    /// Checks the recovered filesystem seen through <paramref name="recovered"/>: every durable
    /// name is there (the same inode) or absent as it must be, and every durable file reachable by a
    /// durable name has exactly its fsync'd size and bytes. Returns the problems found and
    /// counts the names and files checked.
    /// </summary>
    public List<string> Verify(Process recovered, out int names, out int files)
    {
        var problems = new List<string>();
        names = 0;
        files = 0;
        foreach (var (path, expected) in _durableNames)
        {
            names++;
            Stat? st = null;
            try
            {
                st = recovered.Stat(path);
            }
            catch (ErrnoException e) when (e.Errno == Errno.ENOENT)
            {
            }
            if (expected == null && st != null)
                problems.Add($"{path}: exists (ino {st.Value.Ino}) but its removal was fsync'd");
            else if (expected != null && st == null)
                problems.Add($"{path}: missing but it was fsync'd (ino {_nodes[expected.Value].Ino})");
            else if (expected != null && st!.Value.Ino != _nodes[expected.Value].Ino)
                problems.Add($"{path}: is ino {st.Value.Ino}, fsync'd as ino {_nodes[expected.Value].Ino}");
        }
        foreach (var (id, data) in _durableData)
        {
            string? path = _durableNames.Where(kv => kv.Value == id).Select(kv => kv.Key).FirstOrDefault();
            if (path == null)
                continue;
            files++;
            var st = recovered.Stat(path);
            if (st.Size != data.Length)
            {
                problems.Add($"{path}: size {st.Size}, fsync'd size {data.Length}");
                continue;
            }
            var actual = new byte[data.Length];
            int fd = recovered.Open(path, OpenFlags.O_RDONLY);
            int got = 0;
            while (got < actual.Length)
            {
                int n = recovered.Pread(fd, actual.AsSpan(got), got);
                if (n == 0)
                    break;
                got += n;
            }
            recovered.Close(fd);
            int diff = actual.AsSpan().CommonPrefixLength(data);
            if (got != data.Length || diff != data.Length)
                problems.Add($"{path}: read {got} bytes, first difference from the fsync'd data at byte {diff}");
        }
        foreach (int id in _xattrFsynced)
        {
            string? path = _durableNames.Where(kv => kv.Value == id).Select(kv => kv.Key).FirstOrDefault();
            if (path == null || recovered.Stat(path).Ino != _nodes[id].Ino)
                continue;
            files++;
            var candidates = _xattrCandidates[id];
            foreach (string name in recovered.ListXattrNames(path))
            {
                if (!candidates.ContainsKey(name))
                    problems.Add($"{path}: attribute {name} was never set");
            }
            foreach (var (name, values) in candidates)
            {
                string? actual = null;
                try
                {
                    actual = Convert.ToHexString(recovered.GetXattrValue(path, name));
                }
                catch (ErrnoException e) when (e.Errno == Errno.ENODATA)
                {
                }
                if (!values.Contains(actual))
                    problems.Add($"{path}: attribute {name} is {actual ?? "absent"}, expected one of {string.Join(", ", values.Select(v => v ?? "absent"))}");
            }
        }
        return problems;
    }

    private int Do(Func<int> op)
    {
        if (Stopped)
            return -1;
        // A power failure between two system calls: the rest of the workload never runs.
        if (Operations == syscallsBeforeCut)
        {
            Stopped = true;
            return -1;
        }
        Operations++;
        try
        {
            return op();
        }
        catch (ErrnoException) when (powerCut())
        {
            Stopped = true;
            return -1;
        }
    }

    private void Changed(IEnumerable<int> inodes, IEnumerable<string> paths)
    {
        var set = inodes.ToHashSet();
        foreach (string p in paths)
        {
            _durableNames.Remove(p);
            _lastChangers[p] = set;
        }
    }

    private int Fd(int file) => _nodes[file].Fd >= 0 ? _nodes[file].Fd : throw new InvalidOperationException($"file {file} is not open");

    private int ParentOf(string path)
    {
        string parent = path[..path.LastIndexOf('/')];
        return parent.Length == 0 ? Root : _names[parent];
    }

    private string PathOf(int handle) => handle == Root ? "/" : _names.First(kv => kv.Value == handle).Key;

    private static byte[] Resized(byte[] data, long length)
    {
        var r = new byte[length];
        Array.Copy(data, r, Math.Min(data.Length, length));
        return r;
    }
}
