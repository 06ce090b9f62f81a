using System.Globalization;

namespace DaxStack.Tools.Cli;

/// <summary>
/// Numbers that come from configuration, or are computed from it, as the command line prints
/// them: in the command's usual format while they are of a sensible size, and past a limit in a
/// form a reader can take in (scientific notation; binary units for byte counts), so that a
/// setting such as 1e300 ns or a size near <see cref="long.MaxValue"/> does not print as dozens
/// or hundreds of digits or push a table's columns apart. Invariant culture throughout.
/// </summary>
public static class ReadableNumber
{
    /// <summary>Byte counts from this size (1 TiB) on are printed in binary units.</summary>
    public const long BytesInUnitsFrom = 1L << 40;

    private static readonly string[] BinaryUnits = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

    /// <summary>
    /// <paramref name="value"/> in <paramref name="format"/> when its magnitude is below
    /// <paramref name="limit"/> (or it is not finite), else in scientific notation with up to
    /// three decimals, e.g. 6.5e+10. <paramref name="scientific"/> replaces that format (to keep
    /// a sign, say).
    /// </summary>
    public static string Decimal(double value, string format, double limit, string scientific = "0.###e+0") =>
        !double.IsFinite(value) || Math.Abs(value) < limit
            ? value.ToString(format, CultureInfo.InvariantCulture)
            : value.ToString(scientific, CultureInfo.InvariantCulture);

    /// <summary>
    /// <paramref name="bytes"/> as "N bytes" below <see cref="BytesInUnitsFrom"/>, else in the
    /// largest binary unit it reaches with up to two decimals, e.g. "64 PiB".
    /// </summary>
    public static string Bytes(long bytes)
    {
        if (bytes < BytesInUnitsFrom)
            return string.Create(CultureInfo.InvariantCulture, $"{bytes} bytes");
        int unit = 0;
        double value = bytes / 1024.0;
        while (value >= 1024 && unit < BinaryUnits.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return string.Create(CultureInfo.InvariantCulture, $"{value:0.##} {BinaryUnits[unit]}");
    }
}
