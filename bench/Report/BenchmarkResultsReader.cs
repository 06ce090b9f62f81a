using System.Text.Json;

namespace DaxStack.Bench.Report;

/// <summary>
/// Reads the full JSON reports (<c>*-report-full.json</c>) BenchmarkDotNet writes into its
/// results folder. When a case appears in several reports, the newest file wins.
/// </summary>
public static class BenchmarkResultsReader
{
    /// <summary>The file name suffix of BenchmarkDotNet's full JSON exporter.</summary>
    public const string ReportSuffix = "-report-full.json";

    /// <summary>Every case of every report in <paramref name="resultsDirectory"/>.</summary>
    public static IReadOnlyList<BenchmarkMeasurement> ReadDirectory(string resultsDirectory)
    {
        var byCase = new Dictionary<(string, string, int), BenchmarkMeasurement>();
        var files = new DirectoryInfo(resultsDirectory).GetFiles("*" + ReportSuffix).OrderBy(f => f.LastWriteTimeUtc);
        foreach (var file in files)
            foreach (var m in ReadReport(File.ReadAllText(file.FullName), file.Name))
                byCase[(m.Suite, m.Method, m.Size)] = m;
        return [.. byCase.Values];
    }

    /// <summary>The cases of one full JSON report; <paramref name="source"/> names it in errors.</summary>
    public static IReadOnlyList<BenchmarkMeasurement> ReadReport(string json, string source)
    {
        using var doc = JsonDocument.Parse(json);
        if (!doc.RootElement.TryGetProperty("Benchmarks", out var benchmarks) || benchmarks.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{source}: no Benchmarks array (not a BenchmarkDotNet full JSON report)");
        var result = new List<BenchmarkMeasurement>();
        foreach (var b in benchmarks.EnumerateArray())
        {
            // A case that failed has no statistics: it is reported as missing, not as zero.
            if (!b.TryGetProperty("Statistics", out var stats) || stats.ValueKind != JsonValueKind.Object)
                continue;
            string suite = b.GetProperty("Type").GetString() ?? "";
            string method = b.GetProperty("Method").GetString() ?? "";
            int size = SizeOf(suite, b.TryGetProperty("Parameters", out var p) ? p.GetString() : null, source);
            long? allocated = null;
            if (b.TryGetProperty("Memory", out var mem) && mem.ValueKind == JsonValueKind.Object
                && mem.TryGetProperty("BytesAllocatedPerOperation", out var bytes) && bytes.ValueKind == JsonValueKind.Number)
                allocated = bytes.GetInt64();
            result.Add(new BenchmarkMeasurement(
                suite, method, size,
                stats.GetProperty("Mean").GetDouble(),
                stats.GetProperty("Median").GetDouble(),
                stats.GetProperty("StandardDeviation").GetDouble(),
                allocated));
        }
        return result;
    }

    // Persist64Benchmarks copies a fixed 64 bytes; PersistedCopyBenchmarks says its size in the
    // Parameters text ("Size=4096").
    private static int SizeOf(string suite, string? parameters, string source)
    {
        if (string.IsNullOrEmpty(parameters))
            return suite == nameof(Persist64Benchmarks) ? Persist64Benchmarks.Size : 0;
        foreach (var part in parameters.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = part.Split('=', 2);
            if (kv.Length == 2 && kv[0] == nameof(PersistedCopyBenchmarks.Size))
                return int.TryParse(kv[1], out int size) ? size : throw new InvalidDataException($"{source}: bad size in '{parameters}'");
        }
        return 0;
    }
}
