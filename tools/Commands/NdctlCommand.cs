using System.CommandLine;
using DaxStack.Tools.Cli;

namespace DaxStack.Tools.Commands;

/// <summary><c>daxstack ndctl</c>: namespace management in the manner of ndctl.</summary>
public static class NdctlCommand
{
    public static Command Create(CliContext context)
    {
        var cmd = new Command("ndctl", "Manage NVDIMM namespaces of an image (ndctl-like).");
        return cmd;
    }
}
