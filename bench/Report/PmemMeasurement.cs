using System.Globalization;

namespace DaxStack.Bench.Report;

/// <summary>
/// One run of bench/native/pmem_persist_bench: libpmem's real <c>pmem_memcpy_persist</c> of
/// <see cref="Size"/> bytes, nanoseconds per call over <see cref="Repeats"/> timed passes of
/// <see cref="Iterations"/> calls each, and whether libpmem treated the mapping as pmem
/// (true under <c>PMEM_IS_PMEM_FORCE=1</c>).
/// </summary>
public sealed record PmemMeasurement(int Size, long Iterations, int Repeats, bool IsPmem, double MedianNs, double MinNs, double MaxNs)
{
    /// <summary>The first word of the helper's result line.</summary>
    public const string LinePrefix = "PMEM_BENCH";

    /// <summary>
    /// Parses a result line (<c>PMEM_BENCH op=pmem_memcpy_persist size=64 ... median_ns=X min_ns=Y max_ns=Z</c>);
    /// false for any other line or a line missing a field.
    /// </summary>
    public static bool TryParse(string line, out PmemMeasurement measurement)
    {
        measurement = null!;
        var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0 || words[0] != LinePrefix)
            return false;
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var w in words.AsSpan(1))
        {
            int eq = w.IndexOf('=');
            if (eq > 0)
                fields[w[..eq]] = w[(eq + 1)..];
        }
        if (!fields.TryGetValue("op", out var op) || op != "pmem_memcpy_persist"
            || !TryInt(fields, "size", out long size) || !TryInt(fields, "iterations", out long iterations)
            || !TryInt(fields, "repeats", out long repeats) || !TryInt(fields, "is_pmem", out long isPmem)
            || !TryDouble(fields, "median_ns", out double median) || !TryDouble(fields, "min_ns", out double min)
            || !TryDouble(fields, "max_ns", out double max))
            return false;
        measurement = new PmemMeasurement((int)size, iterations, (int)repeats, isPmem != 0, median, min, max);
        return true;
    }

    private static bool TryInt(Dictionary<string, string> fields, string key, out long value)
    {
        value = 0;
        return fields.TryGetValue(key, out var text) && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out value);
    }

    private static bool TryDouble(Dictionary<string, string> fields, string key, out double value)
    {
        value = 0;
        return fields.TryGetValue(key, out var text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }
}
