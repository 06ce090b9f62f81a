using System.CommandLine;
using DaxStack.Tools.Cli;

namespace DaxStack.Tools.Commands;

/// <summary>
/// <c>daxstack ndctl clear-errors</c>: clears every bad block of a namespace the way the
/// driver's recovery write does: each bad range is overwritten with zeros (its data is lost) and
/// its poison removed, in memory and in IMAGE.badblocks. Prints <c>cleared N blocks in
/// namespaceR.N</c> on standard error.
/// </summary>
/// <remarks>Models ndctl's <c>cmd_clear_errors</c> (ndctl/namespace.c).</remarks>
public static class NdctlClearErrors
{
    private const string Command = "clear-errors";

    public static Command Create(CliContext context)
    {
        var image = NdctlCommand.ImageOption("The image file holding the namespace.");
        var target = NdctlCommand.NamespaceArgument("The namespace whose errors to clear: namespaceR.N, R.N or its friendly name.");
        var cmd = NdctlCommand.Subcommand(Command, "Clear all media errors (bad blocks) of a namespace by rewriting them with zeros. The data in those blocks is lost.");
        cmd.Arguments.Add(target);
        cmd.Options.Add(image);
        cmd.SetAction(parse => NdctlCommand.Run(context, Command, parse, image, target, path =>
        {
            using var bus = NdctlCommand.OpenBus(context);
            var region = bus.OpenImage(path);
            var ns = region.GetNamespace(NdctlCommand.NamespaceName(parse.GetValue(target)!));
            long cleared = region.ClearErrors(ns);
            context.Error.WriteLine($"cleared {cleared} block{(cleared == 1 ? "" : "s")} in {ns.Name}");
            return 0;
        }));
        return cmd;
    }
}
