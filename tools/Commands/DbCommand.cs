using System.CommandLine;
using DaxStack.Device.Namespaces;
using DaxStack.Driver.Pmem;
using DaxStack.Fs.Xfs;
using DaxStack.Fs.Xfs.Db;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Tools.Cli;

namespace DaxStack.Tools.Commands;

/// <summary>
/// <c>daxstack db IMAGE [-c CMD]...</c>: inspects the filesystem on an image in the manner of
/// <c>xfs_db -r</c>: the commands run in order (<c>sb N</c>, <c>agf N</c>, <c>agi N</c>,
/// <c>agfl N</c>, <c>inode INO</c>, <c>print [field...]</c>, <c>help</c>) and print xfs_db's
/// <c>name = value</c> lines. The image is opened read-only. Exit status 1 if any command failed.
/// </summary>
/// <remarks>Models xfs_db (db/init.c, db/command.c) in read-only mode.</remarks>
public static class DbCommand
{
    private const string Command = "db";

    public static Command Create(CliContext context)
    {
        var commands = new Option<string[]>("-c")
        {
            Description = "A command to run (repeatable; run in order): sb [agno], agf [agno], agi [agno], agfl [agno], inode [ino], print [field...], bmap, help.",
            HelpName = "CMD",
            Arity = ArgumentArity.OneOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        var readOnly = new Option<bool>("-r") { Description = "Read-only (always: accepted for xfs_db compatibility)." };
        var file = new Option<bool>("-f") { Description = "The target is a file (always: accepted for xfs_db compatibility)." };
        var ns = new Option<string?>("--namespace") { Description = "The namespace to inspect (namespaceR.N, R.N or its name). Default: the image's only raw or fsdax namespace.", HelpName = "NAMESPACE" };
        // Required: the parser reports it missing, and the usage line shows <IMAGE>, not [<IMAGE>].
        var image = new Argument<string>("IMAGE") { Description = "The image file.", Arity = ArgumentArity.ExactlyOne };
        var cmd = new Command(Command, "Inspect the filesystem on an image (xfs_db -r like).");
        foreach (var o in new Option[] { commands, readOnly, file, ns })
            cmd.Options.Add(o);
        cmd.Arguments.Add(image);
        cmd.SetAction(parse =>
        {
            string? path = parse.GetValue(image);
            if (string.IsNullOrEmpty(path))
                return context.Fail(Command, "no image given");
            var lines = parse.GetValue(commands) ?? [];
            if (lines.Length == 0)
                return context.Fail(Command, "no commands: give one or more -c CMD (try -c help)");
            return Run(context, path, parse.GetValue(ns), lines);
        });
        return cmd;
    }

    private static int Run(CliContext context, string path, string? namespaceName, string[] commands)
    {
        FsImageDevice image;
        try
        {
            image = FsImageDevice.Open(context, path, namespaceName, readOnly: true);
        }
        catch (Exception e) when (e is NamespaceException or PmemProbeException)
        {
            return context.Fail(Command, e.Message);
        }
        using (image)
        {
            XfsMetadataReader reader;
            try
            {
                reader = XfsMetadataReader.Open(image.Device, trustPrimary: true);
            }
            catch (XfsException e)
            {
                return context.Fail(Command, $"{path} is not a valid XFS filesystem: {e.Message}");
            }
            if (reader.PrimaryError != null)
                context.Error.WriteLine($"{Command}: {reader.PrimaryError.Message}");
            var session = new XfsDbSession(reader, context.Out, context.Error);
            bool ok = true;
            foreach (var c in commands)
                ok &= session.Execute(c);
            return ok ? 0 : 1;
        }
    }
}
