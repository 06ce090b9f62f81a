using System.Globalization;

namespace DaxStack.Tools.Commands;

/// <summary>
/// Sizes on the ndctl command line and in its human-readable output: <c>4096</c>, <c>0x1000</c>,
/// <c>2M</c>, <c>1G</c> (binary multiples K, M, G, T, case-insensitive, optionally followed by
/// <c>iB</c> or <c>B</c>) in; <c>"1.00 GiB (1.07 GB)"</c> out.
/// </summary>
/// <remarks>Models ndctl's <c>parse_size64</c> and the <c>display_size</c> JSON serializer of its util/json.c.</remarks>
public static class NdctlSizes
{
    /// <summary>Sizes below this many bytes stay plain numbers in human-readable output.</summary>
    public const long HumanThreshold = 5000L * 1024;

    /// <summary>Parses <paramref name="text"/>; false if it is not a non-negative size that fits in 63 bits.</summary>
    public static bool TryParse(string? text, out long bytes)
    {
        bytes = 0;
        if (string.IsNullOrWhiteSpace(text))
            return false;
        string s = text.Trim();
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            return long.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out bytes) && bytes >= 0;

        int shift = 0;
        foreach (var suffix in new[] { "iB", "B" })
            if (s.Length > suffix.Length && s.EndsWith(suffix, StringComparison.OrdinalIgnoreCase) && char.IsLetter(s[^(suffix.Length + 1)]))
            {
                s = s[..^suffix.Length];
                break;
            }
        switch (char.ToUpperInvariant(s[^1]))
        {
            case 'K': shift = 10; break;
            case 'M': shift = 20; break;
            case 'G': shift = 30; break;
            case 'T': shift = 40; break;
        }
        if (shift != 0)
            s = s[..^1];
        if (!long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out long value))
            return false;
        if (value > long.MaxValue >> shift)
            return false;
        bytes = value << shift;
        return true;
    }

    /// <summary>
    /// ndctl's human form of a size: the plain number below 5000 KiB, else centi-MiB (below
    /// 2 GiB) or centi-GiB with the decimal MB or GB beside it, each rounded to nearest.
    /// </summary>
    public static string Human(long bytes)
    {
        if (bytes < HumanThreshold)
            return bytes.ToString(CultureInfo.InvariantCulture);
        bool small = bytes < 2L << 30;
        long binary = RoundedHundredths(bytes, small ? 1L << 20 : 1L << 30);
        long decimalUnits = RoundedHundredths(bytes, small ? 1_000_000 : 1_000_000_000);
        return string.Create(CultureInfo.InvariantCulture,
            $"{binary / 100}.{binary % 100:00} {(small ? "MiB" : "GiB")} ({decimalUnits / 100}.{decimalUnits % 100:00} {(small ? "MB" : "GB")})");
    }

    // Hundredths of bytes/unit, rounded half up, without overflowing for sizes up to 2^63.
    private static long RoundedHundredths(long bytes, long unit) =>
        (long)((UInt128)(ulong)bytes * 200 / (ulong)unit + 1) / 2;
}
