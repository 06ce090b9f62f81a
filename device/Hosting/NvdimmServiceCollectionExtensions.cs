using DaxStack.Device.Cost;
using DaxStack.Device.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace DaxStack.Device.Hosting;

/// <summary>Registers the device layer with a generic host.</summary>
public static class NvdimmServiceCollectionExtensions
{
    /// <summary>
    /// Adds the NVDIMM emulator: <see cref="NvdimmOptions"/> bound from the "Nvdimm" section and
    /// validated on start, the <see cref="CostProfileCatalog"/>, and the device meter.
    /// </summary>
    public static IServiceCollection AddNvdimm(this IServiceCollection services)
    {
        services.AddOptions<NvdimmOptions>()
            .BindConfiguration(NvdimmOptions.SectionName)
            .Validate(o => o.InMemorySize > 0 && o.InMemorySize % 4096 == 0, "Nvdimm:InMemorySize must be a positive multiple of 4096")
            .Validate(o => !string.IsNullOrWhiteSpace(o.Profile), "Nvdimm:Profile must name a cost profile")
            .ValidateOnStart();
        services.AddSingleton(sp => new CostProfileCatalog(sp.GetRequiredService<IOptions<NvdimmOptions>>().Value));
        services.AddSingleton<DeviceMetrics>();
        return services;
    }
}
