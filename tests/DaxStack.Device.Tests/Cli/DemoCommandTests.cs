namespace DaxStack.Device.Tests.Cli;

public class DemoCommandTests
{
    [Test]
    public void TheTourShowsLossPersistenceEadrPoisonAndCosts()
    {
        var (exit, output, error) = CliRunner.Run("demo");
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.Zero, error);
            Assert.That(output, Does.Contain("load now reads 16 zero bytes: the store was lost"));
            Assert.That(output, Does.Contain("sfence: write-back complete (lines in flight: 0)"));
            Assert.That(output, Does.Contain("power failure (strict): load reads \"persistent hello\""));
            Assert.That(output, Does.Contain("(0, 2) never appears"));
            Assert.That(output, Does.Contain("profile optane-eadr: store, no flush, power failure (strict): load reads \"persistent hello\""));
            Assert.That(output, Does.Contain("machine check: uncorrectable memory error (poison) at physical address 0x100008028"));
            Assert.That(output, Does.Contain("sector 8 reads 16 zero bytes: lost; sector 16 reads \"persistent hello\": kept"));
            Assert.That(output, Does.Contain("then a flush bio, power failure: sector 8 reads \"persistent hello\""));
            Assert.That(output, Does.Contain("read it: Input/output error (EIO)"));
            Assert.That(output, Does.Contain("clears the poison: read ok, bad blocks left: 0"));
            Assert.That(output, Does.Contain("/notes: 10200 bytes, intact; /draft: gone (ENOENT)"));
            Assert.That(output, Does.Contain("fiemap of /copy shows 1 extent(s), flags FIEMAP_EXTENT_LAST, FIEMAP_EXTENT_SHARED"));
            Assert.That(output, Does.Contain("/notes still starts with 'p'"));
            Assert.That(output, Does.Contain("our checker (repair -n): clean"));
            Assert.That(output, Does.Contain("64 B store + clwb + sfence"));
            Assert.That(output, Does.Contain("modeled"));
        });
    }

    [Test]
    public void TheProfileComesFromTheCommandLineConfiguration()
    {
        var (exit, output, _) = CliRunner.Run("demo", "--Nvdimm:Profile=dram");
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.Zero);
            Assert.That(output, Does.Contain("profile dram (Adr persistence domain)"));
        });
    }

    [Test]
    public void AnEadrProfileGetsItsOwnCostTableAndTheTourSaysWhichDeviceIsAdr()
    {
        // The tour's ADR steps need an ADR device; the profile asked for is still the one whose costs it shows.
        var (exit, output, error) = CliRunner.Run(
            "--Nvdimm:Profiles:slow-eadr:Base=optane-eadr", "--Nvdimm:Profiles:slow-eadr:Set:FenceNs=500", "demo", "--profile", "slow-eadr");
        string sfence = output.Split('\n').Single(l => l.TrimStart().StartsWith("sfence, nothing outstanding", StringComparison.Ordinal));
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.Zero, error);
            Assert.That(output, Does.Contain("profile slow-eadr is eADR: the ADR device of the other steps uses optane-adr"));
            Assert.That(output, Does.Contain("profile slow-eadr: store, no flush, power failure (strict)"));
            Assert.That(output, Does.Contain("8. Modeled cost on slow-eadr"));
            Assert.That(sfence, Does.Contain("500.0"));
        });
    }

    [TestCase(new string[0], "on profile optane-adr (Optane-class numbers")]
    [TestCase(new[] { "--profile", "optane-eadr" }, "on profile optane-eadr (Optane-class numbers")]
    [TestCase(new[] { "--profile", "dram" }, "on profile dram (DRAM-class numbers")]
    [TestCase(new[] { "--Nvdimm:Profile=dram" }, "on profile dram (DRAM-class numbers")]
    [TestCase(new[] { "--Nvdimm:Profiles:slow:Set:FenceNs=500", "--profile", "slow" }, "on profile slow (configured numbers")]
    [TestCase(new[] { "--Nvdimm:Profiles:slow:Base=dram", "--profile", "slow" }, "on profile slow (configured numbers")]
    [TestCase(new[] { "--Nvdimm:Profiles:dram:Set:FenceNs=500", "--profile", "dram" }, "on profile dram (configured numbers")]
    public void TheClosingLineNamesTheProfileTheCostTableUsed(string[] args, string expected)
    {
        var (exit, output, error) = CliRunner.Run(["demo", .. args]);
        string last = output.TrimEnd().Split('\n')[^1].Trim();
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.Zero, error);
            Assert.That(last, Does.StartWith("Figures are modeled " + expected).And.EndWith("not measured wall-clock time."));
            if (!expected.Contains("Optane", StringComparison.Ordinal))
                Assert.That(output, Does.Not.Contain("Optane-class"));
        });
    }

    [Test]
    public void AnUnknownProfileIsAClearError()
    {
        var (exit, _, error) = CliRunner.Run("demo", "--profile", "nope");
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1));
            Assert.That(error, Does.StartWith("demo: unknown cost profile 'nope'"));
        });
    }

    [Test]
    public void InvalidConfigurationIsReportedNotThrown()
    {
        var (exit, _, error) = CliRunner.Run("demo", "--Nvdimm:InMemorySize=1000");
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1));
            Assert.That(error, Does.Contain("Nvdimm:InMemorySize must be a positive multiple of 4096"));
        });
    }

    [TestCase("4096")]
    [TestCase("32768")]
    public void AnInMemoryDeviceTooSmallForTheTourIsAClearError(string size)
    {
        var (exit, output, error) = CliRunner.Run("demo", $"--Nvdimm:InMemorySize={size}");
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1), output);
            Assert.That(error, Does.StartWith($"demo: Nvdimm:InMemorySize {size} is too small for the tour"));
            Assert.That(error, Does.Not.Contain("internal error"));
        });
    }

    [Test]
    public void AnInMemoryDeviceThatCannotBeAllocatedIsAClearError()
    {
        var (exit, _, error) = CliRunner.Run("demo", $"--Nvdimm:InMemorySize={1L << 56}");
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1));
            Assert.That(error, Does.StartWith("demo: cannot allocate").And.Contain("Cannot allocate memory"));
            Assert.That(error, Does.Not.Contain("internal error"));
        });
    }

    [Test]
    public void AnInMemoryDeviceThatCannotBeAllocatedIsShownInUnitsNotSeventeenDigits()
    {
        var (exit, _, error) = CliRunner.Run("demo", $"--Nvdimm:InMemorySize={1L << 56}");
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1));
            Assert.That(error, Does.Contain("64 PiB").And.Contain("Nvdimm:InMemorySize"));
            Assert.That(error, Does.Not.Contain((1L << 56).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        });
    }

    // Latencies at the model's limit (1e9 ns) and bandwidths at its floor (1e-6 GB/s) make rows of
    // tens of seconds: the cost table keeps its columns, printing them in scientific notation.
    [Test]
    public void HugeModeledCostsKeepTheCostTablesColumns()
    {
        string[] settings = ["ReadLatencyRandomNs=1e9", "ReadLatencySequentialNs=1e9", "CacheHitNs=1e9", "FenceNs=1e9", "StoreNs=1e9",
            "ReadBandwidthGBps=1e-6", "WriteBandwidthNtGBps=1e-6", "WriteBandwidthClwbGBps=1e-6"];
        var (exit, output, error) = CliRunner.Run([.. settings.Select(s => "--Nvdimm:Profiles:slow:Set:" + s), "demo", "--profile", "slow"]);
        var lines = output.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        int header = lines.FindIndex(l => l.TrimStart().StartsWith("operation", StringComparison.Ordinal));
        int end = lines[header].IndexOf("modeled ns", StringComparison.Ordinal) + "modeled ns".Length;
        var rows = lines.Skip(header + 1).TakeWhile(l => !l.TrimStart().StartsWith("Figures", StringComparison.Ordinal)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.Zero, error);
            Assert.That(rows, Has.Count.EqualTo(10));
            foreach (var row in rows)
                Assert.That(row[end - 1] != ' ' && row[end] == ' ', Is.True, $"the modeled ns column ends where its header does: '{row}'");
            Assert.That(rows, Has.Some.Match(@"\de\+\d"), "tens of seconds in scientific notation");
        });
    }

    [Test]
    public void ALogicalBlockSizeTheTourCannotUseIsAClearErrorBeforeAnyStep()
    {
        var (exit, output, error) = CliRunner.Run("demo", "--Pmem:LogicalBlockSize=4096");
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1), error);
            Assert.That(error, Does.StartWith("demo: Pmem:LogicalBlockSize 4096"));
            Assert.That(error, Does.Not.Contain("internal error"));
            Assert.That(output, Does.Not.Contain("clears the poison"), "no step claims what did not happen");
        });
    }

    [Test]
    public void AConfiguredDefaultProfileThatDoesNotExistIsReported()
    {
        var (exit, _, error) = CliRunner.Run("demo", "--Nvdimm:Profile=optane-zz");
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1));
            Assert.That(error, Does.StartWith("daxstack: configuration: Nvdimm:Profile: unknown cost profile 'optane-zz'"), "the message names the key at fault");
        });
    }

    [TestCase("--Nvdimm:Profiles:bad:Base=optane-zz", "Nvdimm:Profiles:bad: cost profile 'bad': unknown base profile 'optane-zz'")]
    [TestCase("--Nvdimm:Profiles:bad:Set:WarpFactor=9", "Nvdimm:Profiles:bad: cost profile 'bad': 'WarpFactor' is not a cost profile setting (the settings: Technology, Domain, Dimms,")]
    [TestCase("--Nvdimm:Bogus=1", "unknown setting 'Bogus': not a key of section Nvdimm")]
    [TestCase("--Nvdimm:Profiles::Base=dram", "Nvdimm:Profiles: cost profile '': a profile's name must not be empty or blank")]
    [TestCase("--Nvdimm:Profiles: :Set:FenceNs=3", "Nvdimm:Profiles: cost profile ' ': a profile's name must not be empty or blank")]
    [TestCase("--Nvdimm:Profiles:bad:Sett:FenceNs=1", "unknown setting 'Sett': not a key of a custom cost profile (Base, Set)")]
    [TestCase("--Pmem:QueueCont=1", "unknown setting 'QueueCont': not a key of section Pmem")]
    [TestCase("--Nbd:MaxConection=1", "unknown setting 'MaxConection': not a key of section Nbd")]
    // A list or a section where one value belongs, and the other way round: the message names the key,
    // not the .NET type the binder failed on.
    [TestCase("--Nvdimm:Profile:0=dram", "Nvdimm:Profile: takes one value, not a list or a section")]
    [TestCase("--Nvdimm:InMemorySize:0=4096", "Nvdimm:InMemorySize: takes one value, not a list or a section")]
    [TestCase("--Nvdimm:Profiles:x:Base:0=dram", "Nvdimm:Profiles:x:Base: takes one value, not a list or a section")]
    [TestCase("--Pmem:QueueCount:0=1", "Pmem:QueueCount: takes one value, not a list or a section")]
    [TestCase("--Nbd:MaxConnections:a=1", "Nbd:MaxConnections: takes one value, not a list or a section")]
    [TestCase("--Nvdimm:Profiles:x=dram", "Nvdimm:Profiles:x: a section of settings, not one value ('dram')")]
    [TestCase("--Nvdimm:Profiles:x:Set=dram", "Nvdimm:Profiles:x:Set: a section of settings, not one value ('dram')")]
    public void ACustomProfileThatCannotBeBuiltIsReportedWithItsKey(string setting, string message)
    {
        var (exit, _, error) = CliRunner.Run("ndctl", "list", setting);
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1));
            Assert.That(error, Does.StartWith("daxstack: configuration: " + message));
            Assert.That(error, Does.Not.Contain("System."));
        });
    }
}

public class ParseErrorTests
{
    [Test]
    public void AnUnknownOptionIsReportedInTheToolsOwnForm()
    {
        var (exit, _, error) = CliRunner.Run("demo", "--bad");
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1));
            Assert.That(error, Does.StartWith("demo: Unrecognized command or argument '--bad'."));
            Assert.That(error, Does.Contain("Try 'daxstack demo --help'."));
        });
    }

    [Test]
    public void AMissingOptionValueNamesTheSubcommand()
    {
        var (exit, _, error) = CliRunner.Run("ndctl", "create-namespace", "--mode");
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1));
            Assert.That(error, Does.StartWith("ndctl create-namespace: "));
        });
    }

    [Test]
    public void NoCommandAtAllIsAnErrorWithAHint()
    {
        var (exit, _, error) = CliRunner.Run();
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1));
            Assert.That(error, Does.Contain("Try 'daxstack --help'."));
        });
    }
}
