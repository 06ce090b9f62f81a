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
    public void InvalidOptionsFailValidation()
    {
        using var host = Build(new() { ["Nvdimm:InMemorySize"] = "-1" });
        Assert.Throws<OptionsValidationException>(() => _ = host.Services.GetRequiredService<IOptions<NvdimmOptions>>().Value);
    }
}
