using System.CommandLine;
using System.Text.RegularExpressions;
using DaxStack.Device.Cost;
using DaxStack.Device.Namespaces;
using DaxStack.Tools.Cli;
using Microsoft.Extensions.DependencyInjection;

namespace DaxStack.Tools.Commands;

/// <summary>
/// <c>daxstack ndctl</c>: namespace and media-error management of an image in the manner of
/// ndctl: create-namespace, list, destroy-namespace, inject-error, clear-errors. Every
/// subcommand takes <c>--image F</c>; labels live in <c>F.labels</c> and poison in
/// <c>F.badblocks</c> beside it. Failures print <c>ndctl COMMAND: message</c> on standard
/// error and exit with status 1.
/// </summary>
public static class NdctlCommand
{
    public static Command Create(CliContext context)
    {
        var cmd = new Command("ndctl",
            "Manage the NVDIMM namespaces and media errors of an image (ndctl-like). Labels are kept in IMAGE.labels " +
            "and poisoned sectors in IMAGE.badblocks beside the image; an image without labels is one raw namespace.");
        cmd.Subcommands.Add(NdctlCreateNamespace.Create(context));
        cmd.Subcommands.Add(NdctlList.Create(context));
        cmd.Subcommands.Add(NdctlDestroyNamespace.Create(context));
        cmd.Subcommands.Add(NdctlInjectError.Create(context));
        cmd.Subcommands.Add(NdctlClearErrors.Create(context));
        return cmd;
    }

    /// <summary>
    /// A subcommand. It reports missing --image or namespace itself as <c>ndctl COMMAND: message</c>;
    /// unknown options are parse errors, which the entry point prints in the same form.
    /// </summary>
    internal static Command Subcommand(string name, string description) => new(name, description);

    /// <summary>The <c>--image F</c> option every subcommand takes (checked by <see cref="Run"/>, so the error is ndctl-shaped).</summary>
    internal static Option<string?> ImageOption(string description) => new("--image")
    {
        Description = description + " Required.",
        HelpName = "FILE",
    };

    /// <summary>
    /// The namespace argument: namespaceR.N, R.N, or a namespace's friendly name. Required, as ndctl
    /// requires it: the parser reports it missing (so the usage line shows <c>&lt;NAMESPACE&gt;</c>,
    /// not <c>[&lt;namespace&gt;]</c>), and <see cref="Run"/> refuses an empty one.
    /// </summary>
    internal static Argument<string?> NamespaceArgument(string description) => new("NAMESPACE")
    {
        Description = description,
        Arity = ArgumentArity.ExactlyOne,
    };

    /// <summary>ndctl accepts <c>R.N</c> for <c>namespaceR.N</c>.</summary>
    internal static string NamespaceName(string argument) =>
        Regex.IsMatch(argument, @"^\d+\.\d+$") ? "namespace" + argument : argument;

    /// <summary>
    /// True if the subcommands read <paramref name="argument"/> as a namespace device name
    /// (namespaceR.N or R.N) or as <c>all</c> before trying friendly names, so that a namespace
    /// with that friendly name could not be named by it.
    /// </summary>
    internal static bool IsNamespaceReference(string argument) =>
        argument == "all" || Regex.IsMatch(argument, @"^(namespace)?\d+\.\d+$");

    /// <summary>A bus using the host's cost profiles, reported by the device meter.</summary>
    internal static NvdimmBus OpenBus(CliContext context)
    {
        var bus = new NvdimmBus(context.Services.GetRequiredService<CostProfileCatalog>());
        context.Services.GetRequiredService<DaxStack.Device.Diagnostics.DeviceMetrics>().Attach(bus.Space);
        return bus;
    }

    /// <summary>
    /// Checks the usage (no unknown tokens; <paramref name="image"/> given; <paramref name="target"/>
    /// given if the command takes one), then runs <paramref name="body"/> with the image path,
    /// turning usage and namespace errors into <c>ndctl COMMAND: message</c> and exit status 1.
    /// </summary>
    internal static int Run(CliContext context, string command, ParseResult parse, Option<string?> image,
        Argument<string?>? target, Func<string, int> body)
    {
        string fail = $"ndctl {command}";
        if (string.IsNullOrEmpty(parse.GetValue(image)))
            return context.Fail(fail, "--image FILE is required");
        if (target != null && string.IsNullOrEmpty(parse.GetValue(target)))
            return context.Fail(fail, "a namespace (namespaceR.N) is required");
        try
        {
            return body(parse.GetValue(image)!);
        }
        catch (NamespaceException e)
        {
            return context.Fail($"ndctl {command}", e.Message);
        }
    }

    /// <summary>Parses a size option; null when absent. Sets <paramref name="error"/> when present but not a size.</summary>
    internal static long? ParseSize(string? text, string option, out string? error)
    {
        error = null;
        if (text == null)
            return null;
        if (NdctlSizes.TryParse(text, out long bytes))
            return bytes;
        error = $"invalid {option} '{text}': expected a number of bytes with an optional K, M, G or T suffix";
        return null;
    }
}
