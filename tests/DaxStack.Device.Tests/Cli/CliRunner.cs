using DaxStack.Tools.Cli;

namespace DaxStack.Device.Tests.Cli;

/// <summary>Runs the daxstack command line in-process and captures its output.</summary>
internal static class CliRunner
{
    public static (int Exit, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = DaxstackProgram.Run(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }
}
