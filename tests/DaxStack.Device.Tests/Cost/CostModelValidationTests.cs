using DaxStack.Device.Cost;
using DaxStack.Device.Tests.Cli;
using DaxStack.Tools.Bench;

namespace DaxStack.Device.Tests.Cost;

/// <summary>
/// The cost model reproduces the published figures of DESIGN.md section 9, and
/// <c>daxstack bench cost-model</c> reports it and fails when a profile does not.
/// </summary>
public class CostModelValidationTests
{
    // The validation is deterministic: run each profile once for every test that reads it.
    private static readonly Dictionary<string, Lazy<IReadOnlyList<CostModelValidation.Row>>> Runs =
        CostProfiles.BuiltIn.ToDictionary(p => p.Name, p => new Lazy<IReadOnlyList<CostModelValidation.Row>>(
            () => CostModelValidation.Run(p, CostModelValidation.DefaultDimmCounts(p))));

    [TestCase("optane-adr", 16)]
    [TestCase("optane-eadr", 11)]
    [TestCase("dram", 8)]
    public void EveryPublishedFigureIsReproducedWithinTenPercent(string name, int publishedRows)
    {
        var rows = Runs[name].Value;
        Assert.Multiple(() =>
        {
            Assert.That(rows.Count(r => r.Published is not null), Is.EqualTo(publishedRows));
            foreach (var r in rows.Where(r => r.Published is not null))
                Assert.That(Math.Abs(r.Error!.Value), Is.LessThanOrEqualTo(CostModelValidation.Tolerance),
                    $"{r.Quantity}: modeled {r.Modeled}, published {r.Published}");
        });
    }

    [Test]
    public void OptaneIsValidatedOnOneDimmAndOnSixInterleaved()
    {
        var rows = Runs["optane-adr"].Value;
        var bandwidth = rows.Where(r => r.Quantity.Contains("bandwidth", StringComparison.Ordinal) && r.Published is not null)
            .ToDictionary(r => r.Quantity, r => r.Published);
        Assert.That(bandwidth, Is.EquivalentTo(new Dictionary<string, double?>
        {
            ["read bandwidth, 1 DIMM (GB/s)"] = 6.6,
            ["write bandwidth, ntstore, 1 DIMM (GB/s)"] = 2.3,
            ["write bandwidth, store+clwb, 1 DIMM (GB/s)"] = 1.8,
            ["read bandwidth, 6 DIMMs (GB/s)"] = 39,
            ["write bandwidth, ntstore, 6 DIMMs (GB/s)"] = 13.9,
        }));
    }

    [Test]
    public void TheCommandPrintsTheTableAndSucceeds()
    {
        var (exit, output, error) = CliRunner.Run("bench", "cost-model", "--profile", "optane-adr", "--dimms", "1");
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.Zero, error);
            Assert.That(output, Does.Contain("idle read latency, random 64 B loads (ns)"));
            Assert.That(output, Does.Contain("one persist, ntstore+sfence of 4 KiB (ns)"));
            Assert.That(output, Does.Contain("write bandwidth, store+clwb, 1 DIMM (GB/s)"));
            Assert.That(output, Does.Contain("all within 10%"));
        });
    }

    [Test]
    public void TheCommandFailsAndMarksTheRowWhenAProfileMissesAFigure()
    {
        var (exit, output, error) = CliRunner.Run(
            "--Nvdimm:Profiles:slow-nt:Base=optane-adr", "--Nvdimm:Profiles:slow-nt:Set:NtWriteLatencyNs=150",
            "bench", "cost-model", "--profile", "slow-nt", "--dimms", "1");
        string ntRow = output.Split('\n').Single(l => l.StartsWith("write latency, ntstore+sfence", StringComparison.Ordinal));
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1));
            Assert.That(ntRow, Does.Contain("+66.7%").And.Contain("off by more than 10%"));
            Assert.That(error, Does.Contain("bench cost-model:"));
        });
    }

    // Zero latencies with a write-combining buffer that holds the whole stream: the write-bandwidth
    // benchmarks end with no modeled time elapsed.
    [TestCase("write bandwidth, ntstore, 1 DIMM (GB/s)", "StoreNs=0", "FlushIssueNs=0", "FenceNs=0", "NtWriteLatencyNs=0",
        "ClwbWriteLatencyNs=0", "DimmWriteIngestNs=0", "WriteCombiningBytes=67108864")]
    // A read bandwidth so high that a 1 MiB load adds less than the clock can resolve.
    [TestCase("read bandwidth, 1 DIMM (GB/s)", "ReadBandwidthGBps=1e300", "ReadLatencySequentialNs=0")]
    public void ABenchmarkTheModelChargesNoTimeIsReportedWithoutInfinity(string quantity, params string[] settings)
    {
        var (exit, output, error) = CliRunner.Run(
            [.. settings.Select(s => "--Nvdimm:Profiles:free:Set:" + s), "bench", "cost-model", "--profile", "free", "--dimms", "1"]);
        string row = output.Split('\n').Single(l => l.StartsWith(quantity, StringComparison.Ordinal));
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1), error);
            Assert.That(output, Does.Not.Contain("Infinity").And.Not.Contain("NaN").And.Not.Contain("\u221e"));
            Assert.That(row, Does.Contain("unbounded").And.Contain("no modeled time elapsed"));
            Assert.That(error, Does.StartWith("bench cost-model: the cost model misses a published figure"));
        });
    }

    // Zero latencies and a bandwidth of 1e300 GB/s: the bandwidth benchmarks measure some 1e307 GB/s.
    [Test]
    public void AstronomicalModeledValuesArePrintedInScientificNotation()
    {
        string[] settings = ["ReadLatencySequentialNs=0", "ReadLatencyRandomNs=0", "CacheHitNs=0", "ReadBandwidthGBps=1e300",
            "WriteBandwidthNtGBps=1e300", "NtWriteLatencyNs=0", "DimmWriteIngestNs=0", "StoreNs=0", "FenceNs=0", "FlushIssueNs=0",
            "ClwbWriteLatencyNs=0"];
        var (exit, output, error) = CliRunner.Run(
            [.. settings.Select(s => "--Nvdimm:Profiles:huge:Set:" + s), "bench", "cost-model", "--profile", "huge"]);
        var lines = output.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        string row = lines.Single(l => l.StartsWith("read bandwidth, 1 DIMM (GB/s)", StringComparison.Ordinal));
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1), error);
            Assert.That(row, Does.Match(@"^read bandwidth, 1 DIMM \(GB/s\) +\d(\.\d+)?e\+\d+ +6\.6 +\+\d(\.\d+)?e\+\d+%  FAST'20 Fig\. 4"));
            Assert.That(lines, Has.None.Match(@"\d{12}"), "no number of a dozen digits or more");
            Assert.That(lines.Max(l => l.Length), Is.LessThanOrEqualTo(160), "the columns hold their values");
        });
    }

    // Profile names and Domain are read in any case; so is the Technology that picks the figures.
    [TestCase("dram", "DRAM", 8)]
    [TestCase("optane-adr", "Optane", 16)]
    public void TheTechnologyIsReadInAnyCase(string @base, string technology, int publishedRows)
    {
        var (exit, output, error) = CliRunner.Run(
            $"--Nvdimm:Profiles:x:Base={@base}", $"--Nvdimm:Profiles:x:Set:Technology={technology}", "bench", "cost-model", "--profile", "x");
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.Zero, error);
            Assert.That(output, Does.Contain($"{publishedRows} rows with a published value, all within 10%."));
        });
    }

    [Test]
    public void AProfileThatCannotHaveTheDefaultSixDimmsIsToldHowToRunItsOwnCount()
    {
        // Valid with its one DIMM; six of its 64 MiB buffers are more units than the model keeps.
        var (exit, output, error) = CliRunner.Run(
            "--Nvdimm:Profiles:big:Set:WriteCombiningBytes=67108864", "bench", "cost-model", "--profile", "big");
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1));
            Assert.That(error, Does.StartWith("bench cost-model: cost profile 'big': WriteCombiningBytes with 6 Dimms"));
            Assert.That(error, Does.Contain("--dimms 1"));
            Assert.That(output, Is.Empty);
        });
    }

    [TestCase("1000000")]
    [TestCase("2147483647")]
    public void ADimmCountBeyondTheModelsLimitIsRefusedAtOnce(string dimms)
    {
        var (exit, _, error) = CliRunner.Run("bench", "cost-model", "--dimms", dimms);
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1));
            Assert.That(error, Does.StartWith($"bench cost-model: --dimms must be from 1 to {CostProfile.MaxDimms} (got {dimms})"));
        });
    }

    [Test]
    public void ADimmCountThatIsNotANumberIsReportedWithoutDotNetTypeNames()
    {
        var (exit, _, error) = CliRunner.Run("bench", "cost-model", "--dimms", "six");
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1));
            Assert.That(error, Does.StartWith("bench cost-model: invalid --dimms 'six'"));
            Assert.That(error, Does.Not.Contain("System."));
        });
    }

    [Test]
    public void AProfileWhoseBenchmarksNeedMoreMemoryThanTheMachineHasIsAClearError()
    {
        // A 1 GiB interleave spreads the write-bandwidth benchmark's 24 streams over 24 GiB of
        // address space: more than this machine can allocate at once (heuristic overcommit).
        Assume.That(MachineMemory.OvercommitPolicy(), Is.Not.EqualTo("1"));
        long memory = MachineMemory.TotalWithSwap();
        Assume.That(memory, Is.LessThan(24L << 30));

        var (exit, _, error) = CliRunner.Run(
            "--Nvdimm:Profiles:wide:Set:InterleaveBytes=1073741824", "bench", "cost-model", "--profile", "wide", "--dimms", "1");
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1));
            Assert.That(error, Does.StartWith("bench cost-model: cannot allocate").And.Contain("Cannot allocate memory"));
            Assert.That(error, Does.Not.Contain("internal error"));
        });
    }

    [Test]
    public void AnUnknownProfileIsAClearError()
    {
        var (exit, _, error) = CliRunner.Run("bench", "cost-model", "--profile", "optane-9000");
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1));
            Assert.That(error, Does.Contain("unknown cost profile 'optane-9000'"));
        });
    }
}
