using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace DaxStack.Fs.Hosting;

/// <summary>Registers the XFS-like filesystem's services with a generic host.</summary>
public static class XfsServiceCollectionExtensions
{
    /// <summary>
    /// Adds the XFS-like filesystem: <see cref="XfsLogOptions"/> bound from the "Xfs:Log"
    /// section (then <paramref name="configure"/>, if given) and validated on start, the
    /// <see cref="XfsMountRegistry"/> that mounts join, and the <see cref="XfsLogWorker"/> hosted
    /// service that pushes their logs. Adding it twice registers each service once.
    /// </summary>
    public static IServiceCollection AddXfsLike(this IServiceCollection services, Action<XfsLogOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<XfsLogOptions>().BindConfiguration(XfsLogOptions.SectionName).ValidateOnStart();
        if (configure != null)
            options.Configure(configure);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<XfsLogOptions>, XfsLogOptionsValidator>());
        services.TryAddSingleton<XfsMountRegistry>();
        services.TryAddSingleton<XfsLogWorker>();
        // The worker is resolvable by type (tests and tools push on demand) and runs as a hosted service.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, XfsLogWorker>(sp => sp.GetRequiredService<XfsLogWorker>()));
        return services;
    }
}
