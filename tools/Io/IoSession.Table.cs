namespace DaxStack.Tools.Io;

// The command table and help (libxcmd/help.c): xfs_io's names, short names, argument counts,
// usage and one-line help, plus our own namespace and crash commands.
public sealed partial class IoSession
{
    private static IoCommandInfo[] BuildCommandTable()
    {
        IoCommandInfo[] table =
        [
            new("open", "o", 0, -1, true, "[-acdfnrstD] [-m mode] [path]", "open the file specified by path", static (s, a) => s.OpenCommand(a)),
            new("close", "c", 0, 0, false, null, "close the current open file", static (s, a) => s.CloseCommand()),
            new("pwrite", "w", 2, -1, false, "[-b bs] [-S seed] [-qwW] off len", "writes a number of bytes at a specified offset", static (s, a) => s.PwriteCommand(a)),
            new("pread", "r", 2, -1, false, "[-b bs] [-qv] off len", "reads a number of bytes at a specified offset", static (s, a) => s.PreadCommand(a)),
            new("fsync", "s", 0, 0, false, null, "calls fsync(2) to flush all in-core file state to disk", static (s, a) => s.FsyncCommand(dataSync: false)),
            new("fdatasync", "ds", 0, 0, false, null, "calls fdatasync(2) to flush the files in-core data to disk", static (s, a) => s.FsyncCommand(dataSync: true)),
            new("truncate", "t", 1, 1, false, "off", "truncates the current file at the given offset", static (s, a) => s.TruncateCommand(a)),
            new("falloc", null, 2, -1, false, "[-c] [-i] [-k] [-p] [-u] off len", "allocates space associated with part of a file via fallocate", static (s, a) => s.FallocCommand(a)),
            new("fpunch", null, 2, 2, false, "off len", "de-allocates space associated with part of a file via fallocate", static (s, a) => s.FallocateRange(a, 1, Fs.Vfs.FallocateFlags.FALLOC_FL_PUNCH_HOLE | Fs.Vfs.FallocateFlags.FALLOC_FL_KEEP_SIZE)),
            new("fcollapse", null, 2, 2, false, "off len", "de-allocates space and eliminates the hole by shifting extents", static (s, a) => s.FallocateRange(a, 1, Fs.Vfs.FallocateFlags.FALLOC_FL_COLLAPSE_RANGE)),
            new("finsert", null, 2, 2, false, "off len", "creates new space for writing within file by shifting extents", static (s, a) => s.FallocateRange(a, 1, Fs.Vfs.FallocateFlags.FALLOC_FL_INSERT_RANGE)),
            new("fzero", null, 2, 3, false, "[-k] off len", "zeroes space and eliminates holes by preallocating", static (s, a) => s.FzeroCommand(a)),
            new("funshare", null, 2, 2, false, "off len", "unshares shared blocks within the range", static (s, a) => s.FallocateRange(a, 1, Fs.Vfs.FallocateFlags.FALLOC_FL_UNSHARE_RANGE)),
            new("fiemap", null, 0, -1, false, "[-alv] [-n nx] [offset [len]]", "print block mapping for a file", static (s, a) => s.FiemapCommand(a)),
            new("reflink", "rl", 1, -1, false, "infile [src_off dst_off len]", "reflinks an entire file, or a number of bytes at a specified offset", static (s, a) => s.ReflinkCommand(a)),
            new("lsattr", null, 0, 1, false, "[-a|-v]", "list extended inode flags set on the currently open file", static (s, a) => s.LsattrCommand(a)),
            new("chattr", null, 1, -1, false, $"[+/-{IoXflags.ChattrLetters}]", "change extended inode flags on the currently open file", static (s, a) => s.ChattrCommand(a)),
            new("stat", null, 0, 1, false, "[-v|-r]", "statistics on the currently open file", static (s, a) => s.StatCommand(a)),
            new("help", "?", 0, 1, true, "[command]", "help for one or all commands", static (s, a) => s.HelpCommand(a)),
            new("quit", "q", 0, 0, true, null, "exit the program", static (s, a) => s.QuitCommand()),
            new("mkdir", null, 1, -1, true, "[-m mode] path", "creates a directory (mkdir(2), mode 0777 less the umask by default)", static (s, a) => s.MkdirCommand(a)),
            new("rmdir", null, 1, 1, true, "path", "removes an empty directory (rmdir(2))", static (s, a) => s.PathCommand(a, "rmdir", p => s.Process.Rmdir(p))),
            new("unlink", null, 1, 1, true, "path", "removes a name of a file (unlink(2))", static (s, a) => s.PathCommand(a, "unlink", p => s.Process.Unlink(p))),
            new("rename", null, 2, 2, true, "oldpath newpath", "renames a file or directory (rename(2))", static (s, a) => s.TwoPathCommand(a, "rename", (o, n) => s.Process.Rename(o, n))),
            new("link", null, 2, 2, true, "oldpath newpath", "makes a new name for a file (link(2))", static (s, a) => s.TwoPathCommand(a, "link", (o, n) => s.Process.Link(o, n))),
            new("ls", null, 0, -1, true, "[-l] [path]", "lists a directory (default the root): names, or with -l mode, links, owner, size and name", static (s, a) => s.LsCommand(a)),
            new("crash", null, 0, -1, true, "[-p strict|random:SEED|all]", "power failure of the emulated device now; no further command runs (the next run recovers)", static (s, a) => s.CrashCommand(a)),
        ];
        Array.Sort(table, static (x, y) => string.CompareOrdinal(x.Name, y.Name));
        return table;
    }

    // help_oneline: "name (or alt) args -- oneline", or with a name given "name args -- oneline".
    private static string HelpLine(IoCommandInfo ct, string? asked)
    {
        string head = asked != null ? $"{asked} " : $"{ct.Name} " + (ct.AltName != null ? $"(or {ct.AltName}) " : "");
        return head + (ct.Args != null ? $"{ct.Args} " : "") + $"-- {ct.OneLine}";
    }

    private bool HelpCommand(string[] argv)
    {
        if (argv.Length == 1)
        {
            foreach (var ct in CommandTable)
                Out.WriteLine(HelpLine(ct, null));
            Out.WriteLine();
            Out.WriteLine("Use 'help commandname' for extended help.");
            return true;
        }

        var found = Find(argv[1]);
        if (found == null)
        {
            Out.WriteLine($"command {argv[1]} not found");
            return false;
        }
        Out.WriteLine(HelpLine(found, argv[1]));
        return true;
    }

    private bool QuitCommand()
    {
        Stopped = true;
        return true;
    }
}
