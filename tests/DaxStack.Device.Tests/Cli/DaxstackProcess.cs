using System.Diagnostics;

namespace DaxStack.Device.Tests.Cli;

/// <summary>The built daxstack run as a child process, for tests that need a process of its own.</summary>
internal static class DaxstackProcess
{
    /// <summary>
    /// Runs daxstack with <paramref name="args"/>, through <paramref name="prefix"/> (a command such
    /// as setpriv) when it is not empty, with <paramref name="environment"/> added to its environment;
    /// fails the test if it has not exited within 60 s.
    /// </summary>
    public static (int Exit, string Out, string Err) Run(string[] prefix, string[] args, params (string Name, string Value)[] environment)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "daxstack.dll");
        var psi = new ProcessStartInfo(prefix.Length > 0 ? prefix[0] : "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in prefix.Skip(1))
            psi.ArgumentList.Add(a);
        if (prefix.Length > 0)
            psi.ArgumentList.Add("dotnet");
        psi.ArgumentList.Add(dll);
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        foreach (var (name, value) in environment)
            psi.Environment[name] = value;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(60_000))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail("daxstack child process did not exit within 60 s");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
