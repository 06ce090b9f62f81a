using BenchmarkDotNet.Attributes;
using DaxStack.Fs.Vfs;

namespace DaxStack.Bench.Fs;

/// <summary>
/// Issue 4 section 6 (a): a new 4 KiB file made durable, as a mail spool or a small-object store
/// does: open(O_CREAT|O_EXCL), write 4 KiB, fsync, close. One operation is that sequence. The
/// files go to one directory; each iteration's files are unlinked after it.
/// </summary>
/// <remarks>Measures the kernel path <c>xfs_create</c> + <c>xfs_file_write_iter</c> + <c>xfs_file_fsync</c> (log force of the create transaction).</remarks>
[InvocationCount(Invocations)]
public class FsCreateBenchmarks : FsBenchmarkBase
{
    /// <summary>Files created per iteration.</summary>
    public const int Invocations = 400;

    private readonly string[] _names = new string[Invocations];
    private readonly byte[] _data = new byte[4096];
    private int _next;

    protected override void SetupFiles()
    {
        new Random(11).NextBytes(_data);
        Platform.Root.Mkdir("/c", 0x1ED);
        for (int i = 0; i < _names.Length; i++)
            _names[i] = $"/c/f{i:D6}";
        _next = 0;
    }

    protected override void UndoIteration()
    {
        for (int i = 0; i < _next; i++)
            Platform.Root.Unlink(_names[i]);
        _next = 0;
    }

    /// <summary>open(O_CREAT|O_EXCL|O_WRONLY) + write 4 KiB + fsync + close of a new file.</summary>
    [Benchmark]
    public void CreateWrite4KFsyncClose()
    {
        var p = Platform.Root;
        int fd = p.Open(_names[_next++], OpenFlags.O_CREAT | OpenFlags.O_EXCL | OpenFlags.O_WRONLY, 0x1A4);
        p.Write(fd, _data);
        p.Fsync(fd);
        p.Close(fd);
        Done(nameof(CreateWrite4KFsyncClose));
    }
}
