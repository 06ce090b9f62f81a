using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Tests.Vfs.Model;

/// <summary>
/// Seeded random system calls over a small namespace ("a", "b" as directories and "a", "b", "f", "g", "h" as leaves, up to three deep), with
/// valid and invalid arguments: missing and mistyped paths, "." and "..", trailing slashes,
/// overlong names, bad descriptors, negative offsets, invalid flag combinations, and path
/// calls by an unprivileged user after root's chmods.
/// </summary>
internal sealed class ModelStepGenerator(int seed)
{
    private static readonly (ModelOp Op, int Weight)[] Weights =
    [
        (ModelOp.Open, 14), (ModelOp.Creat, 3), (ModelOp.Close, 7), (ModelOp.Write, 10), (ModelOp.Pwrite, 10), (ModelOp.Read, 6),
        (ModelOp.Pread, 6), (ModelOp.Lseek, 4), (ModelOp.Ftruncate, 4), (ModelOp.Truncate, 3), (ModelOp.Fallocate, 7),
        (ModelOp.Fsync, 2), (ModelOp.Unlink, 6), (ModelOp.Rename, 7), (ModelOp.Mkdir, 5), (ModelOp.Rmdir, 5),
        (ModelOp.Link, 4), (ModelOp.Readdir, 3), (ModelOp.Stat, 4), (ModelOp.Chmod, 4),
        (ModelOp.SetXattr, 5), (ModelOp.GetXattr, 3), (ModelOp.RemoveXattr, 3), (ModelOp.ListXattr, 2),
    ];

    // Attribute names: valid ones in each namespace most often, and ones each error names.
    private static readonly string[] AttrNames = ["user.a", "user.a", "user.bb", "user.bb", "trusted.t", "trusted.t", "security.s", "system.x", "user.", "other.z", ""];

    private static readonly FallocateFlags[] FallocModes =
    [
        FallocateFlags.None, FallocateFlags.FALLOC_FL_KEEP_SIZE,
        FallocateFlags.FALLOC_FL_PUNCH_HOLE | FallocateFlags.FALLOC_FL_KEEP_SIZE,
        FallocateFlags.FALLOC_FL_ZERO_RANGE, FallocateFlags.FALLOC_FL_ZERO_RANGE | FallocateFlags.FALLOC_FL_KEEP_SIZE,
        FallocateFlags.FALLOC_FL_PUNCH_HOLE, FallocateFlags.FALLOC_FL_PUNCH_HOLE | FallocateFlags.FALLOC_FL_ZERO_RANGE | FallocateFlags.FALLOC_FL_KEEP_SIZE,
        FallocateFlags.FALLOC_FL_COLLAPSE_RANGE | FallocateFlags.FALLOC_FL_KEEP_SIZE, FallocateFlags.FALLOC_FL_NO_HIDE_STALE,
    ];

    // Modes root's chmod sets, wide open ones most often so the user gets somewhere.
    private static readonly uint[] ChmodModes = [0x1FF, 0x1FF, 0x1ED, 0x1C0, 0x1C9, 0x1A4, 0x180, 0x1B6, 0x124, 0x0, 0x16D, 0x1DB];

    // Directories tend to be made under the first names, files under all of them.
    private static readonly string[] DirNames = ["a", "b"];
    private static readonly string[] LeafNames = ["a", "b", "f", "g", "h"];

    private readonly Random _rng = new(seed);
    private readonly int _totalWeight = Weights.Sum(w => w.Weight);

    public ModelStep Next(ReferenceModel model)
    {
        int pick = _rng.Next(_totalWeight);
        var op = Weights.First(w => (pick -= w.Weight) < 0).Op;
        var step = Make(op, model);

        // Path calls are sometimes made by the unprivileged user.
        bool byPath = op is ModelOp.Open or ModelOp.Creat or ModelOp.Truncate or ModelOp.Unlink or ModelOp.Rename or ModelOp.Mkdir
            or ModelOp.Rmdir or ModelOp.Link or ModelOp.Readdir or ModelOp.Stat
            or ModelOp.SetXattr or ModelOp.GetXattr or ModelOp.RemoveXattr or ModelOp.ListXattr;
        return byPath && _rng.Next(100) < 25 ? step with { AsUser = true } : step;
    }

    private ModelStep Make(ModelOp op, ReferenceModel model)
    {
        return op switch
        {
            ModelOp.Chmod => new ModelStep(op, Path: RandomPath(), Flags: (int)ChmodModes[_rng.Next(ChmodModes.Length)]),
            ModelOp.Open => new ModelStep(op, Path: RandomPath(), Flags: (int)OpenFlagsFor()),
            ModelOp.Creat => new ModelStep(op, Path: RandomPath(), Flags: (int)(OpenFlags.O_CREAT | OpenFlags.O_WRONLY | OpenFlags.O_TRUNC)),
            ModelOp.Close or ModelOp.Fsync => new ModelStep(op, Fd: Fd(model)),
            ModelOp.Write or ModelOp.Pwrite => new ModelStep(op, Fd: Fd(model, WritableFile), Offset: Offset(12000), Length: _rng.Next(10) == 0 ? 0 : _rng.Next(1, 5000), Seed: _rng.Next()),
            ModelOp.Read or ModelOp.Pread => new ModelStep(op, Fd: Fd(model, ReadableFile), Offset: Offset(14000), Length: _rng.Next(9000)),
            ModelOp.Lseek => Lseek(model),
            ModelOp.Ftruncate => new ModelStep(op, Fd: Fd(model, WritableFile), Length: Offset(16000)),
            ModelOp.Truncate => new ModelStep(op, Path: RandomPath(), Length: Offset(16000)),
            ModelOp.Fallocate => new ModelStep(op, Fd: Fd(model, WritableFile), Flags: (int)FallocModes[_rng.Next(FallocModes.Length)], Offset: Offset(12000),
                Length: _rng.Next(30) == 0 ? -_rng.Next(2) : _rng.Next(1, 8000)),
            ModelOp.Rename => new ModelStep(op, Path: RandomPath(), Path2: RandomPath(), Flags: (int)RenameFlagsFor()),
            ModelOp.Link => new ModelStep(op, Path: RandomPath(), Path2: RandomPath()),
            ModelOp.SetXattr => new ModelStep(op, Path: RandomPath(), Path2: AttrNames[_rng.Next(AttrNames.Length)], Length: _rng.Next(13),
                Seed: _rng.Next(), Flags: _rng.Next(100) switch { < 60 => 0, < 75 => 1, < 95 => 2, _ => 4 }),
            ModelOp.GetXattr or ModelOp.RemoveXattr => new ModelStep(op, Path: RandomPath(), Path2: AttrNames[_rng.Next(AttrNames.Length)]),
            _ => new ModelStep(op, Path: RandomPath()),
        };
    }

    private ModelStep Lseek(ReferenceModel model)
    {
        int fd = Fd(model);

        // Directory positions and SEEK_END on directories are filesystem-specific: only rewind those.
        if (model.Fds.TryGetValue(fd, out var f) && f.Node.IsDirectory)
        {
            return new ModelStep(ModelOp.Lseek, Fd: fd, Flags: (int)SeekWhence.SEEK_SET, Offset: 0);
        }

        var whence = (SeekWhence)_rng.Next(3);
        long offset = whence == SeekWhence.SEEK_SET ? Offset(12000) : _rng.Next(-6000, 6000);
        return new ModelStep(ModelOp.Lseek, Fd: fd, Flags: (int)whence, Offset: offset);
    }

    private long Offset(int max) => _rng.Next(40) == 0 ? -_rng.Next(1, 100) : _rng.Next(max);

    /// <summary>Mostly an open descriptor, preferring one that suits the call; sometimes any number.</summary>
    private int Fd(ReferenceModel model, Func<ModelOpenFile, bool>? suits = null)
    {
        var suitable = model.Fds.Where(f => suits?.Invoke(f.Value) ?? true).Select(f => f.Key).ToList();
        if (suitable.Count > 0 && _rng.Next(100) < 80)
        {
            return suitable[_rng.Next(suitable.Count)];
        }

        if (model.Fds.Count > 0 && _rng.Next(100) < 60)
        {
            return model.Fds.Keys.ElementAt(_rng.Next(model.Fds.Count));
        }

        return _rng.Next(-1, model.FdLimit + 2);
    }

    private static bool WritableFile(ModelOpenFile f) => f.CanWrite && !f.Node.IsDirectory;

    private static bool ReadableFile(ModelOpenFile f) => f.CanRead && !f.Node.IsDirectory;

    private OpenFlags OpenFlagsFor()
    {
        var flags = (OpenFlags)_rng.Next(3);
        if (_rng.Next(100) < 60)
        {
            flags |= OpenFlags.O_CREAT;
        }

        if (_rng.Next(100) < 20)
        {
            flags |= OpenFlags.O_EXCL;
        }

        if (_rng.Next(100) < 15)
        {
            flags |= OpenFlags.O_TRUNC;
        }

        if (_rng.Next(100) < 20)
        {
            flags |= OpenFlags.O_APPEND;
        }

        if (_rng.Next(100) < 8)
        {
            flags |= OpenFlags.O_DIRECTORY;
        }

        return flags;
    }

    private RenameFlags RenameFlagsFor() => _rng.Next(100) switch
    {
        < 70 => RenameFlags.None,
        < 85 => RenameFlags.RENAME_NOREPLACE,
        _ => RenameFlags.RENAME_EXCHANGE,
    };

    private string RandomPath()
    {
        int r = _rng.Next(200);
        if (r == 0)
        {
            return string.Empty;
        }

        if (r < 3)
        {
            return "/";
        }

        int depth = _rng.Next(100) switch { < 50 => 1, < 85 => 2, _ => 3 };
        var parts = new List<string>();
        for (int i = 0; i < depth; i++)
        {
            int k = _rng.Next(100);
            var names = i == depth - 1 ? LeafNames : DirNames;
            parts.Add(k switch
            {
                < 2 => ".",
                < 4 => "..",
                < 5 => new string('x', 256),
                _ => names[_rng.Next(names.Length)],
            });
        }

        string path = "/" + string.Join('/', parts);
        if (_rng.Next(100) < 8)
        {
            path += "/";
        }

        return path;
    }
}
