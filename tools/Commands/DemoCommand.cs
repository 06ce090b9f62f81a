using System.CommandLine;
using DaxStack.Tools.Cli;

namespace DaxStack.Tools.Commands;

/// <summary><c>daxstack demo</c>: the end-to-end tour on an in-memory device.</summary>
public static class DemoCommand
{
    public static Command Create(CliContext context)
    {
        var cmd = new Command("demo", "End-to-end tour on an in-memory device: lost and kept stores, eADR, poison, modeled costs.");
        cmd.SetAction(_ => { context.Out.WriteLine("demo"); return 0; });
        return cmd;
    }
}
