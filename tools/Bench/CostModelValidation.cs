using System.Globalization;
using DaxStack.Device.Cost;
using DaxStack.Device.Media;
using DaxStack.Device.Persistence;
using DaxStack.Device.Platform;
using DaxStack.Tools.Cli;

namespace DaxStack.Tools.Bench;

/// <summary>
/// Checks the cost model against the published Optane and DRAM measurements of DESIGN.md
/// section 9: runs, in modeled time and through the public device API only (a
/// <see cref="PhysicalAddressSpace"/>, an <see cref="NvdimmRegion"/> over <see cref="NativeMedia"/>,
/// CPUs executing loads, stores, flushes and fences), the microbenchmark behind each figure and
/// reports the modeled value beside the published one. Every modeled value comes from the
/// profile's parameters through the model's structure; the benchmarks only issue instructions
/// and read clocks.
/// </summary>
/// <remarks>
/// Benchmark shapes follow the papers: idle latencies are single accesses on an otherwise idle
/// DIMM (FAST'20 Fig. 2); persists are one store+clwb+sfence or ntstore+sfence of a buffer on an
/// idle DIMM (Fig. 12); bandwidths stream far more data than the write-combining buffers hold
/// without fencing until the end, with several CPUs as FAST'20 Fig. 4 uses several threads, and
/// are measured over the second half of the stream so the buffers' filling does not count.
/// </remarks>
public static class CostModelValidation
{
    /// <summary>Largest relative error a row may have.</summary>
    public const double Tolerance = 0.10;

    /// <summary>
    /// The part of a Fig. 12 persist latency that is the benchmark's own loop (timestamp reads,
    /// loop and call overhead around each timed persist), not the device: Fig. 2's idle write
    /// latencies exclude it, Fig. 12's per-persist latencies include it. The one number here not
    /// taken from a profile; it is the same for every size and both instruction sequences.
    /// </summary>
    public const double PersistLoopOverheadNs = 44;

    /// <summary>CPUs streaming at once in the write-bandwidth benchmarks (FAST'20 Fig. 4 runs 1 to 24 threads).</summary>
    public const int BandwidthCpus = 24;

    private const int Line = 64;
    private static readonly byte[] Data = MakeData(1 << 20);

    /// <summary>One checked quantity.</summary>
    /// <param name="Quantity">What was measured, with its unit.</param>
    /// <param name="Modeled">The cost model's value.</param>
    /// <param name="Published">The published value, or null where there is none for this profile.</param>
    /// <param name="Source">Where the published value comes from, or why there is none.</param>
    public sealed record Row(string Quantity, double Modeled, double? Published, string Source)
    {
        /// <summary>(modeled - published) / published, or null without a published value.</summary>
        public double? Error => Published is { } p ? (Modeled - p) / p : null;

        /// <summary>True unless the row has a published value and misses it by more than <see cref="Tolerance"/>.</summary>
        public bool Passes => Error is not { } e || Math.Abs(e) <= Tolerance;
    }

    /// <summary>The DIMM counts checked when none is asked for: the profile's own and six interleaved.</summary>
    public static IReadOnlyList<int> DefaultDimmCounts(CostProfile profile) =>
        profile.Dimms == 6 ? [6] : [profile.Dimms, 6];

    /// <summary>
    /// Runs every benchmark on <paramref name="profile"/>: the latencies once (with the first of
    /// <paramref name="dimmCounts"/> DIMMs), the bandwidths for each DIMM count.
    /// </summary>
    public static IReadOnlyList<Row> Run(CostProfile profile, IReadOnlyList<int> dimmCounts)
    {
        ArgumentNullException.ThrowIfNull(profile);
        if (dimmCounts.Count == 0 || dimmCounts.Any(n => n < 1))
            throw new ArgumentException("at least one DIMM count, each at least 1", nameof(dimmCounts));
        var p = profile with { Dimms = dimmCounts[0] };
        p.Validate();
        // In any case, as profile names and Domain are read.
        bool optane = string.Equals(p.Technology, "optane", StringComparison.OrdinalIgnoreCase),
            dram = string.Equals(p.Technology, "dram", StringComparison.OrdinalIgnoreCase),
            adr = p.Domain == PersistenceDomain.Adr;
        var rows = new List<Row>();

        void Add(string quantity, double modeled, double? optaneValue, double? dramValue, string source)
        {
            double? published = optane ? optaneValue : dram ? dramValue : null;
            rows.Add(new Row(quantity, modeled, published, published is null ? NoFigure(p, source) : source));
        }

        Add("idle read latency, sequential 64 B loads (ns)", SequentialReadLatency(p), 169, 81, "FAST'20 Fig. 2");
        Add("idle read latency, random 64 B loads (ns)", RandomReadLatency(p), 305, 101, "FAST'20 Fig. 2");
        Add("write latency, ntstore+sfence of 64 B (ns)", WriteLatency(p, nt: true), 90, 87, "FAST'20 Fig. 2");
        Add("write latency, store+clwb+sfence of 64 B (ns)", WriteLatency(p, nt: false), adr ? 62 : null, adr ? 57 : null,
            adr ? "FAST'20 Fig. 2" : "eADR: flushes cost only their issue");
        foreach (int size in new[] { 64, 256, 4096 })
            Add($"one persist, store+clwb+sfence of {SizeText(size)} (ns)", Persist(p, size, nt: false),
                adr ? size switch { 64 => 116, 256 => 192, _ => 1774 } : null, null,
                adr ? "FAST'20 Fig. 12" : "eADR: flushes cost only their issue");
        foreach (int size in new[] { 64, 256, 4096 })
            Add($"one persist, ntstore+sfence of {SizeText(size)} (ns)", Persist(p, size, nt: true),
                size switch { 64 => 125, 256 => 212, _ => 1551 }, null, "FAST'20 Fig. 12");
        Add("write amplification, random 64 B ntstores (media/requested)", RandomWriteAmplification(p), 4.0, 1.0,
            "DESIGN s.9: 256 B XPLine; DRAM 64 B");

        foreach (int dimms in dimmCounts)
        {
            var d = p with { Dimms = dimms };
            string n = dimms == 1 ? "1 DIMM" : $"{dimms} DIMMs";
            Add($"read bandwidth, {n} (GB/s)", ReadBandwidth(d),
                dimms switch { 1 => 6.6, 6 => 39, _ => null }, dimms == 6 ? 105 : null,
                dimms == 6 ? "Izraelevitz et al.; FAST'20 Fig. 4" : "FAST'20 Fig. 4");
            Add($"write bandwidth, ntstore, {n} (GB/s)", WriteBandwidth(d, nt: true),
                dimms switch { 1 => 2.3, 6 => 13.9, _ => null }, dimms == 6 ? 77 : null,
                dimms == 6 ? "Izraelevitz et al.; FAST'20 Fig. 4" : "FAST'20 Fig. 4");
            // Under eADR clwb writes nothing back, so a store+clwb stream measures only instruction issue.
            if (adr)
                Add($"write bandwidth, store+clwb, {n} (GB/s)", WriteBandwidth(d, nt: false),
                    dimms == 1 ? 1.8 : null, dimms == 6 ? 77 : null, "FAST'20 Fig. 4");
        }
        return rows;
    }

    /// <summary>Writes the table of <paramref name="rows"/> and a verdict line.</summary>
    public static void Print(TextWriter o, CostProfile profile, IReadOnlyList<Row> rows)
    {
        var inv = CultureInfo.InvariantCulture;
        o.WriteLine($"Cost model validation: profile {profile.Name} ({profile.Technology}, {profile.Domain}), modeled time; published values from DESIGN.md section 9.");
        o.WriteLine(string.Create(inv, $"Persist rows include the Fig. 12 benchmark loop's own {PersistLoopOverheadNs} ns per persist; every other nanosecond is the model's."));
        o.WriteLine(string.Create(inv, $"{"quantity",-58} {"modeled",9} {"published",9} {"error",7}  source"));
        foreach (var r in rows)
        {
            string published = r.Published is { } v ? ReadableNumber.Decimal(v, "0.###", ColumnLimit) : "-";
            // A bandwidth benchmark over which the clock did not advance (every cost it meets zero,
            // or too small for the clock to add) has no finite value to show.
            bool unbounded = !double.IsFinite(r.Modeled);
            // A modeled value near double's largest is off by a percentage double cannot hold.
            string error = r.Error is { } e && !unbounded && double.IsFinite(e * 100)
                ? ReadableNumber.Decimal(e * 100, "+0.0;-0.0;+0.0", ColumnLimit, "+0.###e+0;-0.###e+0") + "%"
                : "-";
            string mark = r.Passes ? "" : unbounded ? "  <-- no modeled time elapsed" : $"  <-- off by more than {Percent}";
            string modeled = unbounded ? "unbounded" : Format(r.Modeled);
            o.WriteLine(string.Create(inv, $"{r.Quantity,-58} {modeled,9} {published,9} {error,7}  {r.Source}{mark}"));
        }
        int checkedRows = rows.Count(r => r.Published is not null), failed = rows.Count(r => !r.Passes);
        o.WriteLine(failed == 0
            ? $"{checkedRows} rows with a published value, all within {Percent}."
            : $"{failed} of {checkedRows} rows with a published value are off by more than {Percent}.");
    }

    // ------------------------------------------------------------------ the benchmarks

    // FAST'20 Fig. 2: 64-byte loads walking consecutive lines; the first load starts the stream.
    private static double SequentialReadLatency(CostProfile p)
    {
        const int size = 1 << 20;
        using var space = Platform(p, size, out var region);
        var cpu = space.CreateCpu();
        Span<byte> buffer = stackalloc byte[Line];
        cpu.Load(region.BaseAddress, buffer);
        double start = cpu.Clock.Nanoseconds;
        int loads = size / Line - 1;
        for (int i = 1; i <= loads; i++)
            cpu.Load(region.BaseAddress + (long)i * Line, buffer);
        return (cpu.Clock.Nanoseconds - start) / loads;
    }

    // FAST'20 Fig. 2: 64-byte loads to random lines of a region far larger than any buffer, each
    // line loaded once (a line loaded before may still be in the modeled cache: an idle latency is a miss).
    private static double RandomReadLatency(CostProfile p)
    {
        const long size = 64L << 20;
        const int loads = 4096;
        using var space = Platform(p, size, out var region);
        var cpu = space.CreateCpu();
        var random = new Random(20200225);
        Span<byte> buffer = stackalloc byte[Line];
        long previous = -2;
        var loaded = new HashSet<long>();
        double start = cpu.Clock.Nanoseconds;
        for (int i = 0; i < loads; i++)
        {
            long line;
            do line = random.NextInt64(size / Line);
            while (line == previous + 1 || !loaded.Add(line));
            cpu.Load(region.BaseAddress + line * Line, buffer);
            previous = line;
        }
        return (cpu.Clock.Nanoseconds - start) / loads;
    }

    // FAST'20 Fig. 2: one line written and fenced on an idle DIMM.
    private static double WriteLatency(CostProfile p, bool nt) => IdlePersist(p, Line, nt);

    // FAST'20 Fig. 12: one persist of `size` bytes on an idle DIMM, as the benchmark's loop times it.
    private static double Persist(CostProfile p, int size, bool nt) => IdlePersist(p, size, nt) + PersistLoopOverheadNs;

    // `size` bytes stored (ntstore, or store + clwb of every line) and fenced on an idle DIMM.
    private static double IdlePersist(CostProfile p, int size, bool nt)
    {
        using var space = Platform(p, 1 << 20, out var region);
        var cpu = space.CreateCpu();
        long pa = region.BaseAddress;
        double start = cpu.Clock.Nanoseconds;
        if (nt)
            cpu.NtStore(pa, Data.AsSpan(0, size));
        else
        {
            cpu.Store(pa, Data.AsSpan(0, size));
            cpu.Flush(FlushKind.Clwb, pa, size);
        }
        cpu.Sfence();
        return cpu.Clock.Nanoseconds - start;
    }

    // 64-byte non-temporal writes to random lines, each fenced: media bytes per byte asked for.
    private static double RandomWriteAmplification(CostProfile p)
    {
        const long size = 64L << 20;
        using var space = Platform(p, size, out var region);
        var cpu = space.CreateCpu();
        var random = new Random(9);
        for (int i = 0; i < 4096; i++)
        {
            cpu.NtStore(region.BaseAddress + random.NextInt64(size / Line) * Line, Data.AsSpan(0, Line));
            cpu.Sfence();
        }
        return (double)region.Cost.MediaBytesWritten / region.Cost.BytesRequested;
    }

    // FAST'20 Fig. 4 / Izraelevitz: sequential reads in 1 MiB loads; GB/s over the second half.
    private static double ReadBandwidth(CostProfile p)
    {
        const int chunk = 1 << 20;
        const long total = 16L << 20;
        using var space = Platform(p, total, out var region);
        var cpu = space.CreateCpu();
        var buffer = new byte[chunk];
        double start = 0;
        for (long off = 0; off < total; off += chunk)
        {
            if (off == total / 2)
                start = cpu.Clock.Nanoseconds;
            cpu.Load(region.BaseAddress + off, buffer);
        }
        return total / 2 / (cpu.Clock.Nanoseconds - start);
    }

    // FAST'20 Fig. 4: BandwidthCpus CPUs each stream lines (ntstore, or store+clwb) through their
    // own part of the region and fence at the end. The CPUs run as threads would: the one whose
    // clock is furthest behind executes its next line, so the DIMMs see writes in time order.
    // GB/s over the second half of the data, from the latest clock.
    private static double WriteBandwidth(CostProfile p, bool nt)
    {
        const long perCpu = 256 << 10;
        const int linesPerCpu = (int)(perCpu / Line);
        // Each CPU's area starts one interleave stripe further round the DIMMs than the last, so the
        // CPUs do not all begin on the same DIMM.
        long stride = perCpu + p.InterleaveBytes;
        using var space = Platform(p, stride * BandwidthCpus, out var region);
        var cpus = new Cpu[BandwidthCpus];
        var next = new int[BandwidthCpus];
        for (int c = 0; c < cpus.Length; c++)
            cpus[c] = space.CreateCpu();
        var data = Data.AsSpan(0, Line);
        long written = 0, total = (long)linesPerCpu * BandwidthCpus;
        double start = 0;
        while (written < total)
        {
            int c = -1;
            for (int i = 0; i < cpus.Length; i++)
                if (next[i] < linesPerCpu && (c < 0 || cpus[i].Clock.Nanoseconds < cpus[c].Clock.Nanoseconds))
                    c = i;
            var cpu = cpus[c];
            long pa = region.BaseAddress + c * stride + (long)next[c] * Line;
            if (nt)
                cpu.NtStore(pa, data);
            else
            {
                cpu.Store(pa, data);
                cpu.Clwb(pa);
            }
            if (++next[c] == linesPerCpu)
                cpu.Sfence();
            if (++written == total / 2)
                start = cpus.Max(x => x.Clock.Nanoseconds);
        }
        return perCpu * BandwidthCpus / 2 / (cpus.Max(x => x.Clock.Nanoseconds) - start);
    }

    // ------------------------------------------------------------------ helpers

    private static PhysicalAddressSpace Platform(CostProfile p, long size, out NvdimmRegion region)
    {
        var space = new PhysicalAddressSpace();
        long pages = (size + PhysicalAddressSpace.PageSize - 1) / PhysicalAddressSpace.PageSize;
        region = new NvdimmRegion("bench", new NativeMedia(pages * PhysicalAddressSpace.PageSize), p);
        space.AddRegion(region);
        return space;
    }

    private static string NoFigure(CostProfile p, string source) =>
        source.StartsWith("eADR", StringComparison.Ordinal) ? source + " (no published figure)" : $"no published figure for {p.Technology} here";

    private static string Percent => (Tolerance * 100).ToString("0", CultureInfo.InvariantCulture) + "%";

    private static string SizeText(int bytes) => bytes >= 1024 ? $"{bytes / 1024} KiB" : $"{bytes} B";

    // The columns are 9 characters wide: 9999999.9 fits; a larger value (a profile with a bandwidth
    // of 1e300 GB/s measures some 1e307) is printed in scientific notation.
    private const double ColumnLimit = 1e7;

    private static string Format(double v) => ReadableNumber.Decimal(v, v >= 100 ? "0.0" : "0.00", ColumnLimit);

    private static byte[] MakeData(int length)
    {
        var data = new byte[length];
        for (int i = 0; i < data.Length; i++)
            data[i] = (byte)(i * 131 + 7);
        return data;
    }
}
