using System.Diagnostics;
using DaxStack.Fs.Vfs;

namespace DaxStack.Tools.Io;

// pwrite, pread, fsync, fdatasync, truncate, the fallocate family and reflink: io/pwrite.c,
// io/pread.c, io/fsync.c, io/truncate.c, io/prealloc.c, io/reflink.c.
public sealed partial class IoSession
{
    // -b BSIZE of pread and pwrite: a size with xfs_io's suffixes, or its message.
    private bool TryBlockSizeOption(string arg, out long bsize)
    {
        bsize = CvtNum(arg);
        if (bsize >= 0)
            return true;
        Out.WriteLine($"non-numeric bsize -- {arg}");
        return false;
    }

    // The block size pread and pwrite copy through: one buffer of it must be allocatable.
    private bool BlockSizeSupported(string command, long bsize)
    {
        if (bsize != 0 && bsize <= Array.MaxLength)
            return true;
        Out.WriteLine($"{command}: block size {bsize} is not supported");
        return false;
    }

    private bool PwriteCommand(string[] argv)
    {
        long bsize = BlockSize;
        uint seed = 0xcdcdcdcd;
        bool quiet = false, fdatasync = false, fsync = false;
        var g = new IoGetopt(argv, "b:qS:wW");
        int c;
        while ((c = g.Next()) != -1)
        {
            switch (c)
            {
                case 'b':
                    if (!TryBlockSizeOption(g.Optarg!, out bsize))
                        return false;
                    break;
                case 'S':
                    if (!IoFormat.TryParseUnsigned(g.Optarg!, out ulong s))
                    {
                        Out.WriteLine($"non-numeric seed -- {g.Optarg}");
                        return false;
                    }
                    seed = unchecked((uint)s);
                    break;
                case 'q': quiet = true; break;
                case 'w': fdatasync = true; break;
                case 'W': fsync = true; break;
                default: return Usage("pwrite");
            }
        }
        if (g.Optind != argv.Length - 2)
            return Usage("pwrite");
        if (!OffsetAndLength(argv, g.Optind, out long offset, out long count, "offset"))
            return false;
        if (!BlockSizeSupported(argv[0], bsize))
            return false;

        // alloc_buffer memsets the buffer with the seed: its low byte is the pattern.
        var buffer = Buffer((int)bsize, unchecked((byte)seed));
        var watch = Stopwatch.StartNew();
        long total = 0;
        int ops = 0;
        try
        {
            // write_buffer: block-sized writes forward until the count is done or a write is short.
            long bar = Math.Min(bsize, count);
            long pos = offset, left = count;
            while (left >= 0)
            {
                int want = (int)Math.Min(left, bar);
                int bytes = Process.Pwrite(Fd, buffer[..want], pos);
                if (bytes == 0)
                    break;
                ops++;
                total += bytes;
                if (bytes < want)
                    break;
                pos += bytes;
                left -= bytes;
                if (left == 0)
                    break;
            }
        }
        catch (ErrnoException e)
        {
            return Perror("pwrite", e);
        }
        if ((fsync && !FsyncCommand(dataSync: false)) || (fdatasync && !FsyncCommand(dataSync: true)))
            return false;
        if (!quiet)
            IoFormat.ReportIoTimes(Out, "wrote", watch.Elapsed, offset, count, total, ops);
        return true;
    }

    private bool PreadCommand(string[] argv)
    {
        long bsize = BlockSize;
        bool quiet = false, verbose = false;
        var g = new IoGetopt(argv, "b:qv");
        int c;
        while ((c = g.Next()) != -1)
        {
            switch (c)
            {
                case 'b':
                    if (!TryBlockSizeOption(g.Optarg!, out bsize))
                        return false;
                    break;
                case 'q': quiet = true; break;
                case 'v': verbose = true; break;
                default: return Usage("pread");
            }
        }
        if (g.Optind != argv.Length - 2)
            return Usage("pread");
        if (!OffsetAndLength(argv, g.Optind, out long offset, out long count, "length"))
            return false;
        if (!BlockSizeSupported(argv[0], bsize))
            return false;

        var buffer = Buffer((int)bsize, 0xab);
        var watch = Stopwatch.StartNew();
        long total = 0;
        int ops = 0;
        try
        {
            // read_forward: block-sized reads until the count is done, end of file or a short read.
            long pos = offset, left = count;
            while (left > 0)
            {
                int want = (int)Math.Min(left, bsize);
                int bytes = Process.Pread(Fd, buffer[..want], pos);
                if (bytes == 0)
                    break;
                ops++;
                if (verbose)
                    IoFormat.DumpBuffer(Out, buffer[..bytes], pos);
                total += bytes;
                if (bytes < want)
                    break;
                pos += bytes;
                left -= bytes;
            }
        }
        catch (ErrnoException e)
        {
            return Perror("pread", e);
        }
        if (!quiet)
            IoFormat.ReportIoTimes(Out, "read", watch.Elapsed, offset, count, total, ops);
        return true;
    }

    // pwrite says "non-numeric offset argument" and "non-numeric length argument"; pread says
    // "length" for both (xfs_io's wording).
    private bool OffsetAndLength(string[] argv, int at, out long offset, out long length, string offsetWord)
    {
        length = 0;
        offset = CvtNum(argv[at]);
        if (offset < 0)
        {
            Out.WriteLine($"non-numeric {offsetWord} argument -- {argv[at]}");
            return false;
        }
        length = CvtNum(argv[at + 1]);
        if (length < 0)
        {
            Out.WriteLine($"non-numeric length argument -- {argv[at + 1]}");
            return false;
        }
        return true;
    }

    private bool FsyncCommand(bool dataSync)
    {
        try
        {
            if (dataSync)
                Process.Fdatasync(Fd);
            else
                Process.Fsync(Fd);
        }
        catch (ErrnoException e)
        {
            return Perror(dataSync ? "fdatasync" : "fsync", e);
        }
        return true;
    }

    private bool TruncateCommand(string[] argv)
    {
        long size = CvtNum(argv[1]);
        if (size < 0)
        {
            Out.WriteLine($"non-numeric truncate argument -- {argv[1]}");
            return false;
        }
        try
        {
            Process.Ftruncate(Fd, size);
        }
        catch (ErrnoException e)
        {
            return Perror("ftruncate", e);
        }
        return true;
    }

    private bool FallocCommand(string[] argv)
    {
        // Each option replaces the mode, as in xfs_io: the last one wins.
        var mode = FallocateFlags.None;
        var g = new IoGetopt(argv, "cikpu");
        int c;
        while ((c = g.Next()) != -1)
        {
            switch (c)
            {
                case 'c': mode = FallocateFlags.FALLOC_FL_COLLAPSE_RANGE; break;
                case 'i': mode = FallocateFlags.FALLOC_FL_INSERT_RANGE; break;
                case 'k': mode = FallocateFlags.FALLOC_FL_KEEP_SIZE; break;
                case 'p': mode = FallocateFlags.FALLOC_FL_PUNCH_HOLE | FallocateFlags.FALLOC_FL_KEEP_SIZE; break;
                case 'u': mode = FallocateFlags.FALLOC_FL_UNSHARE_RANGE; break;
                default: return Usage("falloc");
            }
        }
        if (g.Optind != argv.Length - 2)
            return Usage("falloc");
        return FallocateRange(argv, g.Optind, mode);
    }

    private bool FzeroCommand(string[] argv)
    {
        var mode = FallocateFlags.FALLOC_FL_ZERO_RANGE;
        var g = new IoGetopt(argv, "k");
        int c;
        while ((c = g.Next()) != -1)
        {
            if (c != 'k')
                return Usage("fzero");
            mode |= FallocateFlags.FALLOC_FL_KEEP_SIZE;
        }
        if (g.Optind != argv.Length - 2)
            return Usage("fzero");
        return FallocateRange(argv, g.Optind, mode);
    }

    // offset_length + fallocate(2); every fallocate command reports errors as "fallocate".
    private bool FallocateRange(string[] argv, int at, FallocateFlags mode)
    {
        if (argv.Length - at != 2)
            return Usage(argv[0]);
        if (!OffsetAndLength(argv, at, out long offset, out long length, "offset"))
            return false;
        try
        {
            Process.Fallocate(Fd, mode, offset, length);
        }
        catch (ErrnoException e)
        {
            return Perror("fallocate", e);
        }
        return true;
    }

    private bool ReflinkCommand(string[] argv)
    {
        var g = new IoGetopt(argv, "q");
        bool quiet = false;
        int c;
        while ((c = g.Next()) != -1)
        {
            if (c != 'q')
                return Usage("reflink");
            quiet = true;
        }
        int optind = g.Optind;
        if (optind != argv.Length - 4 && optind != argv.Length - 1)
            return Usage("reflink");
        string infile = argv[optind++];
        long srcOffset = 0, destOffset = 0, count = 0;
        if (optind < argv.Length)
        {
            srcOffset = CvtNum(argv[optind]);
            if (srcOffset < 0)
            {
                Out.WriteLine($"non-numeric src offset argument -- {argv[optind]}");
                return false;
            }
            destOffset = CvtNum(argv[optind + 1]);
            if (destOffset < 0)
            {
                Out.WriteLine($"non-numeric dest offset argument -- {argv[optind + 1]}");
                return false;
            }
            count = CvtNum(argv[optind + 2]);
            if (count < 0)
            {
                Out.WriteLine($"non-positive length argument -- {argv[optind + 2]}");
                return false;
            }
        }

        int srcFd;
        try
        {
            srcFd = Process.Open(infile, OpenFlags.O_RDONLY);
        }
        catch (ErrnoException e)
        {
            return Perror(infile, e);
        }

        try
        {
            var watch = Stopwatch.StartNew();
            bool whole = srcOffset == 0 && destOffset == 0 && count == 0;
            try
            {
                if (whole)
                    Process.Ficlone(Fd, srcFd);
                else
                    Process.FicloneRange(Fd, srcFd, srcOffset, count, destOffset);
            }
            catch (ErrnoException e)
            {
                return Perror(whole ? "XFS_IOC_CLONE" : "XFS_IOC_CLONE_RANGE", e);
            }
            if (!quiet)
                IoFormat.ReportIoTimes(Out, "linked", watch.Elapsed, destOffset, count, count, 1);
            return true;
        }
        finally
        {
            Process.Close(srcFd);
        }
    }
}
