using System.Diagnostics;

namespace DaxStack.Interop.Tests.Tools;

/// <summary>
/// Runs a program to completion with no input and both outputs captured, within a time bound:
/// a program still running at the bound is killed (with its children) and the test fails, so a
/// wedged client or server can never hang the suite.
/// </summary>
internal static class ChildProcess
{
    /// <summary>
    /// Runs <paramref name="program"/> with <paramref name="args"/>; <paramref name="displayName"/>
    /// is how the command line is shown in results and messages.
    /// </summary>
    public static ToolResult Run(string program, string displayName, IReadOnlyList<string> args, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        string commandLine = ExternalTool.CommandLine(displayName, args);

        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {program}");
        // No program run here reads standard input; closing it makes any that tries see end of
        // file instead of waiting for a terminal.
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit(TimeSpan.FromSeconds(5));
            Assert.Fail($"`{commandLine}` did not finish within {timeout.TotalSeconds:0} s and was killed");
        }
        // The streams close when the process exits; the bound only guards against a grandchild
        // that inherited them and lingers.
        if (!Task.WaitAll([stdout, stderr], TimeSpan.FromSeconds(10)))
            Assert.Fail($"`{commandLine}` exited but its output streams stayed open");
        return new ToolResult(commandLine, p.ExitCode, stdout.Result, stderr.Result);
    }
}
