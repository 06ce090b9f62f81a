using DaxStack.Device.Crash;
using DaxStack.Fs.Ramfs;
using DaxStack.Fs.Vfs;
using DaxStack.Tools.Io;
using VfsTree = DaxStack.Fs.Vfs.Vfs;

namespace DaxStack.Fs.Tests.Cli;

/// <summary>An <see cref="IoSession"/> over a fresh ramfs, with captured output and the crash policies it was asked for.</summary>
internal sealed class IoTestSession : IDisposable
{
    private readonly StringWriter _out = new();
    private readonly StringWriter _err = new();

    public IoTestSession(RamfsOptions? options = null, Credentials? credentials = null, bool withCrash = true)
    {
        var type = new RamfsFileSystemType(options);
        Tree = new VfsTree(type);
        Super = type.LastMounted!;
        Process = Tree.CreateProcess(credentials ?? Credentials.Root);
        Session = new IoSession(Process, _out, _err, withCrash ? Crashes.Add : null);
    }

    public VfsTree Tree { get; }

    public RamfsSuper Super { get; }

    public Process Process { get; }

    public IoSession Session { get; }

    public List<CrashPolicy> Crashes { get; } = new();

    public string Out => _out.ToString().Replace("\r\n", "\n", StringComparison.Ordinal);

    public string Err => _err.ToString().Replace("\r\n", "\n", StringComparison.Ordinal);

    public string[] OutLines => Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Runs the lines; returns the exit status.</summary>
    public int Run(params string[] lines) => Session.Run(lines);

    /// <summary>Forgets the output so far.</summary>
    public void ClearOutput()
    {
        _out.GetStringBuilder().Clear();
        _err.GetStringBuilder().Clear();
    }

    public void Dispose()
    {
        Process.Dispose();
        _out.Dispose();
        _err.Dispose();
    }
}
