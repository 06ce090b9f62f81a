using DaxStack.Device.Hosting;
using DaxStack.Driver.Nbd;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DaxStack.Driver.Hosting;

/// <summary>Registers the NBD export with a generic host.</summary>
public static class NbdServiceCollectionExtensions
{
    /// <summary>
    /// Adds the NBD server: <see cref="NbdServerOptions"/> bound from the "Nbd" section and
    /// validated on start, the <see cref="NbdServer"/> serving every registered
    /// <see cref="NbdExport"/> (the first registered is the default export), and the hosted service
    /// that runs it. Adding it twice changes nothing.
    /// </summary>
    public static IServiceCollection AddNbdServer(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<NbdServerOptions>()
            .Configure<IConfiguration>((_, configuration) =>
                ConfigurationShape.Check(configuration.GetSection(NbdServerOptions.SectionName), typeof(NbdServerOptions)))
            .BindConfiguration(NbdServerOptions.SectionName, o => o.ErrorOnUnknownConfiguration = true)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<NbdServerOptions>, NbdServerOptionsValidator>());
        services.TryAddSingleton(sp => new NbdServer(
            sp.GetRequiredService<IOptions<NbdServerOptions>>().Value,
            sp.GetServices<NbdExport>(),
            sp.GetService<ILoggerFactory>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, NbdHostedService>());
        return services;
    }

    /// <summary>Adds <paramref name="export"/> to the NBD server (adding the server if needed).</summary>
    public static IServiceCollection AddNbdExport(this IServiceCollection services, NbdExport export)
    {
        ArgumentNullException.ThrowIfNull(export);
        services.AddNbdServer();
        services.AddSingleton(export);
        return services;
    }

    /// <summary>Adds the export <paramref name="factory"/> builds when the server is created (adding the server if needed).</summary>
    public static IServiceCollection AddNbdExport(this IServiceCollection services, Func<IServiceProvider, NbdExport> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        services.AddNbdServer();
        services.AddSingleton(factory);
        return services;
    }
}
