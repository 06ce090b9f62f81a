using System.Globalization;

namespace DaxStack.Tools.Io;

/// <summary>
/// The number parsing and printing xfs_io's commands share: sizes with unit suffixes, byte
/// counts and rates in KiB/MiB/..., elapsed times, the two-line I/O report of pwrite and pread,
/// and the hex dump of <c>pread -v</c>. Output is byte-for-byte xfs_io's.
/// </summary>
/// <remarks>Models xfsprogs' <c>cvtnum</c>, <c>cvtstr</c>, <c>timestr</c>, <c>tdiv</c> (libfrog/convert.c, libfrog/util),
/// <c>report_io_times</c> (libxcmd/command.c) and <c>dump_buffer</c> (io/pread.c).</remarks>
public static class IoFormat
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>
    /// A size or offset: a C integer (decimal, 0x hex or 0 octal, optional sign) with an optional
    /// one-letter suffix b (file system blocks of <paramref name="blockSize"/>), s (sectors of
    /// <paramref name="sectorSize"/>), k, m, g, t, p, e (powers of 1024), any case. Returns -1 for
    /// text that is not such a number, or that overflows (callers treat every negative value as invalid).
    /// </summary>
    public static long CvtNum(string text, long blockSize, long sectorSize)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!TryParseCInteger(text, out long value, out int end))
            return -1;
        if (end == text.Length)
            return value;
        if (end != text.Length - 1)
            return -1;
        long unit = char.ToLowerInvariant(text[end]) switch
        {
            'b' => blockSize,
            's' => sectorSize,
            'k' => 1L << 10,
            'm' => 1L << 20,
            'g' => 1L << 30,
            't' => 1L << 40,
            'p' => 1L << 50,
            'e' => 1L << 60,
            _ => 0,
        };
        if (unit == 0)
            return -1;
        try
        {
            return checked(value * unit);
        }
        catch (OverflowException)
        {
            return -1;
        }
    }

    /// <summary>An unsigned C integer (strtoul with base 0, e.g. a pwrite seed) that must use all of <paramref name="text"/>; false otherwise.</summary>
    public static bool TryParseUnsigned(string text, out ulong value)
    {
        value = 0;
        if (!TryParseCInteger(text, out long v, out int end) || end != text.Length)
            return false;
        value = unchecked((ulong)v);
        return true;
    }

    // strtoll(s, &end, 0): leading blanks, sign, 0x hex / 0 octal / decimal; false when no digit.
    private static bool TryParseCInteger(string s, out long value, out int end)
    {
        value = 0;
        int i = 0;
        while (i < s.Length && char.IsWhiteSpace(s[i]))
            i++;
        bool negative = false;
        if (i < s.Length && (s[i] == '+' || s[i] == '-'))
            negative = s[i++] == '-';
        int radix = 10;
        if (i + 2 < s.Length && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X') && DigitValue(s[i + 2]) < 16)
        {
            radix = 16;
            i += 2;
        }
        else if (i < s.Length && s[i] == '0')
            radix = 8;

        int start = i;
        ulong v = 0;
        bool overflow = false;
        while (i < s.Length && DigitValue(s[i]) < radix)
        {
            ulong digit = (ulong)DigitValue(s[i]);
            if (v > (ulong.MaxValue - digit) / (ulong)radix)
                overflow = true;
            v = unchecked(v * (ulong)radix + digit);
            i++;
        }
        end = i;
        if (i == start)
            return false;
        // strtoll clamps on overflow; a clamped size is useless here, so it counts as invalid.
        if (overflow || v > long.MaxValue)
            return false;
        value = negative ? -(long)v : (long)v;
        return true;
    }

    private static int DigitValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => 99,
    };

    /// <summary>A byte count or rate as xfs_io prints it: "64 KiB", "1.220 GiB", "512.000000 bytes".</summary>
    public static string CvtStr(double value)
    {
        // cvtstr: whole numbers (that fit an int) print without decimals, others with three.
        bool precise = value is >= int.MinValue and <= int.MaxValue && value == Math.Truncate(value);
        (double unit, string name)[] units =
        [
            (1L << 60, "EiB"), (1L << 50, "PiB"), (1L << 40, "TiB"), (1L << 30, "GiB"), (1L << 20, "MiB"), (1L << 10, "KiB"),
        ];
        foreach (var (unit, name) in units)
        {
            if (value >= unit)
                return $"{Fixed(value / unit, precise ? 0 : 3)} {name}";
        }
        return $"{Fixed(value, 6)} bytes";
    }

    // printf("%.Nf"): glibc rounds halves to even.
    private static string Fixed(double value, int decimals)
    {
        if (double.IsInfinity(value))
            return value > 0 ? "inf" : "-inf";
        if (double.IsNaN(value))
            return "nan";
        return Math.Round(value, decimals, MidpointRounding.ToEven).ToString("F" + decimals.ToString(C), C);
    }

    /// <summary>An elapsed time as xfs_io prints it: "0.0012 sec" under a second, else "H:MM:SS.hh".</summary>
    public static string TimeStr(TimeSpan elapsed)
    {
        long micros = elapsed.Ticks / (TimeSpan.TicksPerMillisecond / 1000);
        long seconds = micros / 1_000_000;
        long usec = micros % 1_000_000;
        if (seconds == 0)
            return $"0.{(usec / 100).ToString("D4", C)} sec";
        return $"{(seconds / 3600).ToString(C)}:{(seconds % 3600 / 60).ToString("D2", C)}:{(seconds % 60).ToString("D2", C)}.{(usec / 10000).ToString("D2", C)}";
    }

    /// <summary>
    /// The two report lines of pwrite, pread and reflink: "VERB TOTAL/COUNT bytes at offset OFF"
    /// and "SIZE, N ops; TIME (RATE/sec and OPS ops/sec)". The elapsed time is taken as at least
    /// one microsecond (gettimeofday's resolution), so the rates stay finite.
    /// </summary>
    public static void ReportIoTimes(TextWriter output, string verb, TimeSpan elapsed, long offset, long count, long total, int ops)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (elapsed < TimeSpan.FromTicks(TimeSpan.TicksPerMillisecond / 1000))
            elapsed = TimeSpan.FromTicks(TimeSpan.TicksPerMillisecond / 1000);
        double seconds = elapsed.Ticks / (double)TimeSpan.TicksPerSecond;
        output.WriteLine($"{verb} {total.ToString(C)}/{count.ToString(C)} bytes at offset {offset.ToString(C)}");
        output.WriteLine($"{CvtStr(total)}, {ops.ToString(C)} ops; {TimeStr(elapsed)} ({CvtStr(total / seconds)}/sec and {Fixed(ops / seconds, 4)} ops/sec)");
    }

    /// <summary>
    /// <c>pread -v</c>'s dump: per 16 bytes, the file offset in 8 hex digits, the bytes in hex and
    /// their characters (letters and digits as themselves, anything else as '.').
    /// </summary>
    public static void DumpBuffer(TextWriter output, ReadOnlySpan<byte> buffer, long offset)
    {
        ArgumentNullException.ThrowIfNull(output);
        Span<char> line = stackalloc char[8 + 3 + 16 * 3 + 1 + 16];
        for (int i = 0; i < buffer.Length; i += 16)
        {
            int n = Math.Min(16, buffer.Length - i);
            int p = 0;
            ((ulong)(offset + i)).TryFormat(line, out int w, "x8", C);
            p += w;
            line[p++] = ':';
            line[p++] = ' ';
            line[p++] = ' ';
            for (int j = 0; j < n; j++)
            {
                buffer[i + j].TryFormat(line[p..], out w, "x2", C);
                p += w;
                line[p++] = ' ';
            }
            line[p++] = ' ';
            for (int j = 0; j < n; j++)
            {
                byte b = buffer[i + j];
                line[p++] = b < 0x80 && char.IsAsciiLetterOrDigit((char)b) ? (char)b : '.';
            }
            output.WriteLine(line[..p]);
        }
    }
}
