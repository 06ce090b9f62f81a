using System.Text;
using DaxStack.Device.Crash;
using DaxStack.Fs.Vfs;

namespace DaxStack.Tools.Io;

// Our own commands: mkdir, rmdir, unlink, rename, link, ls on the mounted image, and crash.
// Errors print "CMD: strerror" as xfs_io's perror does.
public sealed partial class IoSession
{
    private bool MkdirCommand(string[] argv)
    {
        uint mode = 0x1FF;
        var g = new IoGetopt(argv, "m:");
        int c;
        while ((c = g.Next()) != -1)
        {
            if (c != 'm' || !IoFormat.TryParseUnsigned(g.Optarg!, out ulong m) || m > 0xFFF)
                return Usage("mkdir");
            mode = (uint)m;
        }
        if (g.Optind != argv.Length - 1)
            return Usage("mkdir");
        try
        {
            Process.Mkdir(argv[g.Optind], mode);
        }
        catch (ErrnoException e)
        {
            return Perror("mkdir", e);
        }
        return true;
    }

    private bool PathCommand(string[] argv, string call, Action<string> operation)
    {
        try
        {
            operation(argv[1]);
        }
        catch (ErrnoException e)
        {
            return Perror(call, e);
        }
        return true;
    }

    private bool TwoPathCommand(string[] argv, string call, Action<string, string> operation)
    {
        try
        {
            operation(argv[1], argv[2]);
        }
        catch (ErrnoException e)
        {
            return Perror(call, e);
        }
        return true;
    }

    private bool LsCommand(string[] argv)
    {
        bool longForm = false;
        var g = new IoGetopt(argv, "l");
        int c;
        while ((c = g.Next()) != -1)
        {
            if (c != 'l')
                return Usage("ls");
            longForm = true;
        }
        if (g.Optind < argv.Length - 1)
            return Usage("ls");
        string dir = g.Optind < argv.Length ? argv[g.Optind] : "/";

        IReadOnlyList<DirEntry> entries;
        try
        {
            entries = Process.ReadDirectory(dir);
        }
        catch (ErrnoException e)
        {
            return Perror("ls", e);
        }

        bool ok = true;
        foreach (var entry in entries.OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            if (!longForm)
            {
                Out.WriteLine(entry.Name);
                continue;
            }
            Stat st;
            try
            {
                st = Process.Stat(dir.EndsWith('/') ? dir + entry.Name : dir + "/" + entry.Name);
            }
            catch (ErrnoException e)
            {
                ok = Perror("ls", e);
                continue;
            }
            Out.WriteLine($"{ModeString(st.Mode)} {st.Nlink,3} {st.Uid,5} {st.Gid,5} {st.Size,12} {entry.Name}");
        }
        return ok;
    }

    // ls -l's mode column: type letter and rwx triplets with setuid, setgid and sticky.
    private static string ModeString(uint mode)
    {
        var sb = new StringBuilder(10);
        sb.Append((mode & InodeMode.S_IFMT) switch
        {
            InodeMode.S_IFDIR => 'd',
            InodeMode.S_IFLNK => 'l',
            InodeMode.S_IFCHR => 'c',
            InodeMode.S_IFBLK => 'b',
            InodeMode.S_IFIFO => 'p',
            InodeMode.S_IFSOCK => 's',
            _ => '-',
        });
        for (int shift = 6; shift >= 0; shift -= 3)
        {
            uint bits = (mode >> shift) & 7;
            sb.Append((bits & 4) != 0 ? 'r' : '-');
            sb.Append((bits & 2) != 0 ? 'w' : '-');
            uint special = shift switch { 6 => InodeMode.S_ISUID, 3 => InodeMode.S_ISGID, _ => InodeMode.S_ISVTX };
            char exec = (bits & 1) != 0 ? 'x' : '-';
            if ((mode & special) != 0)
                exec = shift == 0 ? (exec == 'x' ? 't' : 'T') : (exec == 'x' ? 's' : 'S');
            sb.Append(exec);
        }
        return sb.ToString();
    }

    private bool CrashCommand(string[] argv)
    {
        var policy = CrashPolicy.Strict;
        var g = new IoGetopt(argv, "p:");
        int c;
        while ((c = g.Next()) != -1)
        {
            if (c != 'p')
                return Usage("crash");
            try
            {
                policy = CrashPolicy.Parse(g.Optarg!);
            }
            catch (FormatException)
            {
                return Usage("crash");
            }
        }
        if (g.Optind != argv.Length)
            return Usage("crash");
        if (_crash == null)
        {
            Error.WriteLine("crash: Operation not supported");
            return false;
        }

        // The power is gone: like xfs_io after its last command, nothing more runs.
        _crash(policy);
        Crashed = true;
        Stopped = true;
        Out.WriteLine($"crash: power failure ({policy}); no further command runs");
        return true;
    }
}
