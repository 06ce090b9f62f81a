using System.CommandLine;
using DaxStack.Tools.Cli;

namespace DaxStack.Tools.Commands;

/// <summary>
/// <c>daxstack ndctl destroy-namespace</c>: removes a namespace's label so its range becomes
/// free. Every namespace of an image is enabled (the emulator has no disable-namespace), so, as
/// ndctl does for an enabled namespace, it refuses without <c>--force</c>. The data stays in the
/// image. Destroying the label-less namespace of a plain image gives it an empty label file.
/// Prints <c>destroyed N namespace(s)</c> on standard error.
/// </summary>
/// <remarks>Models ndctl's <c>cmd_destroy_namespace</c> (ndctl/namespace.c).</remarks>
public static class NdctlDestroyNamespace
{
    private const string Command = "destroy-namespace";

    public static Command Create(CliContext context)
    {
        var image = NdctlCommand.ImageOption("The image file holding the namespace.");
        var target = NdctlCommand.NamespaceArgument("The namespace to destroy: namespaceR.N, R.N, its friendly name, or 'all'.");
        var force = new Option<bool>("--force", "-f")
        {
            Description = "Destroy even though the namespace is active (required: every namespace of an image is active). The data is left in the image.",
        };

        var cmd = NdctlCommand.Subcommand(Command, "Destroy a namespace: remove its label and free its range (the data stays in the image).");
        cmd.Arguments.Add(target);
        cmd.Options.Add(image);
        cmd.Options.Add(force);
        cmd.SetAction(parse => NdctlCommand.Run(context, Command, parse, image, target, path =>
        {
            string name = NdctlCommand.NamespaceName(parse.GetValue(target)!);
            using var bus = NdctlCommand.OpenBus(context);
            var region = bus.OpenImage(path);
            var names = name == "all" ? region.Namespaces.Select(n => n.Name).ToList() : [region.GetNamespace(name).Name];
            foreach (var n in names)
                region.DestroyNamespace(n, parse.GetValue(force));
            context.Error.WriteLine($"destroyed {names.Count} namespace{(names.Count == 1 ? "" : "s")}");
            return 0;
        }));
        return cmd;
    }
}
