using System.Globalization;
using DaxStack.Device.Crash;
using DaxStack.Device.Errors;
using DaxStack.Fs.Vfs;

namespace DaxStack.Tools.Io;

/// <summary>
/// The <c>io</c> command runner: runs xfs_io-style command lines, in order, as one
/// <see cref="Fs.Vfs.Process"/> over a mounted <see cref="Fs.Vfs.Vfs"/>, keeping xfs_io's table
/// of open files with a current file. Output lines go to the output writer and error lines to
/// the error writer, each in xfs_io's words (<c>pwrite: No space left on device</c>). A command
/// that fails marks the session <see cref="Failed"/>; <c>crash</c> and <c>quit</c> mark it
/// <see cref="Stopped"/> and no further command runs. Not thread-safe: one caller runs it.
/// </summary>
/// <remarks>
/// Models xfs_io's command loop (io/init.c, libxcmd/command.c: <c>command()</c>, argument count
/// checks, <c>init_check_command</c>) and its file table (io/open.c, io/file.c).
/// </remarks>
public sealed partial class IoSession
{
    /// <summary>The mode of files <c>open -c</c> creates (xfs_io's default, 0600).</summary>
    public const uint DefaultCreateMode = 0x180;

    private const int SectorSize = 512;
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;
    private static readonly IoCommandInfo[] CommandTable = BuildCommandTable();

    private readonly List<IoFile> _files = new();
    private readonly Action<CrashPolicy>? _crash;
    private int _current = -1;

    // The pwrite/pread buffer, grown to the largest block size asked for and reused (xfs_io's
    // alloc_buffer "highwater"), so the data loops never allocate.
    private byte[] _buffer = [];

    /// <summary>A session running as <paramref name="process"/>; <paramref name="crash"/>, if given, is what the <c>crash</c> command calls.</summary>
    public IoSession(Fs.Vfs.Process process, TextWriter output, TextWriter error, Action<CrashPolicy>? crash = null)
    {
        ArgumentNullException.ThrowIfNull(process);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        Process = process;
        Out = output;
        Error = error;
        _crash = crash;
    }

    /// <summary>Every command, sorted by name as <c>help</c> lists them.</summary>
    public static IReadOnlyList<IoCommandInfo> Commands => CommandTable;

    /// <summary>The process the commands run as.</summary>
    public Fs.Vfs.Process Process { get; }

    /// <summary>Where output lines go (xfs_io's standard output).</summary>
    public TextWriter Out { get; }

    /// <summary>Where error lines go (xfs_io's standard error).</summary>
    public TextWriter Error { get; }

    /// <summary>The name error lines that name the program start with (xfs_io's <c>progname</c>); "io" by default.</summary>
    public string ProgName { get; init; } = "io";

    /// <summary>Some command failed.</summary>
    public bool Failed { get; private set; }

    /// <summary>A <c>crash</c> or <c>quit</c> ended the session: <see cref="Execute"/> runs nothing more.</summary>
    public bool Stopped { get; private set; }

    /// <summary>A <c>crash</c> ended the session: the caller must not unmount (the power is gone).</summary>
    public bool Crashed { get; private set; }

    /// <summary>The files open now, in the order they were opened.</summary>
    public IReadOnlyList<IoFile> Files => _files;

    /// <summary>The current file, or null when none is open.</summary>
    public IoFile? CurrentFile => _current >= 0 ? _files[_current] : null;

    /// <summary>
    /// Opens <paramref name="path"/> as xfs_io opens the files named on its command line, making it
    /// the current file; on failure prints <c>PATH: strerror</c>, marks the session failed and returns false.
    /// </summary>
    public bool OpenFile(string path, IoOpenFlags flags, uint mode = DefaultCreateMode)
    {
        ArgumentNullException.ThrowIfNull(path);
        bool ok = OpenAndAdd(path, flags, mode);
        if (!ok)
            Failed = true;
        return ok;
    }

    /// <summary>Runs <paramref name="lines"/> in order until one stops the session; returns the exit status: 0, or 1 if any command failed.</summary>
    public int Run(IEnumerable<string> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        foreach (var line in lines)
        {
            if (Stopped)
                break;
            Execute(line);
        }
        return Failed ? 1 : 0;
    }

    /// <summary>Runs one command line; returns false if it failed (or the session had stopped).</summary>
    public bool Execute(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        if (Stopped)
            return false;

        // breakline: words split on spaces, no quoting.
        string[] argv = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (argv.Length == 0)
            return true;
        var ct = Find(argv[0]);
        bool ok;
        if (ct == null)
        {
            Error.WriteLine($"command \"{argv[0]}\" not found");
            ok = false;
        }
        else if (CurrentFile == null && !ct.NoFileOk)
        {
            Error.WriteLine("no files are open, try 'help open'");
            ok = false;
        }
        else if (argv.Length - 1 < ct.ArgMin || (ct.ArgMax != -1 && argv.Length - 1 > ct.ArgMax))
        {
            Error.WriteLine(BadArgumentCount(ct, argv));
            ok = false;
        }
        else
            ok = ct.Handler(this, argv);

        if (!ok)
            Failed = true;
        return ok;
    }

    /// <summary>The command named <paramref name="name"/> or with that short name; null if there is none.</summary>
    public static IoCommandInfo? Find(string name) =>
        Array.Find(CommandTable, c => c.Name == name || c.AltName == name);

    private static string BadArgumentCount(IoCommandInfo ct, string[] argv)
    {
        int n = argv.Length - 1;
        if (ct.ArgMax == -1)
            return $"bad argument count {n} to {argv[0]}, expected at least {ct.ArgMin} arguments";
        if (ct.ArgMin == ct.ArgMax)
            return $"bad argument count {n} to {argv[0]}, expected {ct.ArgMin} arguments";
        return $"bad argument count {n} to {argv[0]}, expected between {ct.ArgMin} and {ct.ArgMax} arguments";
    }

    /// <summary>Prints the command's usage line (<c>NAME ARGS -- ONELINE</c>) and returns false: bad arguments are a failure.</summary>
    private bool Usage(string name)
    {
        var ct = Find(name)!;
        Out.WriteLine($"{ct.Name} {ct.Args} -- {ct.OneLine}");
        return false;
    }

    /// <summary>perror(call): <c>CALL: strerror</c> on the error stream; returns false.</summary>
    private bool Perror(string call, ErrnoException e)
    {
        Error.WriteLine($"{call}: {e.StrError}");
        return false;
    }

    private IoFile File => CurrentFile!;

    private int Fd => File.Fd;

    // init_cvtnum: "b" is the file system block size of the current file (4096 with none), "s" 512.
    private long BlockSize
    {
        get
        {
            if (CurrentFile == null)
                return 4096;
            try
            {
                return Process.Fstat(Fd).Blksize;
            }
            catch (ErrnoException)
            {
                return 4096;
            }
        }
    }

    private long CvtNum(string text) => IoFormat.CvtNum(text, BlockSize, SectorSize);

    private Span<byte> Buffer(int size, byte fill)
    {
        if (_buffer.Length < size)
            _buffer = new byte[size];
        var span = _buffer.AsSpan(0, size);
        span.Fill(fill);
        return span;
    }

    private bool OpenAndAdd(string path, IoOpenFlags flags, uint mode)
    {
        var oflags = (flags & IoOpenFlags.ReadOnly) != 0 ? OpenFlags.O_RDONLY : OpenFlags.O_RDWR;
        if ((flags & IoOpenFlags.Append) != 0)
            oflags |= OpenFlags.O_APPEND;
        if ((flags & IoOpenFlags.Create) != 0)
            oflags |= OpenFlags.O_CREAT;
        if ((flags & IoOpenFlags.Direct) != 0)
            oflags |= OpenFlags.O_DIRECT;
        if ((flags & IoOpenFlags.Sync) != 0)
            oflags |= OpenFlags.O_SYNC;
        if ((flags & IoOpenFlags.DataSync) != 0)
            oflags |= OpenFlags.O_DSYNC;
        if ((flags & IoOpenFlags.Truncate) != 0)
            oflags |= OpenFlags.O_TRUNC;
        if ((flags & IoOpenFlags.NonBlock) != 0)
            oflags |= OpenFlags.O_NONBLOCK;

        int fd;
        try
        {
            fd = Process.Open(path, oflags, mode);
        }
        catch (ErrnoException e) when (e.Errno == Errno.EISDIR && (oflags & OpenFlags.O_ACCMODE) == OpenFlags.O_RDWR)
        {
            // openfile: a directory is opened read-only instead.
            oflags &= ~OpenFlags.O_ACCMODE;
            flags |= IoOpenFlags.ReadOnly;
            try
            {
                fd = Process.Open(path, oflags, mode);
            }
            catch (ErrnoException again)
            {
                return Perror(path, again);
            }
        }
        catch (ErrnoException e)
        {
            return Perror(path, e);
        }

        if (!IsXfs(fd))
            flags |= IoOpenFlags.Foreign;
        _files.Add(new IoFile(fd, path, flags));
        _current = _files.Count - 1;
        return true;
    }

    // platform_test_xfs_fd: statfs's f_type is XFS_SUPER_MAGIC.
    private bool IsXfs(int fd)
    {
        const long XfsSuperMagic = 0x58465342;
        try
        {
            var st = Process.Fstat(fd);
            return Process.Vfs.Mounts.Any(m => m.Sb.Dev == st.Dev && m.Sb.Magic == XfsSuperMagic);
        }
        catch (ErrnoException)
        {
            return false;
        }
    }

    private static string FileFlags(IoOpenFlags f, bool withKind)
    {
        string kind = withKind ? ((f & IoOpenFlags.Foreign) != 0 ? "foreign," : "xfs,") : "";
        return kind
            + ((f & IoOpenFlags.Sync) != 0 ? "sync" : "non-sync") + ","
            + ((f & IoOpenFlags.Direct) != 0 ? "direct" : "non-direct") + ","
            + ((f & IoOpenFlags.ReadOnly) != 0 ? "read-only" : "read-write")
            + ((f & IoOpenFlags.Append) != 0 ? ",append-only" : "")
            + ((f & IoOpenFlags.NonBlock) != 0 ? ",non-block" : "")
            + ((f & IoOpenFlags.DataSync) != 0 ? ",dsync" : "");
    }

    // filelist_f: every open file, the current one in brackets.
    private void PrintFileList()
    {
        for (int i = 0; i < _files.Count; i++)
        {
            var f = _files[i];
            bool current = i == _current;
            Out.WriteLine($"{(current ? '[' : ' ')}{i.ToString("D3", C)}{(current ? ']' : ' ')} {f.Name,-14} ({FileFlags(f.Flags, withKind: true)})");
        }
    }
}
