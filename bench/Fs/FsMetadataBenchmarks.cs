using BenchmarkDotNet.Attributes;
using DaxStack.Fs.Vfs;

namespace DaxStack.Bench.Fs;

/// <summary>
/// Issue 4 section 6 (d): namespace operations per second in a directory of 256 files (too many for
/// the short-form format that fits in the inode): create + unlink of an empty file (open O_CREAT, close,
/// unlink; one operation is the pair), mkdir + rmdir (the pair), rename of a file back and forth
/// (one rename per operation), and stat of a file. Nothing is fsync'd: these are the in-memory
/// transaction and log-commit costs of the metadata paths.
/// </summary>
/// <remarks>Measures <c>xfs_create</c>/<c>xfs_remove</c>, <c>xfs_mkdir</c>/<c>xfs_rmdir</c>, <c>xfs_rename</c> and <c>vfs_getattr</c> (path walk with <c>xfs_lookup</c>).</remarks>
[InvocationCount(Invocations)]
public class FsMetadataBenchmarks : FsBenchmarkBase
{
    /// <summary>Operations per iteration.</summary>
    public const int Invocations = 1000;

    private const string Dir = "/m";
    private const string Temp = "/m/new-entry";
    private const string RenameA = "/m/rename-a";
    private const string RenameB = "/m/rename-b";
    private const string StatTarget = "/m/f000128";

    private bool _renamed;

    protected override void SetupFiles()
    {
        var p = Platform.Root;
        p.Mkdir(Dir, 0x1ED);
        for (int i = 0; i < 256; i++)
            p.Close(p.Creat($"{Dir}/f{i:D6}", 0x1A4));
        p.Close(p.Creat(RenameA, 0x1A4));
        _renamed = false;
    }

    protected override void UndoIteration()
    {
        // Every operation leaves the directory as it found it, but for which name the renamed
        // file has; the next rename simply goes the other way.
    }

    /// <summary>open(O_CREAT|O_EXCL) + close + unlink of a new empty file.</summary>
    [Benchmark]
    public void CreateUnlink()
    {
        var p = Platform.Root;
        p.Close(p.Open(Temp, OpenFlags.O_CREAT | OpenFlags.O_EXCL | OpenFlags.O_WRONLY, 0x1A4));
        p.Unlink(Temp);
        Done(nameof(CreateUnlink));
    }

    /// <summary>mkdir + rmdir of a new directory.</summary>
    [Benchmark]
    public void MkdirRmdir()
    {
        var p = Platform.Root;
        p.Mkdir(Temp, 0x1ED);
        p.Rmdir(Temp);
        Done(nameof(MkdirRmdir));
    }

    /// <summary>rename of a file to a new name in the same directory (alternating between two names).</summary>
    [Benchmark]
    public void Rename()
    {
        if (_renamed)
            Platform.Root.Rename(RenameB, RenameA);
        else
            Platform.Root.Rename(RenameA, RenameB);
        _renamed = !_renamed;
        Done(nameof(Rename));
    }

    /// <summary>stat of a file in the directory.</summary>
    [Benchmark]
    public Stat StatFile()
    {
        var st = Platform.Root.Stat(StatTarget);
        Done(nameof(StatFile));
        return st;
    }
}
