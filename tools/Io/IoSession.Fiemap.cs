using DaxStack.Fs.Vfs;

namespace DaxStack.Tools.Io;

// fiemap [-alv] [-n nx] [offset [len]]: io/fiemap.c, in 512-byte units, plain or as a table.
public sealed partial class IoSession
{
    private const int ExtentBatch = 32;

    private bool FiemapCommand(string[] argv)
    {
        bool lflag = false, vflag = false;
        int maxExtents = -1;
        var flags = FiemapFlags.FIEMAP_FLAG_SYNC;
        var g = new IoGetopt(argv, "aln:v");
        int c;
        while ((c = g.Next()) != -1)
        {
            switch (c)
            {
                case 'a': flags |= FiemapFlags.FIEMAP_FLAG_XATTR; break;
                case 'l': lflag = true; break;
                case 'v': vflag = true; break;
                case 'n':
                    if (!int.TryParse(g.Optarg, System.Globalization.NumberStyles.Integer, C, out maxExtents))
                        return Usage("fiemap");
                    break;
                default: return Usage("fiemap");
            }
        }

        long startOffset = 0, rangeEnd = -1;
        long lastLogical = 0;
        int optind = g.Optind;
        if (optind < argv.Length)
        {
            startOffset = CvtNum(argv[optind]);
            if (startOffset < 0)
            {
                Out.WriteLine($"non-numeric offset argument -- {argv[optind]}");
                return false;
            }
            lastLogical = startOffset;
            optind++;
        }
        if (optind < argv.Length)
        {
            long length = CvtNum(argv[optind]);
            if (length < 0)
            {
                Out.WriteLine($"non-numeric len argument -- {argv[optind]}");
                return false;
            }
            rangeEnd = startOffset + length;
        }

        var widths = new FiemapWidths();
        int cur = 0;
        bool done = false;
        Out.WriteLine($"{File.Name}:");
        while (!done)
        {
            // fm_length is unsigned: with no length, (u64)-1 - start covers everything.
            var fm = new Fiemap(lastLogical, rangeEnd - lastLogical, flags, ExtentBatch);
            try
            {
                Process.Fiemap(Fd, fm);
            }
            catch (ErrnoException e)
            {
                Error.WriteLine($"{ProgName}: ioctl(FS_IOC_FIEMAP) [\"{File.Name}\"]: {e.StrError}");
                return false;
            }
            if (fm.MappedExtents == 0)
                break;

            for (int i = 0; i < fm.MappedExtents; i++)
            {
                var extent = fm.Extents[i];
                if (vflag && cur == 0)
                    widths.Fit(fm);
                cur += vflag ? PrintVerbose(extent, widths, cur, lastLogical, maxExtents) : PrintPlain(extent, lflag, cur, lastLogical, maxExtents);
                lastLogical = extent.Logical + extent.Length;
                if ((extent.Flags & FiemapExtentFlags.FIEMAP_EXTENT_LAST) != 0
                    || (ulong)lastLogical >= (ulong)rangeEnd
                    || cur == maxExtents)
                {
                    done = true;
                    break;
                }
            }
        }

        if (cur == maxExtents)
            return true;

        long size;
        try
        {
            size = Process.Fstat(Fd).Size;
        }
        catch (ErrnoException e)
        {
            Error.WriteLine($"{ProgName}: fstat failed: {e.StrError}");
            return false;
        }

        // The hole from the last extent to the end of file or of the asked range.
        ulong end = Math.Min((ulong)rangeEnd, (ulong)size);
        if (cur != 0 && (ulong)lastLogical < end)
            PrintHole(widths, cur, lflag, !vflag, (ulong)lastLogical >> 9, end >> 9);
        return true;
    }

    private int PrintVerbose(FiemapExtent extent, FiemapWidths w, int cur, long lastLogical, int maxExtents)
    {
        ulong llast = (ulong)lastLogical >> 9;
        ulong lstart = (ulong)extent.Logical >> 9;
        ulong len = (ulong)extent.Length >> 9;
        ulong block = (ulong)extent.Physical >> 9;
        int printed = 0;
        if (cur == 0)
            Out.WriteLine($"{"EXT",4}: {"FILE-OFFSET".PadRight(w.FileOffset)} {"BLOCK-RANGE".PadRight(w.BlockRange)} {"TOTAL".PadLeft(w.Total)} {"FLAGS".PadLeft(w.Flags)}");
        if (lstart > llast)
        {
            PrintHole(w, cur, false, false, llast, lstart);
            cur++;
            printed++;
        }
        if (cur == maxExtents)
            return printed;
        string lbuf = $"[{lstart}..{lstart + len - 1}]:";
        string bbuf = $"{block}..{block + len - 1}";
        string flg = $"0x{(uint)extent.Flags:x}";
        Out.WriteLine($"{cur,4}: {lbuf.PadRight(w.FileOffset)} {bbuf.PadRight(w.BlockRange)} {len.ToString(C).PadLeft(w.Total)} {flg.PadLeft(w.Flags)}");
        return printed + 1;
    }

    private int PrintPlain(FiemapExtent extent, bool lflag, int cur, long lastLogical, int maxExtents)
    {
        ulong llast = (ulong)lastLogical >> 9;
        ulong lstart = (ulong)extent.Logical >> 9;
        ulong len = (ulong)extent.Length >> 9;
        ulong block = (ulong)extent.Physical >> 9;
        int printed = 0;
        if (lstart > llast)
        {
            PrintHole(default, cur, lflag, true, llast, lstart);
            cur++;
            printed++;
        }
        if (cur == maxExtents)
            return printed;
        Out.WriteLine($"\t{cur}: [{lstart}..{lstart + len - 1}]: {block}..{block + len - 1}" + (lflag ? $" {len} blocks" : ""));
        return printed + 1;
    }

    private void PrintHole(FiemapWidths w, int cur, bool lflag, bool plain, ulong llast, ulong lstart)
    {
        if (plain)
        {
            Out.WriteLine($"\t{cur}: [{llast}..{lstart - 1}]: hole" + (lflag ? $" {lstart - llast} blocks" : ""));
            return;
        }
        string lbuf = $"[{llast}..{lstart - 1}]:";
        Out.WriteLine($"{cur,4}: {lbuf.PadRight(w.FileOffset)} {"hole".PadRight(w.BlockRange)} {(lstart - llast).ToString(C).PadLeft(w.Total)}");
    }
}
