using DaxStack.Device.Cost;
using DaxStack.Device.Hosting;
using DaxStack.Device.Persistence;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace DaxStack.Device.Tests.Hosting;

public class AddNvdimmTests
{
    private static IHost Build(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddNvdimm();
        return builder.Build();
    }

    [Test]
    public void DefaultsAreOptaneAdrAnd256MiB()
    {
        using var host = Build([]);
        var options = host.Services.GetRequiredService<IOptions<NvdimmOptions>>().Value;
        var catalog = host.Services.GetRequiredService<CostProfileCatalog>();
        Assert.Multiple(() =>
        {
            Assert.That(options.InMemorySize, Is.EqualTo(256L << 20));
            Assert.That(catalog.Default.Name, Is.EqualTo("optane-adr"));
            Assert.That(catalog.All.Select(p => p.Name), Is.SupersetOf(new[] { "optane-adr", "optane-eadr", "dram" }));
        });
    }

    [Test]
    public void ACustomProfileStartsFromItsBaseAndOverridesWhatItSets()
    {
        using var host = Build(new()
        {
            ["Nvdimm:Profile"] = "slow-dimm",
            ["Nvdimm:Profiles:slow-dimm:Base"] = "optane-adr",
            ["Nvdimm:Profiles:slow-dimm:Set:ReadLatencyRandomNs"] = "500",
            ["Nvdimm:Profiles:slow-dimm:Set:Domain"] = "eadr",
        });
        var p = host.Services.GetRequiredService<CostProfileCatalog>().Default;
        Assert.Multiple(() =>
        {
            Assert.That(p.Name, Is.EqualTo("slow-dimm"));
            Assert.That(p.ReadLatencyRandomNs, Is.EqualTo(500));
            Assert.That(p.Domain, Is.EqualTo(PersistenceDomain.Eadr));
            Assert.That(p.ReadLatencySequentialNs, Is.EqualTo(CostProfiles.OptaneAdr.ReadLatencySequentialNs));
        });
    }

    // A profile named after a built-in one with no Base changes that built-in profile: "dram" stays
    // DRAM (six channels, 64-byte units), "optane-eadr" stays eADR, instead of becoming optane-adr.
    [TestCase("dram")]
    [TestCase("optane-eadr")]
    [TestCase("OPTANE-EADR")]
    public void ACustomProfileThatRedefinesABuiltInOneWithoutABaseStartsFromIt(string name)
    {
        using var host = Build(new() { [$"Nvdimm:Profiles:{name}:Set:FenceNs"] = "5" });
        var p = host.Services.GetRequiredService<CostProfileCatalog>().Get(name);
        var builtIn = CostProfiles.Find(name)!;
        Assert.Multiple(() =>
        {
            Assert.That(p.FenceNs, Is.EqualTo(5));
            Assert.That(p with { Name = builtIn.Name, FenceNs = builtIn.FenceNs }, Is.EqualTo(builtIn));
        });
    }

    [Test]
    public void AnExplicitBaseIsKeptAndANewNameStillStartsFromOptaneAdr()
    {
        using var host = Build(new()
        {
            ["Nvdimm:Profiles:dram:Base"] = "optane-adr",
            ["Nvdimm:Profiles:fresh:Set:FenceNs"] = "5",
        });
        var catalog = host.Services.GetRequiredService<CostProfileCatalog>();
        Assert.Multiple(() =>
        {
            Assert.That(catalog.Get("dram").Technology, Is.EqualTo("optane"), "an explicit Base is kept");
            Assert.That(catalog.Get("fresh").Technology, Is.EqualTo("optane"), "a new name still starts from optane-adr");
        });
    }

    [Test]
    public void AnUnknownSettingInACustomProfileIsNamed()
    {
        using var host = Build(new()
        {
            ["Nvdimm:Profiles:bad:Set:WarpFactor"] = "9",
        });
        var e = Assert.Throws<InvalidOperationException>(() => host.Services.GetRequiredService<CostProfileCatalog>());
        Assert.That(e!.Message, Does.Contain("'WarpFactor' is not a cost profile setting"));
    }

    [Test]
    public void ABadValueInACustomProfileIsNamed()
    {
        using var host = Build(new()
        {
            ["Nvdimm:Profiles:bad:Set:ReadLatencyRandomNs"] = "fast",
        });
        var e = Assert.Throws<InvalidOperationException>(() => host.Services.GetRequiredService<CostProfileCatalog>());
        Assert.That(e!.Message, Does.Contain("'fast' is not a valid value for ReadLatencyRandomNs"));
    }

    [Test]
    public void ANullBaseInACustomProfileIsNamedNotThrownAsANullKey()
    {
        // appsettings.json: "Profiles": { "bad": { "Base": null } }
        using var host = Build(new() { ["Nvdimm:Profiles:bad:Base"] = null });
        var e = Assert.Throws<InvalidOperationException>(() => host.Services.GetRequiredService<CostProfileCatalog>());
        Assert.That(e!.Message, Does.StartWith("cost profile 'bad': unknown base profile"));
    }

    [TestCase("a-derived", "b-base")]
    [TestCase("z-derived", "b-base")]
    public void ACustomProfileMayStartFromAnotherCustomProfileWhateverTheirOrder(string derived, string @base)
    {
        using var host = Build(new()
        {
            [$"Nvdimm:Profiles:{@base}:Base"] = "dram",
            [$"Nvdimm:Profiles:{@base}:Set:FenceNs"] = "7",
            [$"Nvdimm:Profiles:{derived}:Base"] = @base,
            [$"Nvdimm:Profiles:{derived}:Set:StoreNs"] = "3",
        });
        var p = host.Services.GetRequiredService<CostProfileCatalog>().Get(derived);
        Assert.Multiple(() =>
        {
            Assert.That(p.Name, Is.EqualTo(derived));
            Assert.That(p.FenceNs, Is.EqualTo(7));
            Assert.That(p.StoreNs, Is.EqualTo(3));
            Assert.That(p.Technology, Is.EqualTo("dram"));
        });
    }

    [Test]
    public void CustomProfilesBasedOnEachOtherAreACycleNotAnOverflow()
    {
        using var host = Build(new()
        {
            ["Nvdimm:Profiles:a:Base"] = "b",
            ["Nvdimm:Profiles:b:Base"] = "a",
        });
        var e = Assert.Throws<InvalidOperationException>(() => host.Services.GetRequiredService<CostProfileCatalog>());
        Assert.That(e!.Message, Does.Contain("cycle"));
    }

    [TestCase("Domain", "3")]
    [TestCase("Domain", "Adr, Eadr")]
    [TestCase("ReadBandwidthGBps", "Infinity")]
    [TestCase("WriteBandwidthNtGBps", "NaN")]
    [TestCase("Dimms", "100000")]
    [TestCase("NtWriteLatencyNs", "-5")]
    // Finite, but one line would take an infinite time (64 B at 5e-324 GB/s), or a few
    // operations would overflow the clock to infinity.
    [TestCase("ReadBandwidthGBps", "5E-324")]
    [TestCase("WriteBandwidthClwbGBps", "1E-300")]
    [TestCase("DimmWriteIngestNs", "1.7976931348623157E+308")]
    // Valid as a multiple of 256, but 8 M units of state per DIMM.
    [TestCase("WriteCombiningBytes", "2147483392")]
    public void AnOutOfRangeValueInACustomProfileIsRefusedOnceNamed(string setting, string value)
    {
        using var host = Build(new() { [$"Nvdimm:Profiles:bad:Set:{setting}"] = value });
        var e = Assert.Throws<InvalidOperationException>(() => host.Services.GetRequiredService<CostProfileCatalog>());
        Assert.Multiple(() =>
        {
            Assert.That(e!.Message, Does.StartWith("cost profile 'bad': ").And.Contain(setting));
            Assert.That(e.Message.Split("cost profile 'bad'").Length - 1, Is.EqualTo(1), "the profile is named once");
        });
    }

    [TestCase("Nvdimm:Profle", "dram", "'Profle'")]                                    // a misspelt option
    [TestCase("Nvdimm:Profiles:x:Sett:FenceNs", "5", "'Sett'")]                         // a misspelt Set
    [TestCase("Nvdimm:Profiles:x:Set:FenceNs:0", "500000", "Nvdimm:Profiles:x:Set:FenceNs: a cost profile setting takes one value")]
    public void AConfigurationKeyTheDeviceLayerDoesNotKnowFailsTheStart(string key, string value, string named)
    {
        using var host = Build(new() { [key] = value });
        var e = Assert.Catch(() => host.Start());
        var messages = new List<string>();
        for (Exception? x = e; x != null; x = x.InnerException)
            messages.Add(x.Message);
        Assert.That(string.Join(" ", messages), Does.Contain(named));
    }

    [TestCase(64, 64 << 20, 64, false)]     // each within its own limit; 64 M units together
    [TestCase(64, 1 << 20, 64, true)]       // exactly the limit: 1 M units
    [TestCase(2, 64 << 20, 64, false)]
    [TestCase(1, 64 << 20, 64, true)]
    public void TheBufferOfAllTheDimmsTogetherIsLimited(int dimms, int bufferBytes, int granularity, bool valid)
    {
        using var host = Build(new()
        {
            ["Nvdimm:Profiles:big:Base"] = "dram",
            ["Nvdimm:Profiles:big:Set:Dimms"] = dimms.ToString(),
            ["Nvdimm:Profiles:big:Set:WriteCombiningBytes"] = bufferBytes.ToString(),
            ["Nvdimm:Profiles:big:Set:MediaGranularity"] = granularity.ToString(),
        });
        if (valid)
        {
            Assert.That(host.Services.GetRequiredService<CostProfileCatalog>().Get("big").Dimms, Is.EqualTo(dimms));
            return;
        }
        var e = Assert.Throws<InvalidOperationException>(() => host.Services.GetRequiredService<CostProfileCatalog>());
        Assert.That(e!.Message, Does.StartWith("cost profile 'big': WriteCombiningBytes").And.Contain("buffer units"));
    }

    [Test]
    public void InvalidOptionsFailValidation()
    {
        using var host = Build(new() { ["Nvdimm:InMemorySize"] = "-1" });
        Assert.Throws<OptionsValidationException>(() => _ = host.Services.GetRequiredService<IOptions<NvdimmOptions>>().Value);
    }

    /// <summary>
    /// Audit: only an empty Profile failed validation; an unknown one, or a custom profile that
    /// cannot be built, passed the host's start and failed later, at the first use of the catalog,
    /// with a message that did not name the configuration key.
    /// </summary>
    [TestCase("Nvdimm:Profile", "optane-zz", "Nvdimm:Profile: unknown cost profile 'optane-zz'")]
    [TestCase("Nvdimm:Profiles:bad:Set:WarpFactor", "9", "Nvdimm:Profiles:bad: cost profile 'bad': 'WarpFactor' is not a cost profile setting")]
    [TestCase("Nvdimm:Profiles:bad:Base", "optane-zz", "Nvdimm:Profiles:bad: cost profile 'bad': unknown base profile 'optane-zz'")]
    [TestCase("Nvdimm:Profiles:bad:Set:ReadLatencyRandomNs", "fast", "Nvdimm:Profiles:bad: cost profile 'bad': 'fast' is not a valid value for ReadLatencyRandomNs")]
    public void AnUnknownOrUnbuildableProfileFailsTheHostStartNamingTheKey(string key, string value, string message)
    {
        using var host = Build(new() { [key] = value });
        var e = Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.That(e!.Message, Does.Contain(message));
    }

    [Test]
    public void ValidProfilesStillStart()
    {
        using var host = Build(new()
        {
            ["Nvdimm:Profile"] = "Mine",
            ["Nvdimm:Profiles:mine:Base"] = "dram",
            ["Nvdimm:Profiles:mine:Set:StoreNs"] = "3",
        });
        Assert.DoesNotThrowAsync(() => host.StartAsync());
        Assert.That(host.Services.GetRequiredService<CostProfileCatalog>().Default.StoreNs, Is.EqualTo(3));
        host.StopAsync().GetAwaiter().GetResult();
    }
}
