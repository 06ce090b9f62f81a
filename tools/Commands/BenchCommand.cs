using System.CommandLine;
using DaxStack.Tools.Cli;

namespace DaxStack.Tools.Commands;

/// <summary><c>daxstack bench</c>: benchmark scenarios and reports.</summary>
public static class BenchCommand
{
    public static Command Create(CliContext context)
    {
        var cmd = new Command("bench", "Run benchmark scenarios (modeled and wall-clock).");
        return cmd;
    }
}
