using DaxStack.Tools.Cli;

namespace DaxStack.Fs.Tests.Cli;

/// <summary>Runs <c>daxstack</c> in process and captures its output.</summary>
internal static class CliRun
{
    public static (int Status, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int status = DaxstackProgram.Run(args, stdout, stderr);
        return (status, stdout.ToString(), stderr.ToString());
    }
}
