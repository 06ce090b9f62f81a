using BenchmarkDotNet.Attributes;
using DaxStack.Fs.Vfs;

namespace DaxStack.Bench.Fs;

/// <summary>
/// Issue 4 section 6 (c): a write-ahead log's pattern, 4 KiB appended to a file then fdatasync,
/// so every operation allocates a block, grows the file size and makes both durable. The file is
/// truncated to zero after each iteration.
/// </summary>
/// <remarks>Measures <c>xfs_file_dax_write</c> extending the file (delalloc-free DAX allocation in <c>xfs_direct_write_iomap_begin</c>) and <c>xfs_file_fsync</c> with datasync.</remarks>
[InvocationCount(Invocations)]
public class FsAppendBenchmarks : FsBenchmarkBase
{
    /// <summary>Appends per iteration.</summary>
    public const int Invocations = 1000;

    private readonly byte[] _data = new byte[4096];
    private int _fd = -1;

    protected override void SetupFiles()
    {
        new Random(17).NextBytes(_data);
        _fd = Platform.Root.Open("/append", OpenFlags.O_CREAT | OpenFlags.O_WRONLY | OpenFlags.O_APPEND, 0x1A4);
    }

    protected override void UndoIteration()
    {
        Platform.Root.Ftruncate(_fd, 0);
        Platform.Root.Fsync(_fd);
    }

    /// <summary>write of 4 KiB at the end of the file + fdatasync.</summary>
    [Benchmark]
    public void Append4KFdatasync()
    {
        var p = Platform.Root;
        p.Write(_fd, _data);
        p.Fdatasync(_fd);
        Done(nameof(Append4KFdatasync));
    }
}
