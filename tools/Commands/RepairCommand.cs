using System.CommandLine;
using DaxStack.Device.Namespaces;
using DaxStack.Driver.Pmem;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Repair;
using DaxStack.Tools.Cli;

namespace DaxStack.Tools.Commands;

/// <summary>
/// <c>daxstack repair -n [-f] [--namespace NS] IMAGE</c>: checks the filesystem on an image
/// without changing it, in xfs_repair's seven phases, printing a line per phase, each problem
/// found as one line naming the structure, and a summary. Exit status: 0 when no problem is
/// found, 1 when problems are found, 2 when the image cannot be checked at all (cannot be
/// opened, or holds no usable XFS superblock; the reason goes to standard error). Only the
/// no-modify mode exists: without <c>-n</c> the command refuses to run.
/// </summary>
/// <remarks>Models <c>xfs_repair -n</c> (repair/xfs_repair.c) and its exit status.</remarks>
public static class RepairCommand
{
    private const string Command = "repair";

    /// <summary>The exit status when the image cannot be checked at all.</summary>
    public const int CannotCheck = 2;

    public static Command Create(CliContext context)
    {
        var noModify = new Option<bool>("-n") { Description = "No modify mode: check only (required: the checker never writes)." };
        var file = new Option<bool>("-f") { Description = "The target is an image file (always: accepted for xfs_repair compatibility)." };
        var ns = new Option<string?>("--namespace") { Description = "The namespace to check (namespaceR.N, R.N or its name). Default: the image's only raw or fsdax namespace.", HelpName = "NAMESPACE" };
        // Required: the parser reports it missing (exit status 2, as every usage error of repair).
        var image = new Argument<string>("IMAGE") { Description = "The image file.", Arity = ArgumentArity.ExactlyOne };
        var cmd = new Command(Command, "Check the filesystem on an image (xfs_repair -n like): exit 0 clean, 1 on any inconsistency, 2 when it cannot check (no image, no filesystem, bad options or configuration).");
        foreach (var o in new Option[] { noModify, file, ns })
            cmd.Options.Add(o);
        cmd.Arguments.Add(image);
        cmd.SetAction(parse =>
        {
            string? path = parse.GetValue(image);
            if (string.IsNullOrEmpty(path))
            {
                context.Fail(Command, "no image given");
                return CannotCheck;
            }
            if (!parse.GetValue(noModify))
            {
                context.Fail(Command, "only the no-modify mode (-n) is supported: daxstack repair never writes");
                return CannotCheck;
            }
            return Run(context, path, parse.GetValue(ns));
        });
        return cmd;
    }

    private static int Run(CliContext context, string path, string? namespaceName)
    {
        FsImageDevice image;
        try
        {
            image = FsImageDevice.Open(context, path, namespaceName, readOnly: true);
        }
        catch (Exception e) when (e is NamespaceException or PmemProbeException or IOException or UnauthorizedAccessException)
        {
            context.Fail(Command, $"cannot open {path}: {e.Message}");
            return CannotCheck;
        }
        using (image)
        {
            XfsRepairReport report;
            try
            {
                report = XfsChecker.Check(image.Device);
            }
            catch (XfsException e)
            {
                context.Fail(Command, $"{path} cannot be checked: no usable XFS superblock: {e.Message}");
                return CannotCheck;
            }
            report.WriteTo(context.Out);
            return report.IsClean ? 0 : 1;
        }
    }
}
