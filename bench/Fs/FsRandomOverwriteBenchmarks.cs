using BenchmarkDotNet.Attributes;
using DaxStack.Fs.Vfs;

namespace DaxStack.Bench.Fs;

/// <summary>
/// Issue 4 section 6 (b): 4 KiB pwrite at random block-aligned offsets of a 64 MiB file whose
/// blocks were all written (and fsync'd) beforehand, so every write overwrites allocated,
/// written blocks: without a sync flag, and opened with O_DSYNC (each write durable before it
/// returns). The offsets are a fixed pseudo-random sequence computed in setup.
/// </summary>
/// <remarks>Measures <c>xfs_file_dax_write</c> / <c>dax_iomap_rw</c> over written extents, plus <c>generic_write_sync</c> with O_DSYNC.</remarks>
[InvocationCount(Invocations)]
public class FsRandomOverwriteBenchmarks : FsBenchmarkBase
{
    /// <summary>Writes per iteration.</summary>
    public const int Invocations = 8000;

    /// <summary>The file's size.</summary>
    public const long FileBytes = 64L << 20;

    private const int BlockBytes = 4096;
    private const string Path = "/overwrite";

    private readonly byte[] _data = new byte[BlockBytes];
    private readonly long[] _offsets = new long[16384];
    private int _next;
    private int _fd = -1;

    /// <summary>Whether the file is opened with O_DSYNC.</summary>
    [Params(false, true)]
    public bool Dsync { get; set; }

    protected override string Parameters => $"Dsync={Dsync}";

    protected override void SetupFiles()
    {
        var random = new Random(13);
        random.NextBytes(_data);
        for (int i = 0; i < _offsets.Length; i++)
            _offsets[i] = random.NextInt64(FileBytes / BlockBytes) * BlockBytes;
        Platform.CreateFile(Path, FileBytes, new byte[1 << 20]);
        var flags = OpenFlags.O_WRONLY | (Dsync ? OpenFlags.O_DSYNC : 0);
        _fd = Platform.Root.Open(Path, flags);
        _next = 0;
    }

    protected override void UndoIteration()
    {
        // Overwrites create nothing; the offset sequence simply continues.
    }

    /// <summary>pwrite of 4 KiB at the next random block offset.</summary>
    [Benchmark]
    public int RandomOverwrite4K()
    {
        long offset = _offsets[_next];
        _next = (_next + 1) & (_offsets.Length - 1);
        int n = Platform.Root.Pwrite(_fd, _data, offset);
        Done(nameof(RandomOverwrite4K));
        return n;
    }
}
