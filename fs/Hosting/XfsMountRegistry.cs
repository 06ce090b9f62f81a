using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Hosting;

/// <summary>
/// The mounted XFS-like filesystems the log worker serves. A mount is registered after
/// <see cref="XfsMount.Mount"/> and forgotten when it unmounts (or when unregistered).
/// Thread-safe: mounts come and go while the worker iterates a snapshot. Lock order: a mount's
/// <see cref="XfsMount.Lock"/> (held while it raises <see cref="XfsMount.Unmounted"/>), then the registry's.
/// </summary>
/// <remarks>Models the set of mounts whose per-mount <c>m_log->l_work</c> (the delayed work of <c>xfs_log_worker</c>) is queued; the kernel has one work item per mount instead of one list.</remarks>
public sealed class XfsMountRegistry
{
    private readonly Lock _lock = new();
    private readonly List<XfsMount> _mounts = [];
    private readonly Action<XfsMount> _onUnmounted;

    /// <summary>An empty registry.</summary>
    public XfsMountRegistry() => _onUnmounted = m => Unregister(m);

    /// <summary>The registered mounts, as a snapshot.</summary>
    public IReadOnlyList<XfsMount> Mounts
    {
        get
        {
            lock (_lock)
                return [.. _mounts];
        }
    }

    /// <summary>Adds <paramref name="mount"/> (once); it leaves by itself when it unmounts.</summary>
    public void Register(XfsMount mount)
    {
        ArgumentNullException.ThrowIfNull(mount);
        if (mount.IsUnmounted)
            throw new InvalidOperationException("registering an unmounted filesystem");
        lock (_lock)
        {
            if (_mounts.Contains(mount))
                return;
            _mounts.Add(mount);
        }
        mount.Unmounted += _onUnmounted;
    }

    /// <summary>Removes <paramref name="mount"/>; true when it was registered.</summary>
    public bool Unregister(XfsMount mount)
    {
        ArgumentNullException.ThrowIfNull(mount);
        bool removed;
        lock (_lock)
            removed = _mounts.Remove(mount);
        if (removed)
            mount.Unmounted -= _onUnmounted;
        return removed;
    }
}
