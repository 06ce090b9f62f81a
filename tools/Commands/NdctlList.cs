using System.CommandLine;
using System.Text.Json.Nodes;
using DaxStack.Device.Namespaces;
using DaxStack.Tools.Cli;

namespace DaxStack.Tools.Commands;

/// <summary>
/// <c>daxstack ndctl list</c>: prints the image's namespaces (the default, or -N) and/or its
/// region (-R, with the namespaces nested when -N is given too) as ndctl's JSON. Opens the
/// image read-only.
/// </summary>
/// <remarks>Models ndctl's <c>cmd_list</c> (ndctl/list.c).</remarks>
public static class NdctlList
{
    private const string Command = "list";

    public static Command Create(CliContext context)
    {
        var image = NdctlCommand.ImageOption("The image file whose region and namespaces to list.");
        var namespaces = new Option<bool>("--namespaces", "-N") { Description = "Include namespace info (the default when neither -N nor -R is given)." };
        var regions = new Option<bool>("--regions", "-R") { Description = "Include region info: size, available_size, max_available_extent, persistence_domain." };
        var mediaErrors = new Option<bool>("--media-errors", "-M") { Description = "Include the bad blocks (offset and length in 512-byte blocks) of each namespace and region." };
        var human = new Option<bool>("--human", "-u") { Description = "Print sizes in human-readable form, e.g. \"1.00 GiB (1.07 GB)\"." };
        var only = new Option<string?>("--namespace", "-n") { Description = "List only this namespace (namespaceR.N, R.N or its friendly name; 'all' lists every namespace).", HelpName = "NAMESPACE" };
        var modeFilter = new Option<string?>("--mode", "-m") { Description = "List only namespaces in this mode (fsdax, devdax, sector or raw).", HelpName = "MODE" };

        var cmd = NdctlCommand.Subcommand(Command, "List the image's namespaces and region as JSON (ndctl list).");
        foreach (var o in new Option[] { image, namespaces, regions, mediaErrors, human, only, modeFilter })
            cmd.Options.Add(o);
        cmd.SetAction(parse => NdctlCommand.Run(context, Command, parse, image, null, path =>
        {
            NamespaceMode? wantedMode = null;
            if (parse.GetValue(modeFilter) is { } modeText)
            {
                if (!NamespaceModeNames.TryParse(modeText, out var m))
                    return context.Fail($"ndctl {Command}", $"invalid mode '{modeText}': use fsdax, devdax, sector or raw");
                wantedMode = m;
            }
            bool h = parse.GetValue(human);
            bool me = parse.GetValue(mediaErrors);
            bool listRegions = parse.GetValue(regions);
            bool listNamespaces = parse.GetValue(namespaces) || !listRegions;
            // As ndctl's namespace filter, "all" selects every namespace.
            string? wantedName = parse.GetValue(only) is { } n && n != "all" ? NdctlCommand.NamespaceName(n) : null;

            using var bus = NdctlCommand.OpenBus(context);
            var region = bus.OpenImage(path, readOnly: true);
            var selected = region.Namespaces
                .Where(ns => wantedName == null || ns.Name == wantedName || (ns.FriendlyName.Length > 0 && ns.FriendlyName == wantedName))
                .Where(ns => wantedMode == null || ns.Mode == wantedMode)
                .Select(ns => NdctlJson.Namespace(region, ns, me, h))
                .ToList();

            if (!listRegions)
            {
                NdctlJson.WriteList(context.Out, selected, h);
                return 0;
            }
            var jregion = NdctlJson.Region(region, me, h);
            if (listNamespaces && selected.Count > 0)
                jregion["namespaces"] = new JsonArray([.. selected]);
            NdctlJson.WriteList(context.Out, [jregion], h);
            return 0;
        }));
        return cmd;
    }
}
