using System.CommandLine;
using DaxStack.Device.Namespaces;
using DaxStack.Tools.Cli;

namespace DaxStack.Tools.Commands;

/// <summary>
/// <c>daxstack ndctl create-namespace</c>: creates (or with <c>-e</c> reconfigures) a namespace
/// in an image's region and prints it as JSON. If the image does not exist it is created as a
/// sparse file of <c>--size</c> bytes with an empty label file, and a note saying so goes to
/// standard error.
/// </summary>
/// <remarks>Models ndctl's <c>cmd_create_namespace</c> (ndctl/namespace.c).</remarks>
public static class NdctlCreateNamespace
{
    private const string Command = "create-namespace";

    public static Command Create(CliContext context)
    {
        var image = NdctlCommand.ImageOption("The image file. Created (sparse, --size bytes) if it does not exist.");
        var mode = new Option<string?>("--mode", "-m")
        {
            Description = "Namespace mode: fsdax (block device with filesystem DAX), devdax (device-dax character device), sector (BTT block device) or raw. Default fsdax; with -e, the namespace's own mode (and then its alignment and sector size too).",
            HelpName = "fsdax|devdax|sector|raw",
        };
        var size = new Option<string?>("--size", "-s")
        {
            Description = "Namespace size in bytes, with an optional K, M, G or T suffix; a multiple of the alignment. Default: the largest free extent (required when creating the image).",
            HelpName = "SIZE",
        };
        var align = new Option<string?>("--align", "-a")
        {
            Description = "fsdax/devdax alignment of the namespace's physical address and size: 4K, 2M (default) or 1G.",
            HelpName = "ALIGN",
        };
        var sectorSize = new Option<string?>("--sector-size", "-l")
        {
            Description = "Logical sector size: 512 or 4096 for raw (default 512) and sector (default 4096); fsdax is 512; devdax has none.",
            HelpName = "BYTES",
        };
        var map = new Option<string?>("--map", "-M")
        {
            Description = "Where fsdax/devdax page metadata lives: dev (default) or mem. Recorded and listed; the emulator reserves no media for it.",
            HelpName = "dev|mem",
        };
        var name = new Option<string?>("--name", "-n")
        {
            Description = "Optional friendly name (at most 63 bytes), unique in the region; other commands accept it in place of namespaceR.N. It may not be 'all', R.N or namespaceR.N.",
            HelpName = "NAME",
        };
        var uuid = new Option<string?>("--uuid", "-u")
        {
            Description = "Namespace uuid. Default: a new random uuid, also with -e (as ndctl: a reconfigured namespace is a new namespace in the old one's place).",
            HelpName = "UUID",
        };
        var reconfig = new Option<string?>("--reconfig", "-e")
        {
            Description = "Reconfigure this existing namespace (namespaceR.N) instead of creating one: it keeps its index, offset when possible, name unless given, and its size (rounded down to the new alignment) unless --size is given. Needs --force.",
            HelpName = "NAMESPACE",
        };
        var force = new Option<bool>("--force", "-f")
        {
            Description = "Allow reconfiguring an active namespace (every namespace of an image is active).",
        };
        var profile = new Option<string?>("--profile")
        {
            Description = "Cost profile of the region (optane-adr, optane-eadr, dram, or a configured one); recorded in the label file and used whenever the image is opened. Default: the recorded one, else the configured default.",
            HelpName = "PROFILE",
        };

        var cmd = NdctlCommand.Subcommand(Command, "Create a namespace in the image's region (or reconfigure one with -e) and print it as JSON.");
        foreach (var o in new Option[] { image, mode, size, align, sectorSize, map, name, uuid, reconfig, force, profile })
            cmd.Options.Add(o);
        cmd.SetAction(parse => NdctlCommand.Run(context, Command, parse, image, null, path =>
        {
            NamespaceMode? m = null;
            if (parse.GetValue(mode) is { } modeText)
            {
                if (!NamespaceModeNames.TryParse(modeText, out var parsedMode))
                    return context.Fail($"ndctl {Command}", $"invalid mode '{modeText}': use fsdax, devdax, sector or raw");
                m = parsedMode;
            }
            long? bytes = NdctlCommand.ParseSize(parse.GetValue(size), "--size", out var error);
            long? alignment = error == null ? NdctlCommand.ParseSize(parse.GetValue(align), "--align", out error) : null;
            long? sector = error == null ? NdctlCommand.ParseSize(parse.GetValue(sectorSize), "--sector-size", out error) : null;
            if (error != null)
                return context.Fail($"ndctl {Command}", error);
            if (sector > int.MaxValue)
                return context.Fail($"ndctl {Command}", $"invalid --sector-size {sector}");
            MemmapLocation? memmap = parse.GetValue(map)?.Trim().ToLowerInvariant() switch
            {
                null => null,
                "dev" => MemmapLocation.Dev,
                "mem" => MemmapLocation.Mem,
                _ => MemmapLocation.None,
            };
            if (memmap == MemmapLocation.None)
                return context.Fail($"ndctl {Command}", $"invalid --map '{parse.GetValue(map)}': use dev or mem");
            if (parse.GetValue(name) is { } friendly && NdctlCommand.IsNamespaceReference(friendly))
                return context.Fail($"ndctl {Command}",
                    $"invalid --name '{friendly}': other commands would read it as {(friendly == "all" ? "every namespace" : "namespace " + NdctlCommand.NamespaceName(friendly))}");
            Guid? id = null;
            if (parse.GetValue(uuid) is { } uuidText)
            {
                if (!Guid.TryParse(uuidText, out var parsed))
                    return context.Fail($"ndctl {Command}", $"invalid --uuid '{uuidText}'");
                id = parsed;
            }
            var spec = new NamespaceSpec
            {
                Mode = m ?? NamespaceMode.Fsdax,
                Size = bytes,
                Align = alignment,
                SectorSize = (int?)sector,
                Map = memmap,
                Name = parse.GetValue(name),
                Uuid = id,
            };
            string? reconfigure = parse.GetValue(reconfig);

            using var bus = NdctlCommand.OpenBus(context);
            NvdimmNamespace ns;
            BusRegion region;
            if (!File.Exists(path) && !Directory.Exists(path) && reconfigure == null)
            {
                if (bytes == null)
                    return context.Fail($"ndctl {Command}", $"image '{path}' does not exist: give --size to create it");
                spec.Validate();
                region = bus.CreateImage(path, bytes.Value, parse.GetValue(profile));
                context.Error.WriteLine($"created image '{path}' ({bytes.Value} bytes, sparse) and its label file '{region.LabelPath}'");
                try
                {
                    ns = region.CreateNamespace(spec);
                }
                catch (NamespaceException)
                {
                    // The image and labels are ours from a moment ago: leave nothing half made.
                    bus.Dispose();
                    File.Delete(path);
                    File.Delete(region.LabelPath!);
                    throw;
                }
            }
            else
            {
                region = bus.OpenImage(path, parse.GetValue(profile));
                if (reconfigure != null)
                {
                    // As ndctl: without -m the namespace keeps its mode, and while the mode stays
                    // the same, its alignment and sector size unless they are given; it gets a new
                    // uuid unless one is given (ndctl's validate_namespace_options generates one).
                    var old = region.GetNamespace(NdctlCommand.NamespaceName(reconfigure));
                    if ((m ?? old.Mode) == old.Mode)
                        spec = spec with { Mode = old.Mode, Align = alignment ?? old.Align, SectorSize = (int?)sector ?? old.SectorSize };
                    spec = spec with { Uuid = id ?? Guid.NewGuid() };
                    ns = region.ReconfigureNamespace(old.Name, spec, parse.GetValue(force));
                }
                else
                    ns = region.CreateNamespace(spec);
            }
            NdctlJson.Write(context.Out, NdctlJson.Namespace(region, ns, mediaErrors: false, human: false));
            return 0;
        }));
        return cmd;
    }
}
