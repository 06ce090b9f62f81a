using System.CommandLine;
using DaxStack.Device.Errors;
using DaxStack.Device.Namespaces;
using DaxStack.Driver.Pmem;
using DaxStack.Fs.Vfs;
using DaxStack.Tools.Cli;
using DaxStack.Tools.Io;

namespace DaxStack.Tools.Commands;

/// <summary>
/// <c>daxstack io [-f] [-r] [-t] [-a] [-s] [-d] [-c CMD]... [--uid N] [--gid N] [--cap-drop CAP]... IMAGE[:PATH]</c>:
/// mounts the filesystem on the image, opens PATH (if given) as xfs_io opens its file argument,
/// and runs the commands in order in one process (root with every capability unless
/// <c>--uid</c> or <c>--cap-drop</c> say otherwise) through <see cref="IoSession"/>. After the
/// last command the process exits and the filesystem is unmounted cleanly, unless a
/// <c>crash</c> command cut the power first. Exit status 1 if anything failed.
/// </summary>
/// <remarks>Models xfs_io (io/init.c: option parsing, opening the file arguments, running <c>-c</c> commands).</remarks>
public static class IoCommand
{
    private const string Command = "io";

    public static Command Create(CliContext context)
    {
        var commands = new Option<string[]>("-c")
        {
            Description = "A command to run (repeatable; run in order). 'help' lists them.",
            HelpName = "CMD",
            Arity = ArgumentArity.OneOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        var create = new Option<bool>("-f") { Description = "Create PATH if it does not exist (O_CREAT)." };
        var readOnly = new Option<bool>("-r") { Description = "Open PATH read-only (O_RDONLY)." };
        var truncate = new Option<bool>("-t") { Description = "Truncate PATH on open (O_TRUNC)." };
        var append = new Option<bool>("-a") { Description = "Open PATH append-only (O_APPEND)." };
        var sync = new Option<bool>("-s") { Description = "Open PATH with O_SYNC." };
        var direct = new Option<bool>("-d") { Description = "Open PATH with O_DIRECT." };
        var uid = new Option<uint?>("--uid") { Description = "Run as this user id, with no capabilities (default: root with every capability).", HelpName = "N" };
        var gid = new Option<uint?>("--gid") { Description = "Run with this group id (default: the user id).", HelpName = "N" };
        var capDrop = new Option<string[]>("--cap-drop")
        {
            Description = "Drop a capability (repeatable): CAP_SYS_ADMIN, CAP_LINUX_IMMUTABLE, CAP_DAC_OVERRIDE, ...",
            HelpName = "CAP",
            Arity = ArgumentArity.OneOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        var ns = new Option<string?>("--namespace") { Description = "The namespace holding the filesystem (namespaceR.N, R.N or its name). Default: the image's only raw or fsdax namespace.", HelpName = "NAMESPACE" };
        // Required (the PATH part is optional): the parser reports it missing, and the usage line shows
        // <IMAGE[:PATH]>, not [<IMAGE[:PATH]>].
        var target = new Argument<string>("IMAGE[:PATH]") { Description = "The image file, and the file in it to open.", Arity = ArgumentArity.ExactlyOne };
        var cmd = new Command(Command, "Run xfs_io-like commands on a file of the filesystem on an image.");
        foreach (var o in new Option[] { commands, create, readOnly, truncate, append, sync, direct, uid, gid, capDrop, ns })
            cmd.Options.Add(o);
        cmd.Arguments.Add(target);
        cmd.SetAction(parse =>
        {
            string? spec = parse.GetValue(target);
            if (string.IsNullOrEmpty(spec))
                return context.Fail(Command, "no image given: daxstack io [-c CMD]... IMAGE[:PATH]");
            if (!TrySplitTarget(spec, out string image, out string? path))
                return context.Fail(Command, $"cannot open {spec}: No such file or directory");
            if (!TryCredentials(parse.GetValue(uid), parse.GetValue(gid), parse.GetValue(capDrop) ?? [], out var credentials, out string? bad))
                return context.Fail(Command, $"unknown capability '{bad}'");
            var flags = IoOpenFlags.None;
            if (parse.GetValue(create))
                flags |= IoOpenFlags.Create;
            if (parse.GetValue(readOnly))
                flags |= IoOpenFlags.ReadOnly;
            if (parse.GetValue(truncate))
                flags |= IoOpenFlags.Truncate;
            if (parse.GetValue(append))
                flags |= IoOpenFlags.Append;
            if (parse.GetValue(sync))
                flags |= IoOpenFlags.Sync;
            if (parse.GetValue(direct))
                flags |= IoOpenFlags.Direct;
            return Run(context, image, path, parse.GetValue(ns), flags, credentials, parse.GetValue(commands) ?? []);
        });
        return cmd;
    }

    /// <summary>
    /// Splits <c>IMAGE:PATH</c> at the first colon whose left part is an existing file (image
    /// names may themselves hold colons); a target that is an existing file is an image alone.
    /// </summary>
    internal static bool TrySplitTarget(string spec, out string image, out string? path)
    {
        for (int at = spec.IndexOf(':'); at > 0; at = spec.IndexOf(':', at + 1))
        {
            if (File.Exists(spec[..at]))
            {
                image = spec[..at];
                path = spec[(at + 1)..];
                return true;
            }
        }
        image = spec;
        path = null;
        return File.Exists(spec);
    }

    /// <summary>Root with every capability, or the <paramref name="uid"/> with none (as setuid to non-root leaves), less the dropped capabilities.</summary>
    internal static bool TryCredentials(uint? uid, uint? gid, string[] drops, out Credentials credentials, out string? bad)
    {
        credentials = uid is null or 0 ? Credentials.Root : Credentials.User(uid.Value, gid ?? uid.Value);
        if (gid != null)
            credentials = credentials with { Gid = gid.Value };
        foreach (var d in drops)
        {
            string name = d.StartsWith("CAP_", StringComparison.OrdinalIgnoreCase) ? d : "CAP_" + d;
            if (!Enum.TryParse<Capabilities>(name, ignoreCase: true, out var cap) || cap is Capabilities.None or Capabilities.All)
            {
                bad = d;
                return false;
            }
            credentials = credentials.Drop(cap);
        }
        bad = null;
        return true;
    }

    /// <summary>The filesystem type that mounts the image's XFS-like filesystem (recovering its log if it was not unmounted cleanly).</summary>
    internal static IFileSystemType OpenFileSystem(string imagePath, FsImageDevice image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return new DaxStack.Fs.Xfs.Super.XfsFileSystemType(image.Device);
    }

    private static int Run(CliContext context, string imagePath, string? path, string? namespaceName, IoOpenFlags flags, Credentials credentials, string[] lines)
    {
        FsImageDevice image;
        try
        {
            image = FsImageDevice.Open(context, imagePath, namespaceName, readOnly: false);
        }
        catch (Exception e) when (e is NamespaceException or PmemProbeException or IOException or UnauthorizedAccessException)
        {
            return context.Fail(Command, $"cannot open {imagePath}: {e.Message}");
        }
        using (image)
        {
            Vfs vfs;
            try
            {
                vfs = new Vfs(OpenFileSystem(imagePath, image));
            }
            catch (ErrnoException e)
            {
                return context.Fail(Command, $"cannot mount {imagePath}: {e.StrError}: {e.Message}");
            }

            var process = vfs.CreateProcess(credentials);
            var session = new IoSession(process, context.Out, context.Error, policy => image.Space.Crash(policy)) { ProgName = Command };
            // xfs_io exits 1 when its file argument cannot be opened: no command runs.
            int status = !string.IsNullOrEmpty(path) && !session.OpenFile(path, flags) ? 1 : session.Run(lines);
            if (session.Crashed)
                return status; // the power failed: no close, no unmount; the next run recovers

            // Process exit closes every file, then the filesystem is unmounted (put_super writes a clean log).
            try
            {
                process.Dispose();
                vfs.RootMount.Sb.Operations.PutSuper();
            }
            catch (ErrnoException e)
            {
                context.Fail(Command, $"unmount {imagePath}: {e.StrError}");
                return 1;
            }
            return status;
        }
    }
}
