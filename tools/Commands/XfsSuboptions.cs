using System.Globalization;

namespace DaxStack.Tools.Commands;

/// <summary>
/// Parses xfsprogs-style option values: comma-separated <c>name=value</c> suboptions
/// (<c>-d agcount=4</c>, <c>-m crc=1,reflink=0</c>) and numbers as mkfs.xfs reads them
/// (decimal, 0x hex or 0 octal, with an optional unit suffix). Errors use mkfs.xfs's wording.
/// </summary>
/// <remarks>Models mkfs.xfs's <c>getsubopt</c> loop, <c>getnum</c> and <c>cvtnum</c> (mkfs/xfs_mkfs.c, libfrog/convert.c).</remarks>
internal sealed class XfsSuboptions(char option)
{
    private readonly HashSet<string> _seen = [];

    /// <summary>The option letter (<c>d</c> for <c>-d</c>).</summary>
    public char Option { get; } = option;

    /// <summary>Splits <paramref name="text"/> into suboptions; a repeated suboption (across calls too) is an error.</summary>
    public IEnumerable<(string Name, string? Value)> Split(string text)
    {
        foreach (var part in text.Split(','))
        {
            if (part.Length == 0)
                continue;
            int eq = part.IndexOf('=');
            string name = eq < 0 ? part : part[..eq];
            string? value = eq < 0 ? null : part[(eq + 1)..];
            if (!_seen.Add(name))
                throw new FormatException($"-{Option} {name} option respecified");
            yield return (name, value);
        }
    }

    /// <summary>The error for a suboption mkfs.xfs does not have.</summary>
    public FormatException Unknown(string name, string? value) =>
        new($"unknown option -{Option} {(value == null ? name : $"{name}={value}")}");

    /// <summary>The value of <paramref name="name"/>, which must be present.</summary>
    public string Required(string name, string? value) =>
        string.IsNullOrEmpty(value) ? throw new FormatException($"-{Option} {name} option requires a value") : value;

    /// <summary>An integer in [<paramref name="min"/>, <paramref name="max"/>]; unit suffixes when <paramref name="units"/>.</summary>
    public long Number(string name, string? value, long min, long max, bool units = false)
    {
        string text = Required(name, value);
        if (!TryParse(text, units, out long n))
            throw Invalid(name, text, "Value not recognized as number.");
        if (n < min)
            throw Invalid(name, text, "Value is too small.");
        if (n > max)
            throw Invalid(name, text, "Value is too large.");
        return n;
    }

    /// <summary>A 0 or 1 flag; absent value means 1, as in mkfs.xfs.</summary>
    public bool Flag(string name, string? value) => value == null || Number(name, value, 0, 1) == 1;

    /// <summary>mkfs.xfs's "Invalid value V for -o name option. REASON".</summary>
    public FormatException Invalid(string name, string value, string reason) =>
        new($"Invalid value {value} for -{Option} {name} option. {reason}");

    /// <summary>
    /// strtoll(text, 0) plus mkfs.xfs's unit suffixes k, m, g, t, p, e (powers of 1024) and s
    /// (512-byte sectors); false when <paramref name="text"/> is not such a number.
    /// </summary>
    public static bool TryParse(string text, bool units, out long value)
    {
        value = 0;
        string digits = text.Trim();
        long multiplier = 1;
        if (units && digits.Length > 1 && char.IsLetter(digits[^1]) && !IsHexDigitInHex(digits))
        {
            multiplier = char.ToLowerInvariant(digits[^1]) switch
            {
                's' => 512,
                'k' => 1L << 10,
                'm' => 1L << 20,
                'g' => 1L << 30,
                't' => 1L << 40,
                'p' => 1L << 50,
                'e' => 1L << 60,
                _ => 0,
            };
            if (multiplier == 0)
                return false;
            digits = digits[..^1];
        }
        bool ok;
        long n;
        if (digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            ok = long.TryParse(digits[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out n) && digits.Length > 2;
        else if (digits.Length > 1 && digits[0] == '0' && digits.All(c => c is >= '0' and <= '7'))
        {
            n = 0;
            ok = true;
            foreach (char c in digits)
            {
                if (n > long.MaxValue / 8)
                    return false;
                n = n * 8 + (c - '0');
            }
        }
        else
            ok = long.TryParse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out n);
        if (!ok)
            return false;
        try
        {
            value = checked(n * multiplier);
            return true;
        }
        catch (OverflowException)
        {
            return false;
        }
    }

    // "0x1e" ends in a letter that is a hex digit, not a unit.
    private static bool IsHexDigitInHex(string s) =>
        s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && Uri.IsHexDigit(s[^1]);
}
