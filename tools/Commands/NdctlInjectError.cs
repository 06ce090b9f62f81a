using System.CommandLine;
using DaxStack.Tools.Cli;

namespace DaxStack.Tools.Commands;

/// <summary>
/// <c>daxstack ndctl inject-error</c>: poisons (or with <c>-d</c> un-poisons) 512-byte blocks
/// of a namespace and prints the namespace with its bad blocks; with <c>-t</c> prints the
/// injected blocks as <c>{"badblocks":[{"block":N,"count":N}]}</c> (nothing when there are
/// none). Poison is kept in IMAGE.badblocks, so a later process's loads from those blocks raise
/// a machine check. In the emulator the platform's injected-error list and the kernel's
/// badblocks are one list, so <c>--uninject</c> takes effect at once, without a write.
/// </summary>
/// <remarks>Models ndctl's <c>cmd_inject_error</c> (ndctl/inject-error.c).</remarks>
public static class NdctlInjectError
{
    private const string Command = "inject-error";

    public static Command Create(CliContext context)
    {
        var image = NdctlCommand.ImageOption("The image file holding the namespace.");
        var target = NdctlCommand.NamespaceArgument("The namespace: namespaceR.N, R.N or its friendly name.");
        var block = new Option<string?>("--block", "-B")
        {
            Description = "First block to inject, in 512-byte blocks from the start of the namespace. Required unless --status.",
            HelpName = "BLOCK",
        };
        var count = new Option<string?>("--count", "-n")
        {
            Description = "Number of 512-byte blocks to inject (default 1).",
            HelpName = "COUNT",
        };
        var uninject = new Option<bool>("--uninject", "-d")
        {
            Description = "Remove injected errors from --block for --count blocks instead of injecting (the data is not rewritten).",
        };
        var status = new Option<bool>("--status", "-t")
        {
            Description = "Print the injected errors of the namespace as JSON instead of changing anything.",
        };

        var cmd = NdctlCommand.Subcommand(Command, "Inject media errors (poison) into a namespace, remove them, or show them.");
        cmd.Arguments.Add(target);
        foreach (var o in new Option[] { image, block, count, uninject, status })
            cmd.Options.Add(o);
        cmd.SetAction(parse => NdctlCommand.Run(context, Command, parse, image, target, path =>
        {
            string name = NdctlCommand.NamespaceName(parse.GetValue(target)!);
            bool showStatus = parse.GetValue(status);
            if (showStatus && (parse.GetValue(block) != null || parse.GetValue(uninject)))
                return context.Fail($"ndctl {Command}", "--status cannot be combined with --block or --uninject");
            long? first = NdctlCommand.ParseSize(parse.GetValue(block), "--block", out var error);
            long? blocks = error == null ? NdctlCommand.ParseSize(parse.GetValue(count), "--count", out error) : null;
            if (error != null)
                return context.Fail($"ndctl {Command}", error);
            if (!showStatus && first == null)
                return context.Fail($"ndctl {Command}", "--block is required to inject or uninject an error");

            using var bus = NdctlCommand.OpenBus(context);
            var region = bus.OpenImage(path, readOnly: showStatus);
            var ns = region.GetNamespace(name);
            if (showStatus)
            {
                var bad = region.BadBlocks(ns);
                if (bad.Count > 0)
                    NdctlJson.Write(context.Out, NdctlJson.InjectionStatus(bad));
                return 0;
            }
            if (parse.GetValue(uninject))
                region.UninjectError(ns, first!.Value, blocks ?? 1);
            else
                region.InjectError(ns, first!.Value, blocks ?? 1);
            NdctlJson.Write(context.Out, NdctlJson.Namespace(region, ns, mediaErrors: true, human: false));
            return 0;
        }));
        return cmd;
    }
}
