using DaxStack.Device.Hosting;
using DaxStack.Device.Media;
using DaxStack.Device.Namespaces;
using DaxStack.Device.Cost;
using DaxStack.Driver.Hosting;
using DaxStack.Driver.Pmem;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace DaxStack.Driver.Tests.Hosting;

public class AddPmemDriverTests
{
    private static IHost Build(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddNvdimm();
        builder.Services.AddPmemDriver();
        return builder.Build();
    }

    [Test]
    public void TheDriverComesFromTheHostWithItsConfiguredOptions()
    {
        using var host = Build(new() { ["Pmem:QueueCount"] = "3", ["Pmem:LogicalBlockSize"] = "4096" });
        var driver = host.Services.GetRequiredService<PmemDriver>();
        using var bus = new NvdimmBus(host.Services.GetRequiredService<CostProfileCatalog>());
        var region = bus.AddMemory(new NativeMedia(4 << 20));
        var device = driver.AttachPmem(region, region.Namespaces[0]);
        Assert.That(device.QueueCpus, Has.Count.EqualTo(3));
        Assert.That(device.Limits.LogicalBlockSize, Is.EqualTo(4096));
        Assert.That(device.Limits.Capacity, Is.EqualTo(4 << 20));
        Assert.That(device.Name, Is.EqualTo("pmem0"));
    }

    [Test]
    public void DefaultsAreOneQueuePerProcessorAndTheNamespacesSectorSize()
    {
        using var host = Build([]);
        var options = host.Services.GetRequiredService<IOptions<PmemOptions>>().Value;
        Assert.That(options.QueueCount, Is.Zero);
        Assert.That(options.LogicalBlockSize, Is.Zero);
        using var bus = new NvdimmBus(host.Services.GetRequiredService<CostProfileCatalog>());
        var region = bus.AddMemory(new NativeMedia(4 << 20));
        var device = host.Services.GetRequiredService<PmemDriver>().AttachPmem(region, region.Namespaces[0]);
        Assert.That(device.QueueCpus, Has.Count.EqualTo(Math.Clamp(Environment.ProcessorCount, 1, 64)));
        Assert.That(device.Limits.LogicalBlockSize, Is.EqualTo(512));
    }

    [TestCase("Pmem:QueueCount", "65", "Pmem:QueueCount must be 0 (one per processor) to 64")]
    [TestCase("Pmem:QueueCount", "-1", "Pmem:QueueCount must be 0 (one per processor) to 64")]
    [TestCase("Pmem:LogicalBlockSize", "1024", "Pmem:LogicalBlockSize must be 0 (the namespace's), 512 or 4096")]
    public void BadOptionsAreRefusedNamingTheKey(string key, string value, string message)
    {
        using var host = Build(new() { [key] = value });
        var e = Assert.Throws<OptionsValidationException>(() => _ = host.Services.GetRequiredService<IOptions<PmemOptions>>().Value);
        Assert.That(e!.Message, Does.Contain(message));
    }

    [Test]
    public void AMisspeltKeyIsRefusedRatherThanIgnored()
    {
        using var host = Build(new() { ["Pmem:QueueCont"] = "3" });
        var e = Assert.Throws<InvalidOperationException>(() => _ = host.Services.GetRequiredService<IOptions<PmemOptions>>().Value);
        Assert.That(e!.Message, Does.Contain("'QueueCont'"));
    }

    [TestCase(65, 0, "Pmem:QueueCount must be 0 (one per processor) to 64")]
    [TestCase(0, 1024, "Pmem:LogicalBlockSize must be 0 (the namespace's), 512 or 4096")]
    public void ADriverMadeWithBadOptionsNamesItsParameterAndTheKey(int queues, int logicalBlockSize, string message)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new PmemDriver(new PmemOptions { QueueCount = queues, LogicalBlockSize = logicalBlockSize }));
        Assert.That(e!.ParamName, Is.EqualTo("options"));
        Assert.That(e.Message, Does.Contain(message));
        Assert.Throws<ArgumentNullException>(() => _ = new PmemDriver(null!));
    }
}
