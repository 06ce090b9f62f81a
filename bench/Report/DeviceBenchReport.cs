using System.Globalization;

namespace DaxStack.Bench.Report;

/// <summary>
/// The device benchmark table of DESIGN.md section 7, built from one run: each case's mean
/// wall-clock nanoseconds, its ratio to the plain <c>Span.CopyTo</c> of the same size, the
/// 64-byte persist against libpmem's real <c>pmem_memcpy_persist</c>, and whether each target
/// is met. Only measured values appear; a case that did not run is listed as missing.
/// </summary>
/// <remarks>
/// Command line: <c>report --results DIR [--pmem FILE]...</c>, where DIR is BenchmarkDotNet's
/// results folder and each FILE holds the helper's <c>PMEM_BENCH</c> line (the script measures
/// libpmem before and after the .NET suites; the ratio uses the mean of those medians).
/// Exit status: 0 when every expected case was measured (met or not), 2 when some are missing,
/// 64 on bad usage.
/// </remarks>
public static class DeviceBenchReport
{
    /// <summary>Section 7: a 64-byte persist takes at most this many wall-clock nanoseconds.</summary>
    public const double Persist64MaxNs = 50;

    /// <summary>Section 7: a 64-byte persist is at least this many times faster than libpmem's.</summary>
    public const double Persist64MinSpeedupOverLibpmem = 4;

    /// <summary>Section 7: a bulk persisted copy takes at most this many times the plain copy.</summary>
    public const double BulkMaxRatioToCopy = 2;

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private static readonly (string Suite, string Method, string Label)[] Cases =
    [
        (nameof(Persist64Benchmarks), nameof(Persist64Benchmarks.CopyTo), "Span.CopyTo (baseline)"),
        (nameof(Persist64Benchmarks), nameof(Persist64Benchmarks.StoreClwbSfence), "store + clwb + sfence"),
        (nameof(Persist64Benchmarks), nameof(Persist64Benchmarks.NtStoreSfence), "ntstore + sfence"),
        (nameof(Persist64Benchmarks), nameof(Persist64Benchmarks.FusedPersist), "fused Persist"),
        (nameof(Persist64Benchmarks), nameof(Persist64Benchmarks.TwoCopies), "two plain copies (old bytes aside, new)"),
        (nameof(PersistedCopyBenchmarks), nameof(PersistedCopyBenchmarks.CopyTo), "Span.CopyTo (baseline)"),
        (nameof(PersistedCopyBenchmarks), nameof(PersistedCopyBenchmarks.StoreClwbSfence), "store + clwb range + sfence"),
        (nameof(PersistedCopyBenchmarks), nameof(PersistedCopyBenchmarks.NtStoreSfence), "ntstore + sfence"),
        (nameof(PersistedCopyBenchmarks), nameof(PersistedCopyBenchmarks.FusedPersist), "fused Persist"),
        (nameof(PersistedCopyBenchmarks), nameof(PersistedCopyBenchmarks.TwoCopies), "two plain copies (old bytes aside, new)"),
    ];

    private static readonly int[] BulkSizes = [4 * 1024, 2 * 1024 * 1024];

    /// <summary>Runs the <c>report</c> command; see the remarks for arguments and exit status.</summary>
    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        string? results = null;
        var pmemFiles = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            string value = i + 1 < args.Count ? args[i + 1] : "";
            switch (args[i])
            {
                case "--results" when value.Length > 0: results = value; i++; break;
                case "--pmem" when value.Length > 0: pmemFiles.Add(value); i++; break;
                default:
                    error.WriteLine($"report: unexpected argument '{args[i]}'");
                    error.WriteLine("usage: report --results DIR [--pmem FILE]...");
                    return 64;
            }
        }
        if (results == null || !Directory.Exists(results))
        {
            error.WriteLine($"report: results folder '{results}' not found (usage: report --results DIR [--pmem FILE]...)");
            return 64;
        }

        var measured = BenchmarkResultsReader.ReadDirectory(results);
        var pmem = new List<(string Source, PmemMeasurement Value)>();
        foreach (var file in pmemFiles)
        {
            if (!File.Exists(file))
            {
                error.WriteLine($"report: libpmem result file '{file}' not found");
                continue;
            }
            foreach (var line in File.ReadLines(file))
                if (PmemMeasurement.TryParse(line, out var m))
                    pmem.Add((Path.GetFileNameWithoutExtension(file), m));
        }
        return Write(measured, pmem, output);
    }

    /// <summary>Writes the table for <paramref name="measured"/> and the libpmem runs; returns the exit status.</summary>
    public static int Write(IReadOnlyList<BenchmarkMeasurement> measured, IReadOnlyList<(string Source, PmemMeasurement Value)> pmem, TextWriter o)
    {
        o.WriteLine("DaxStack device benchmarks (DESIGN.md section 7), crash tracking on: optane-adr region over native memory");
        o.WriteLine($"Wall-clock, one run, {Environment.ProcessorCount}-core shared machine, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}.");
        o.WriteLine("The machine is noisy: compare ratios within this run; absolute nanoseconds move between runs.");
        o.WriteLine();

        var pmem64 = pmem.Where(p => p.Value.Size == Persist64Benchmarks.Size).ToList();
        double? libpmemNs = pmem64.Count > 0 ? pmem64.Average(p => p.Value.MedianNs) : null;
        foreach (var (source, p) in pmem)
            o.WriteLine(string.Create(Inv,
                $"libpmem pmem_memcpy_persist {p.Size} B [{source}]: median {p.MedianNs:F1} ns/call (min {p.MinNs:F1}, max {p.MaxNs:F1}) over {p.Repeats} x {p.Iterations} calls, is_pmem={(p.IsPmem ? 1 : 0)}"));
        if (libpmemNs == null)
            o.WriteLine("libpmem pmem_memcpy_persist 64 B: not measured (the libpmem comparison below is missing)");
        else if (pmem64.Count > 1)
            o.WriteLine(string.Create(Inv, $"libpmem reference for the ratio: {libpmemNs:F1} ns (mean of the {pmem64.Count} medians above)"));
        o.WriteLine();

        var rows = new List<string[]>
        {
            new[] { "suite", "case", "size", "mean ns", "median ns", "stddev", "alloc B/op", "vs CopyTo", "target", "result" },
        };
        int missing = 0, met = 0, notMet = 0;

        void AddTarget(string[] row, string target, bool? ok, string detail)
        {
            if (row[8].Length > 0)
            {
                row = new string[row.Length];
                Array.Fill(row, "");
                rows.Add(row);
            }
            row[8] = target;
            row[9] = ok switch { true => "met", false => "NOT MET", null => "not measured" } + (detail.Length > 0 ? " (" + detail + ")" : "");
            if (ok == true)
                met++;
            else if (ok == false)
                notMet++;
        }

        foreach (var size in (int[])[Persist64Benchmarks.Size, .. BulkSizes])
        {
            string suite = size == Persist64Benchmarks.Size ? nameof(Persist64Benchmarks) : nameof(PersistedCopyBenchmarks);
            var baseline = Find(measured, suite, nameof(Persist64Benchmarks.CopyTo), size);
            foreach (var (caseSuite, method, label) in Cases.Where(c => c.Suite == suite))
            {
                var m = Find(measured, caseSuite, method, size);
                var row = new string[10];
                Array.Fill(row, "");
                row[0] = suite == nameof(Persist64Benchmarks) ? "Persist64" : "PersistedCopy";
                row[1] = label;
                row[2] = Bytes(size);
                rows.Add(row);
                if (m == null)
                {
                    row[3] = "missing";
                    missing++;
                }
                else
                {
                    row[3] = Ns(m.MeanNs);
                    row[4] = Ns(m.MedianNs);
                    row[5] = Ns(m.StandardDeviationNs);
                    row[6] = m.AllocatedBytesPerOperation?.ToString(Inv) ?? "-";
                    row[7] = baseline == null ? "-" : string.Create(Inv, $"{m.MeanNs / baseline.MeanNs:F2}x");
                }

                bool isBaseline = method == nameof(Persist64Benchmarks.CopyTo);
                if (method == nameof(Persist64Benchmarks.TwoCopies))
                {
                    // No target: the copying that keeping the old bytes implies, done the plain way,
                    // for reading the store and ntstore cases (a single pass can do better).
                    row[9] = "no target: reference for the copying a tracked store does";
                }
                else if (suite == nameof(PersistedCopyBenchmarks) && !isBaseline)
                {
                    bool? ok = m == null || baseline == null ? null : m.MeanNs / baseline.MeanNs <= BulkMaxRatioToCopy;
                    AddTarget(row, string.Create(Inv, $"<= {BulkMaxRatioToCopy:F0}x CopyTo"), ok, "");
                }
                else if (method == nameof(Persist64Benchmarks.StoreClwbSfence))
                {
                    AddTarget(row, string.Create(Inv, $"<= {Persist64MaxNs:F0} ns"), m == null ? null : m.MeanNs <= Persist64MaxNs, "");
                    double? speedup = m == null || libpmemNs == null ? null : libpmemNs / m.MeanNs;
                    AddTarget(row, string.Create(Inv, $">= {Persist64MinSpeedupOverLibpmem:F0}x faster than libpmem"),
                        speedup == null ? null : speedup >= Persist64MinSpeedupOverLibpmem,
                        speedup == null ? "" : string.Create(Inv, $"{speedup:F2}x: {libpmemNs:F1} / {m!.MeanNs:F1} ns"));
                }
                else if (suite == nameof(Persist64Benchmarks) && !isBaseline && m != null && libpmemNs != null)
                {
                    // No target of its own: shown against libpmem for context.
                    row[9] = string.Create(Inv, $"{libpmemNs / m.MeanNs:F2}x faster than libpmem");
                }
            }
        }

        WriteTable(o, rows);
        o.WriteLine();
        o.WriteLine($"targets: {met} met, {notMet} not met{(missing > 0 ? $", {missing} cases missing" : "")}");
        return missing > 0 ? 2 : 0;
    }

    private static BenchmarkMeasurement? Find(IReadOnlyList<BenchmarkMeasurement> all, string suite, string method, int size) =>
        all.FirstOrDefault(m => m.Suite == suite && m.Method == method && m.Size == size);

    private static string Ns(double ns) => ns.ToString(ns < 100 ? "F2" : ns < 10_000 ? "F1" : "F0", Inv);

    private static string Bytes(int size) =>
        size >= 1 << 20 ? $"{size >> 20} MiB" : size >= 1 << 10 ? $"{size >> 10} KiB" : $"{size} B";

    private static void WriteTable(TextWriter o, List<string[]> rows)
    {
        int cols = rows[0].Length;
        var width = new int[cols];
        foreach (var r in rows)
            for (int c = 0; c < cols; c++)
                width[c] = Math.Max(width[c], r[c].Length);
        // Numbers right-aligned, text left-aligned.
        bool[] right = [false, false, true, true, true, true, true, true, false, false];
        foreach (var r in rows)
        {
            var cells = new string[cols];
            for (int c = 0; c < cols; c++)
                cells[c] = right[c] ? r[c].PadLeft(width[c]) : r[c].PadRight(width[c]);
            o.WriteLine(string.Join("  ", cells).TrimEnd());
        }
    }
}
