using Microsoft.Extensions.Hosting;

namespace DaxStack.Driver.Nbd;

/// <summary>Runs the host's <see cref="NbdServer"/>: listening from host start, stopped (and its exports flushed) at host stop.</summary>
/// <remarks>Models the nbd-server daemon as a long-running service of the generic host.</remarks>
public sealed class NbdHostedService(NbdServer server) : IHostedService
{
    /// <summary>The server this service runs.</summary>
    public NbdServer Server { get; } = server;

    /// <inheritdoc/>
    public Task StartAsync(CancellationToken cancellationToken) => Server.StartAsync(cancellationToken);

    /// <inheritdoc/>
    public Task StopAsync(CancellationToken cancellationToken) => Server.StopAsync(cancellationToken);
}
