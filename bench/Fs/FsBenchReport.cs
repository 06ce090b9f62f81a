using System.Globalization;
using System.Text.Json;
using DaxStack.Bench.Report;

namespace DaxStack.Bench.Fs;

/// <summary>
/// The filesystem benchmark table of issue 4 section 6, in Markdown: for each case of the
/// <c>Fs*Benchmarks</c> suites, the wall-clock mean and standard deviation per operation and the
/// operations per second they give, the modeled device time per operation with its operations
/// per second, and the managed bytes allocated per operation. Only measured values appear; a case
/// without results is listed as missing.
/// </summary>
/// <remarks>
/// Command line: <c>fs-report --results DIR --modeled FILE</c>, where DIR is BenchmarkDotNet's
/// results folder (its full JSON reports) and FILE collects the <c>// FS-MODELED</c> lines of
/// <see cref="FsBenchmarkBase"/>. Exit status: 0 when every case has both measurements, 2 when
/// some are missing, 64 on bad usage. Models no kernel structure (a report, like fio's summary).
/// </remarks>
public static class FsBenchReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private static readonly (string Suite, string Method, string Parameters, string Label)[] Cases =
    [
        (nameof(FsCreateBenchmarks), nameof(FsCreateBenchmarks.CreateWrite4KFsyncClose), "", "(a) create + write 4 KiB + fsync + close"),
        (nameof(FsRandomOverwriteBenchmarks), nameof(FsRandomOverwriteBenchmarks.RandomOverwrite4K), "Dsync=False", "(b) 4 KiB random overwrite, 64 MiB file"),
        (nameof(FsRandomOverwriteBenchmarks), nameof(FsRandomOverwriteBenchmarks.RandomOverwrite4K), "Dsync=True", "(b) 4 KiB random overwrite, 64 MiB file, O_DSYNC"),
        (nameof(FsAppendBenchmarks), nameof(FsAppendBenchmarks.Append4KFdatasync), "", "(c) append 4 KiB + fdatasync"),
        (nameof(FsMetadataBenchmarks), nameof(FsMetadataBenchmarks.CreateUnlink), "", "(d) create + unlink (pair)"),
        (nameof(FsMetadataBenchmarks), nameof(FsMetadataBenchmarks.MkdirRmdir), "", "(d) mkdir + rmdir (pair)"),
        (nameof(FsMetadataBenchmarks), nameof(FsMetadataBenchmarks.Rename), "", "(d) rename"),
        (nameof(FsMetadataBenchmarks), nameof(FsMetadataBenchmarks.StatFile), "", "(d) stat"),
    ];

    /// <summary>Runs the <c>fs-report</c> command; see the remarks for arguments and exit status.</summary>
    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        string? results = null, modeled = null;
        for (int i = 0; i < args.Count; i++)
        {
            string value = i + 1 < args.Count ? args[i + 1] : "";
            switch (args[i])
            {
                case "--results" when value.Length > 0: results = value; i++; break;
                case "--modeled" when value.Length > 0: modeled = value; i++; break;
                default:
                    error.WriteLine($"fs-report: unexpected argument '{args[i]}'");
                    error.WriteLine("usage: fs-report --results DIR --modeled FILE");
                    return 64;
            }
        }

        if (results == null || modeled == null)
        {
            error.WriteLine("usage: fs-report --results DIR --modeled FILE");
            return 64;
        }

        try
        {
            var wall = ReadResults(results);
            var model = ReadModeled(File.ReadAllLines(modeled));
            return Write(wall, model, output);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException or JsonException)
        {
            error.WriteLine($"fs-report: {ex.Message}");
            return 1;
        }
    }

    /// <summary>Wall-clock results of the full JSON reports in <paramref name="directory"/>, by (suite, method, parameters); the newest report wins.</summary>
    public static Dictionary<(string, string, string), BenchmarkMeasurement> ReadResults(string directory)
    {
        var byCase = new Dictionary<(string, string, string), BenchmarkMeasurement>();
        var files = new DirectoryInfo(directory).GetFiles("*" + BenchmarkResultsReader.ReportSuffix).OrderBy(f => f.LastWriteTimeUtc);
        foreach (var file in files)
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(file.FullName));
            if (!doc.RootElement.TryGetProperty("Benchmarks", out var benchmarks) || benchmarks.ValueKind != JsonValueKind.Array)
                throw new InvalidDataException($"{file.Name}: no Benchmarks array (not a BenchmarkDotNet full JSON report)");
            foreach (var b in benchmarks.EnumerateArray())
            {
                if (!b.TryGetProperty("Statistics", out var stats) || stats.ValueKind != JsonValueKind.Object)
                    continue;
                string suite = b.GetProperty("Type").GetString() ?? "";
                string method = b.GetProperty("Method").GetString() ?? "";
                string parameters = b.TryGetProperty("Parameters", out var p) ? p.GetString() ?? "" : "";
                long? allocated = null;
                if (b.TryGetProperty("Memory", out var mem) && mem.ValueKind == JsonValueKind.Object
                    && mem.TryGetProperty("BytesAllocatedPerOperation", out var bytes) && bytes.ValueKind == JsonValueKind.Number)
                    allocated = bytes.GetInt64();
                byCase[(suite, method, parameters)] = new BenchmarkMeasurement(
                    suite, method, 4096,
                    stats.GetProperty("Mean").GetDouble(),
                    stats.GetProperty("Median").GetDouble(),
                    stats.GetProperty("StandardDeviation").GetDouble(),
                    allocated);
            }
        }

        return byCase;
    }

    /// <summary>Mean modeled nanoseconds per operation from <c>// FS-MODELED</c> lines, by (suite, method, parameters); the last line of a case wins.</summary>
    public static Dictionary<(string, string, string), double> ReadModeled(IEnumerable<string> lines)
    {
        var byCase = new Dictionary<(string, string, string), double>();
        foreach (string line in lines)
        {
            if (!line.StartsWith(FsBenchmarkBase.ModeledLinePrefix, StringComparison.Ordinal))
                continue;
            var f = line.Split('\t');
            if (f.Length < 7 || !double.TryParse(f[4], NumberStyles.Float, Inv, out double mean))
                throw new InvalidDataException($"bad modeled-time line '{line}'");
            byCase[(f[1], f[2], f[3])] = mean;
        }

        return byCase;
    }

    private static int Write(
        Dictionary<(string, string, string), BenchmarkMeasurement> wall,
        Dictionary<(string, string, string), double> modeled,
        TextWriter output)
    {
        bool missing = false;
        output.WriteLine("| Case | Wall-clock mean | StdDev | Ops/s (wall) | Modeled per op | Ops/s (modeled) | Allocated/op |");
        output.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var (suite, method, parameters, label) in Cases)
        {
            var key = (suite, method, parameters);
            string mean = "missing", sd = "missing", opsWall = "missing", alloc = "missing", mod = "missing", opsMod = "missing";
            if (wall.TryGetValue(key, out var m))
            {
                mean = Time(m.MeanNs);
                sd = Time(m.StandardDeviationNs);
                opsWall = Rate(m.MeanNs);
                alloc = m.AllocatedBytesPerOperation is long a ? $"{a.ToString("N0", Inv)} B" : "n/a";
            }
            else
            {
                missing = true;
            }

            if (modeled.TryGetValue(key, out double ns))
            {
                mod = Time(ns);
                opsMod = Rate(ns);
            }
            else
            {
                missing = true;
            }

            output.WriteLine($"| {label} | {mean} | {sd} | {opsWall} | {mod} | {opsMod} | {alloc} |");
        }

        return missing ? 2 : 0;
    }

    private static string Time(double ns) =>
        ns >= 1e6 ? $"{(ns / 1e6).ToString("F2", Inv)} ms" : ns >= 1e3 ? $"{(ns / 1e3).ToString("F2", Inv)} us" : $"{ns.ToString("F0", Inv)} ns";

    private static string Rate(double ns) => ns > 0 ? (1e9 / ns).ToString("N0", Inv) : "n/a";
}
