using System.Diagnostics;
using System.Text;
using DaxStack.Interop.Tests.Tools;

namespace DaxStack.Interop.Tests.Servers;

/// <summary>
/// A running NBD server child process listening on a loopback port: where to reach it, what it
/// announced, and everything it printed (kept for assertion messages). Stop asks it to exit
/// (SIGTERM) and bounds the wait; Dispose kills whatever is still running, so no test leaves a
/// server behind. Models an nbd-server / nbdkit instance as an NBD client sees it.
/// </summary>
public sealed class NbdServerProcess : IDisposable
{
    private readonly Process _process;
    private readonly object _gate = new();
    private readonly List<string> _stdout = [];
    private readonly StringBuilder _stderr = new();
    private bool _stdoutClosed;
    private bool _stderrClosed;

    internal NbdServerProcess(ServerKind kind, string program, IReadOnlyList<string> args, string displayProgram)
    {
        Kind = kind;
        CommandLine = ExternalTool.CommandLine(displayProgram, args);
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        _process = new Process { StartInfo = psi };
        _process.OutputDataReceived += (_, e) => Append(e.Data, isStdout: true);
        _process.ErrorDataReceived += (_, e) => Append(e.Data, isStdout: false);
        if (!_process.Start())
            throw new InvalidOperationException($"could not start `{CommandLine}`");
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Which server this is.</summary>
    public ServerKind Kind { get; }

    /// <summary>The command line that started it.</summary>
    public string CommandLine { get; }

    /// <summary>The operating-system process id.</summary>
    public int ProcessId => _process.Id;

    /// <summary>The loopback TCP port it listens on (set once it is listening).</summary>
    public int Port { get; private set; }

    /// <summary>The export's name.</summary>
    public string ExportName { get; private set; } = "";

    /// <summary>The export's size in bytes as the server announced or was configured with.</summary>
    public long Size { get; private set; }

    /// <summary>The NBD URI of the export, as libnbd and QEMU parse it.</summary>
    public string Uri => $"nbd://127.0.0.1:{Port}/{ExportName}";

    /// <summary>The NBD URI of the server with no export name (for listing exports).</summary>
    public string ServerUri => $"nbd://127.0.0.1:{Port}";

    /// <summary>True once the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Everything printed on standard output so far, one entry per line.</summary>
    public IReadOnlyList<string> StandardOutputLines
    {
        get
        {
            lock (_gate)
                return [.. _stdout];
        }
    }

    /// <summary>Everything printed on standard error so far.</summary>
    public string StandardError
    {
        get
        {
            lock (_gate)
                return _stderr.ToString();
        }
    }

    /// <summary>The command line and both output streams so far, for assertion messages.</summary>
    public string Describe() =>
        $"server `{CommandLine}`{(HasExited ? $" (exited {_process.ExitCode})" : "")}\n--- server stdout ---\n{string.Join('\n', StandardOutputLines)}\n--- server stderr ---\n{StandardError}";

    internal void SetEndpoint(int port, string exportName, long size)
    {
        Port = port;
        ExportName = exportName;
        Size = size;
    }

    /// <summary>
    /// The first standard-output line matching <paramref name="match"/>, waiting at most
    /// <paramref name="timeout"/>; null if the time runs out or standard output ends first.
    /// </summary>
    public string? WaitForOutputLine(Func<string, bool> match, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        lock (_gate)
        {
            int seen = 0;
            while (true)
            {
                for (; seen < _stdout.Count; seen++)
                {
                    if (match(_stdout[seen]))
                        return _stdout[seen];
                }
                var left = timeout - deadline.Elapsed;
                if (_stdoutClosed || left <= TimeSpan.Zero)
                    return null;
                Monitor.Wait(_gate, left);
            }
        }
    }

    /// <summary>
    /// Asks the server to stop with <paramref name="signal"/> (SIGTERM by default) and waits at
    /// most <paramref name="timeout"/> for it to exit and close its output; on timeout kills it
    /// and fails the test. Returns the exit status.
    /// </summary>
    public int Stop(TimeSpan timeout, int signal = PosixSignal.SigTerm)
    {
        if (!_process.HasExited)
            PosixSignal.Send(_process.Id, signal);
        if (!_process.WaitForExit(timeout))
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(TimeSpan.FromSeconds(5));
            Assert.Fail($"the server did not exit within {timeout.TotalSeconds:0} s of signal {signal} and was killed\n{Describe()}");
        }
        WaitForOutputClosed(TimeSpan.FromSeconds(10));
        return _process.ExitCode;
    }

    /// <summary>Kills the server outright (SIGKILL: no chance to flush) and waits for it to be gone.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        if (!_process.WaitForExit(TimeSpan.FromSeconds(10)))
            Assert.Fail($"the server survived SIGKILL for 10 s\n{Describe()}");
        WaitForOutputClosed(TimeSpan.FromSeconds(10));
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(TimeSpan.FromSeconds(10));
            }
        }
        catch (InvalidOperationException)
        {
            // Already reaped: nothing left to kill.
        }
        _process.Dispose();
    }

    private void Append(string? line, bool isStdout)
    {
        lock (_gate)
        {
            if (line == null)
            {
                if (isStdout)
                    _stdoutClosed = true;
                else
                    _stderrClosed = true;
            }
            else if (isStdout)
            {
                _stdout.Add(line);
            }
            else
            {
                _stderr.Append(line).Append('\n');
            }
            Monitor.PulseAll(_gate);
        }
    }

    private void WaitForOutputClosed(TimeSpan timeout)
    {
        // WaitForExit(TimeSpan) may return before the asynchronous readers have seen end of
        // file; the last lines (such as "stopped") matter, so wait for both streams to close.
        var deadline = Stopwatch.StartNew();
        lock (_gate)
        {
            while (!(_stdoutClosed && _stderrClosed))
            {
                var left = timeout - deadline.Elapsed;
                if (left <= TimeSpan.Zero)
                    return;
                Monitor.Wait(_gate, left);
            }
        }
    }
}
