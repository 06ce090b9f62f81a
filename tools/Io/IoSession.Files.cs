using DaxStack.Fs.Vfs;

namespace DaxStack.Tools.Io;

// open, close, stat, lsattr, chattr, fiemap: io/open.c, io/stat.c, io/attr.c, io/fiemap.c.
public sealed partial class IoSession
{
    private bool OpenCommand(string[] argv)
    {
        if (argv.Length == 1)
        {
            if (CurrentFile != null)
                return StatCommand(argv);
            Error.WriteLine("no files are open, try 'help open'");
            return false;
        }

        var flags = IoOpenFlags.None;
        uint mode = DefaultCreateMode;
        var g = new IoGetopt(argv, "acdDfm:nrst");
        int c;
        while ((c = g.Next()) != -1)
        {
            switch (c)
            {
                case 'a': flags |= IoOpenFlags.Append; break;
                case 'c':
                case 'f': flags |= IoOpenFlags.Create; break;
                case 'd': flags |= IoOpenFlags.Direct; break;
                case 'D': flags |= IoOpenFlags.DataSync; break;
                case 'n': flags |= IoOpenFlags.NonBlock; break;
                case 'r': flags |= IoOpenFlags.ReadOnly; break;
                case 's': flags |= IoOpenFlags.Sync; break;
                case 't': flags |= IoOpenFlags.Truncate; break;
                case 'm':
                    if (!IoFormat.TryParseUnsigned(g.Optarg!, out ulong m) || m > 0xFFF)
                    {
                        Out.WriteLine($"non-numeric mode -- {g.Optarg}");
                        return false;
                    }
                    mode = (uint)m;
                    break;
                default: return Usage("open");
            }
        }
        if (g.Optind != argv.Length - 1)
            return Usage("open");
        return OpenAndAdd(argv[g.Optind], flags, mode);
    }

    private bool CloseCommand()
    {
        try
        {
            Process.Close(Fd);
        }
        catch (ErrnoException e)
        {
            return Perror("close", e);
        }
        _files.RemoveAt(_current);
        if (_current == _files.Count)
            _current--;
        PrintFileList();
        return true;
    }

    private bool StatCommand(string[] argv)
    {
        bool verbose = false, raw = false;
        var g = new IoGetopt(argv, "rv");
        int c;
        while ((c = g.Next()) != -1)
        {
            switch (c)
            {
                case 'r': raw = true; break;
                case 'v': verbose = true; break;
                default: return Usage("stat");
            }
        }
        if ((raw && verbose) || g.Optind != argv.Length)
            return Usage("stat");

        Stat st;
        try
        {
            st = Process.Fstat(Fd);
        }
        catch (ErrnoException e)
        {
            return Perror("fstat", e);
        }

        if (raw)
        {
            DumpRawStat(st);
            return true;
        }

        Out.WriteLine($"fd.path = \"{File.Name}\"");
        Out.WriteLine($"fd.flags = {FileFlags(File.Flags, withKind: false)}");
        Out.WriteLine($"stat.ino = {st.Ino}");
        Out.WriteLine($"stat.type = {FileType(st.Mode)}");
        Out.WriteLine($"stat.size = {st.Size}");
        Out.WriteLine($"stat.blocks = {st.Blocks}");
        if (verbose)
        {
            Out.WriteLine($"stat.atime = {CTime(st.Atime)}");
            Out.WriteLine($"stat.mtime = {CTime(st.Mtime)}");
            Out.WriteLine($"stat.ctime = {CTime(st.Ctime)}");
        }

        // print_xfs_info: every filesystem here answers FS_IOC_FSGETXATTR, so the fsxattr lines
        // are printed for all of them (xfs_io skips them on foreign files). The attribute-fork
        // count (naextents) and dioattr lines are not printed: no ioctl reports them here.
        FsXattr fsx;
        try
        {
            fsx = Process.FsGetXattr(Fd);
        }
        catch (ErrnoException e)
        {
            return Perror("FS_IOC_FSGETXATTR", e);
        }
        Out.WriteLine($"fsxattr.xflags = 0x{(uint)fsx.XFlags:x} {IoXflags.Format(fsx.XFlags, verbose, braces: true)}");
        Out.WriteLine($"fsxattr.projid = {fsx.ProjId}");
        Out.WriteLine($"fsxattr.extsize = {fsx.ExtSize}");
        Out.WriteLine($"fsxattr.cowextsize = {fsx.CowExtSize}");
        Out.WriteLine($"fsxattr.nextents = {fsx.NExtents}");
        return true;
    }

    private void DumpRawStat(Stat st)
    {
        Out.WriteLine($"stat.blksize = {st.Blksize}");
        Out.WriteLine($"stat.nlink = {st.Nlink}");
        Out.WriteLine($"stat.uid = {st.Uid}");
        Out.WriteLine($"stat.gid = {st.Gid}");
        Out.WriteLine($"stat.mode: 0{Convert.ToString(st.Mode, 8)}");
        Out.WriteLine($"stat.ino = {st.Ino}");
        Out.WriteLine($"stat.size = {st.Size}");
        Out.WriteLine($"stat.blocks = {st.Blocks}");
        Out.WriteLine($"stat.atime.tv_sec = {st.Atime.Seconds}");
        Out.WriteLine($"stat.atime.tv_nsec = {st.Atime.Nanoseconds}");
        Out.WriteLine($"stat.ctime.tv_sec = {st.Ctime.Seconds}");
        Out.WriteLine($"stat.ctime.tv_nsec = {st.Ctime.Nanoseconds}");
        Out.WriteLine($"stat.mtime.tv_sec = {st.Mtime.Seconds}");
        Out.WriteLine($"stat.mtime.tv_nsec = {st.Mtime.Nanoseconds}");
        Out.WriteLine("stat.rdev_major = 0");
        Out.WriteLine("stat.rdev_minor = 0");

        // glibc's major()/minor() of st_dev.
        ulong dev = st.Dev;
        ulong major = ((dev >> 8) & 0xfff) | ((dev >> 32) & ~0xfffUL);
        ulong minor = (dev & 0xff) | ((dev >> 12) & ~0xffUL);
        Out.WriteLine($"stat.dev_major = {(uint)major}");
        Out.WriteLine($"stat.dev_minor = {(uint)minor}");
    }

    private static string FileType(uint mode) => (mode & InodeMode.S_IFMT) switch
    {
        InodeMode.S_IFSOCK => "socket",
        InodeMode.S_IFDIR => "directory",
        InodeMode.S_IFCHR => "char device",
        InodeMode.S_IFBLK => "block device",
        InodeMode.S_IFREG => "regular file",
        InodeMode.S_IFLNK => "symbolic link",
        InodeMode.S_IFIFO => "fifo",
        _ => "(null)",
    };

    // ctime(3) in UTC: "Thu Jan  1 00:00:00 1970".
    private static string CTime(Timespec t)
    {
        var d = DateTimeOffset.FromUnixTimeSeconds(t.Seconds).UtcDateTime;
        return d.ToString("ddd MMM ", C) + d.Day.ToString(C).PadLeft(2) + d.ToString(" HH:mm:ss yyyy", C);
    }

    private bool LsattrCommand(string[] argv)
    {
        bool all = false, verbose = false;
        var g = new IoGetopt(argv, "av");
        int c;
        while ((c = g.Next()) != -1)
        {
            switch (c)
            {
                case 'a': all = true; break;
                case 'v': verbose = true; break;
                default: return Usage("lsattr");
            }
        }
        if (g.Optind != argv.Length)
            return Usage("lsattr");

        FsXattr fsx;
        try
        {
            fsx = Process.FsGetXattr(Fd);
        }
        catch (ErrnoException e)
        {
            Error.WriteLine($"{ProgName}: cannot get flags on {File.Name}: {e.StrError}");
            return false;
        }

        // printxattr(flags, vflag, !aflag, name, vflag, !aflag), then with -a every flag.
        string text = IoXflags.Format(fsx.XFlags, verbose, braces: verbose);
        if (all)
            Out.WriteLine($"{text}/{IoXflags.Format((FsXflags)uint.MaxValue, verbose: false, braces: false)} {File.Name} ");
        else
            Out.WriteLine($"{text} {File.Name} ");
        return true;
    }

    private bool ChattrCommand(string[] argv)
    {
        FsXflags set = 0, clear = 0;
        for (int i = 1; i < argv.Length; i++)
        {
            string word = argv[i];
            if (word[0] != '+' && word[0] != '-')
            {
                Error.WriteLine($"{ProgName}: bad chattr command, not +/-X");
                return false;
            }
            foreach (char letter in word.AsSpan(1))
            {
                if (!IoXflags.TryParseLetter(letter, out var flag))
                {
                    Error.WriteLine($"{ProgName}: unknown flag");
                    return false;
                }
                if (word[0] == '+')
                    set |= flag;
                else
                    clear |= flag;
            }
        }

        FsXattr fsx;
        try
        {
            fsx = Process.FsGetXattr(Fd);
        }
        catch (ErrnoException e)
        {
            Error.WriteLine($"{ProgName}: cannot get flags on {File.Name}: {e.StrError}");
            return false;
        }
        try
        {
            Process.FsSetXattr(Fd, fsx with { XFlags = (fsx.XFlags | set) & ~clear });
        }
        catch (ErrnoException e)
        {
            Error.WriteLine($"{ProgName}: cannot set flags on {File.Name}: {e.StrError}");
            return false;
        }
        return true;
    }
}
