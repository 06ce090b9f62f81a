using DaxStack.Fs.Xfs.OnDisk;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace DaxStack.Fs.Hosting;

/// <summary>
/// The background log worker: every <see cref="XfsLogOptions.PushInterval"/> it forces the CIL
/// of every mount in the <see cref="XfsMountRegistry"/> and writes the forced buffers home
/// (<see cref="Xfs.Trans.XfsMount.PushLog"/>), so committed transactions become durable and the
/// log tail moves without any fsync. A mount whose push fails (it is then shut down) is logged
/// and skipped; the others are still served.
/// </summary>
/// <remarks>Models the kernel's <c>xfs_log_worker</c> (queued every <c>xfssyncd_centisecs</c>: <c>xfs_log_force(mp, 0)</c>, then <c>xfs_ail_push_all</c> waking <c>xfsaild</c>).</remarks>
public sealed class XfsLogWorker : BackgroundService
{
    private readonly XfsMountRegistry _registry;
    private readonly XfsLogOptions _options;
    private readonly ILogger _logger;

    /// <summary>A worker serving the mounts of <paramref name="registry"/>.</summary>
    public XfsLogWorker(XfsMountRegistry registry, IOptions<XfsLogOptions> options, ILogger<XfsLogWorker>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(options);
        _registry = registry;
        _options = options.Value;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Completed push rounds (each over every registered mount).</summary>
    public long Rounds => Interlocked.Read(ref _rounds);

    private long _rounds;

    /// <summary>One round: pushes every registered mount now.</summary>
    public void PushAll()
    {
        foreach (var mount in _registry.Mounts)
        {
            try
            {
                mount.PushLog();
            }
            catch (XfsException e)
            {
                XfsLog.PushFailed(_logger, mount.Device.Name, e.Message);
            }
        }
        Interlocked.Increment(ref _rounds);
    }

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        XfsLog.WorkerStarted(_logger, _options.PushInterval);
        using var timer = new PeriodicTimer(_options.PushInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
                PushAll();
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
