using DaxStack.Device.Hosting;
using DaxStack.Driver.Pmem;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DaxStack.Driver.Hosting;

/// <summary>Registers the driver layer with a generic host.</summary>
public static class PmemServiceCollectionExtensions
{
    /// <summary>
    /// Adds the pmem driver: <see cref="PmemOptions"/> bound from the "Pmem" section and validated
    /// on start, and the <see cref="PmemDriver"/> that attaches namespaces.
    /// </summary>
    public static IServiceCollection AddPmemDriver(this IServiceCollection services)
    {
        services.AddOptions<PmemOptions>()
            .Configure<IConfiguration>((_, configuration) =>
                ConfigurationShape.Check(configuration.GetSection(PmemOptions.SectionName), typeof(PmemOptions)))
            .BindConfiguration(PmemOptions.SectionName, o => o.ErrorOnUnknownConfiguration = true)
            .Validate(o => o.QueueCount is >= 0 and <= 64, "Pmem:QueueCount must be 0 (one per processor) to 64")
            .Validate(o => o.LogicalBlockSize is 0 or 512 or 4096, "Pmem:LogicalBlockSize must be 0 (the namespace's), 512 or 4096")
            .ValidateOnStart();
        services.AddSingleton(sp => new PmemDriver(
            sp.GetRequiredService<IOptions<PmemOptions>>().Value, sp.GetService<ILogger<PmemDriver>>()));
        return services;
    }
}
