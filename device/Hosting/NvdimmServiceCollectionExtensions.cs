using DaxStack.Device.Cost;
using DaxStack.Device.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace DaxStack.Device.Hosting;

/// <summary>Registers the device layer with a generic host.</summary>
public static class NvdimmServiceCollectionExtensions
{
    /// <summary>
    /// Adds the NVDIMM emulator: <see cref="NvdimmOptions"/> bound from the "Nvdimm" section and
    /// validated on start (the cost profiles they name or define included: an unknown profile or a
    /// custom one that cannot be built fails the start with an <see cref="OptionsValidationException"/>
    /// naming the key), the <see cref="CostProfileCatalog"/>, and the device meter.
    /// </summary>
    public static IServiceCollection AddNvdimm(this IServiceCollection services)
    {
        // Unknown keys fail the start rather than being ignored (a misspelt setting would otherwise
        // leave the default in force unnoticed), and so does a setting given a list or a section,
        // or a section given one value.
        services.AddOptions<NvdimmOptions>()
            .Configure<IConfiguration>((_, configuration) =>
            {
                var section = configuration.GetSection(NvdimmOptions.SectionName);
                CheckProfileSettings(section);
                ConfigurationShape.Check(section, typeof(NvdimmOptions));
            })
            .BindConfiguration(NvdimmOptions.SectionName, o => o.ErrorOnUnknownConfiguration = true)
            .Validate(o => o.InMemorySize > 0 && o.InMemorySize % 4096 == 0, "Nvdimm:InMemorySize must be a positive multiple of 4096")
            .Validate(o => !string.IsNullOrWhiteSpace(o.Profile), "Nvdimm:Profile must name a cost profile")
            .ValidateOnStart();
        // The profiles themselves, at start too: an unknown Profile or a custom profile that cannot
        // be built fails the start naming its key, not the first use of the catalog (which still
        // throws the catalog's own exception when it is asked for outside a started host).
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, NvdimmStartupCheck>());
        services.AddSingleton(sp => new CostProfileCatalog(sp.GetRequiredService<IOptions<NvdimmOptions>>().Value));
        services.AddSingleton<DeviceMetrics>();
        return services;
    }

    // Each custom profile's Set entry is one value: a list ("FenceNs": [1, 2]) or a section
    // (FenceNs:0=...) would otherwise bind to nothing and leave the base profile's value in force.
    private static void CheckProfileSettings(IConfigurationSection nvdimm)
    {
        foreach (var profile in nvdimm.GetSection("Profiles").GetChildren())
        {
            foreach (var setting in profile.GetSection("Set").GetChildren())
            {
                if (setting.Value == null && setting.GetChildren().Any())
                    throw new InvalidOperationException($"{setting.Path}: a cost profile setting takes one value, not a list or a section");
            }
        }
    }
}

/// <summary>
/// Checks, as the host starts (before any hosted service's start), that a cost profile catalog can
/// be made from <see cref="NvdimmOptions"/>; a failure is an <see cref="OptionsValidationException"/>
/// naming the configuration key at fault.
/// </summary>
internal sealed class NvdimmStartupCheck(IOptions<NvdimmOptions> options) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        var value = options.Value;
        // An empty Profile has its own message (the options' validation).
        if (!string.IsNullOrWhiteSpace(value.Profile) && CostProfileCatalog.ConfigurationProblem(value) is { } problem)
            throw new OptionsValidationException(Options.DefaultName, typeof(NvdimmOptions), [problem]);
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
