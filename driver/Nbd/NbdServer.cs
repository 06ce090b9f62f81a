using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using DaxStack.Driver.Block;
using DaxStack.Driver.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DaxStack.Driver.Nbd;

/// <summary>
/// An NBD server: listens on one TCP endpoint and serves its exports to any number of clients at
/// once (up to <see cref="NbdServerOptions.MaxConnections"/>), each connection on threads of its own
/// (see <c>NbdConnection</c>: its socket I/O is synchronous, so no thread pool work is done per request).
/// Fixed newstyle negotiation only (no oldstyle, no TLS); simple replies only (structured replies
/// are declined, which every client accepts). The first export is the default one, chosen by an
/// empty export name.
/// <para>
/// <see cref="StopAsync"/> stops accepting, lets every connection answer the request it is
/// serving (for at most <see cref="NbdServerOptions.StopTimeout"/>), closes the connections, and
/// flushes every export so that every write that was answered is durable.
/// <see cref="PowerFailAsync"/> drops every connection at once and flushes nothing, also when it
/// comes in the middle of a stop.
/// </para>
/// </summary>
/// <remarks>Models nbd-server (the NBD protocol's reference server), as nbdkit and qemu-nbd also implement it.</remarks>
public sealed class NbdServer : IAsyncDisposable
{
    private readonly ILogger _logger;
    private readonly IPEndPoint _endpoint;
    private readonly ConcurrentDictionary<long, NbdConnection> _connections = new();
    private readonly object _gate = new();
    private Socket? _listener;
    private Task _acceptLoop = Task.CompletedTask;
    private Task? _stopTask;
    private long _nextId;
    private bool _started;
    private volatile bool _stopping;
    // Set (under _gate) and cancelled by a power failure: a stop under way stops waiting and flushes nothing.
    private bool _powerFailed;
    private readonly CancellationTokenSource _powerFail = new();

    /// <summary>A server for <paramref name="exports"/> (names must be unique), not yet listening.</summary>
    /// <exception cref="ArgumentException">The options are invalid or two exports share a name.</exception>
    public NbdServer(NbdServerOptions options, IEnumerable<NbdExport> exports, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(exports);
        var errors = options.Validate();
        if (errors.Count > 0)
            throw new ArgumentException(string.Join("; ", errors), nameof(options));
        Options = options;
        Exports = [.. exports];
        var duplicate = Exports.GroupBy(e => e.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate != null)
            throw new ArgumentException($"two NBD exports are named '{duplicate.Key}'", nameof(exports));
        NbdServerOptions.TryParseEndpoint(options.Listen, out var endpoint);
        _endpoint = endpoint!;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<NbdServer>();
    }

    /// <summary>The options in force.</summary>
    public NbdServerOptions Options { get; }

    /// <summary>The exports, the default one first.</summary>
    public IReadOnlyList<NbdExport> Exports { get; }

    /// <summary>The endpoint the server listens on (with the port chosen when port 0 was asked for); null before <see cref="StartAsync"/>.</summary>
    public IPEndPoint? LocalEndPoint { get; private set; }

    /// <summary>The I/O buffers of every connection.</summary>
    internal NbdBufferPool BufferPool { get; } = new();

    // 1 while one of the connections busy-polls its socket (only one may at a time).
    private int _busyPoller;

    /// <summary>Takes the server's one busy-poll slot; false when another connection holds it.</summary>
    internal bool TryEnterBusyPoll() => Interlocked.CompareExchange(ref _busyPoller, 1, 0) == 0;

    /// <summary>Gives back the busy-poll slot taken by <see cref="TryEnterBusyPoll"/>.</summary>
    internal void ExitBusyPoll() => Volatile.Write(ref _busyPoller, 0);

    /// <summary>Connections open now.</summary>
    public int ConnectionCount => _connections.Count;

    /// <summary>
    /// Binds and starts accepting connections. Fails with an <see cref="IOException"/> naming the
    /// endpoint when it cannot be bound (address in use, not a local address).
    /// </summary>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (_started)
                throw new InvalidOperationException("the NBD server has already been started");
            _started = true;
        }
        Socket? listener = null;
        try
        {
            // Inside the try: a machine without IPv6 fails already here.
            listener = new Socket(_endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            // Lets a restarted server rebind while old connections linger in TIME_WAIT; on Linux it
            // still refuses a port another socket listens on.
            listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Bind(_endpoint);
            listener.Listen(128);
        }
        catch (SocketException e)
        {
            listener?.Dispose();
            lock (_gate)
                _started = false;
            throw new IOException($"cannot listen on {_endpoint}: {e.Message}", e);
        }
        _listener = listener;
        LocalEndPoint = (IPEndPoint)listener.LocalEndPoint!;
        NbdLog.Listening(_logger, LocalEndPoint, Exports.Count, string.Join(", ", Exports));
        _acceptLoop = Task.Run(AcceptLoopAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Stops accepting, lets connections finish the request in progress (dropping those still busy
    /// after <see cref="NbdServerOptions.StopTimeout"/> or when <paramref name="cancellationToken"/>
    /// fires), then flushes every export. Safe to call more than once.
    /// </summary>
    public Task StopAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (!_started)
                return Task.CompletedTask;
            return _stopTask ??= StopCoreAsync(cancellationToken);
        }
    }

    /// <summary>
    /// The server's side of a simulated power failure: stops accepting and drops every connection
    /// at once, wherever its requests are (no further reply is sent, and a write whose data was
    /// still arriving ends where it stands), and flushes nothing. Once it completes no request
    /// touches the exports again, so the caller can fail the device's power
    /// (<c>NvdimmRegion.Crash</c>) and find exactly what the clients' flushes and FUA writes made
    /// durable. A later <see cref="StopAsync"/> does nothing. If the server is stopping, the stop
    /// ends as a power failure: it waits no longer for the requests in progress (nor out its
    /// <see cref="NbdServerOptions.StopTimeout"/>), drops the connections still open, and flushes
    /// nothing unless it had already begun to; the returned task is that stop's. Safe to call more
    /// than once.
    /// </summary>
    public Task PowerFailAsync()
    {
        Task stop;
        lock (_gate)
        {
            if (!_started)
                return Task.CompletedTask;
            if (_stopTask == null)
                return _stopTask = PowerFailCoreAsync();
            _powerFailed = true;
            stop = _stopTask;
        }
        // Outside the lock: the stop's wait may resume on this thread.
        _powerFail.Cancel();
        return stop;
    }

    /// <summary>Stops the server.</summary>
    public async ValueTask DisposeAsync() => await StopAsync();

    /// <summary>The export <paramref name="name"/> selects: the first export for the empty name; null if there is none.</summary>
    internal NbdExport? FindExport(string name)
    {
        if (name.Length == 0)
            return Exports.Count > 0 ? Exports[0] : null;
        foreach (var e in Exports)
        {
            if (string.Equals(e.Name, name, StringComparison.Ordinal))
                return e;
        }
        return null;
    }

    private async Task StopCoreAsync(CancellationToken cancellationToken)
    {
        var open = await StopAcceptingAsync();
        foreach (var c in open)
            c.RequestStop();
        var all = Task.WhenAll(open.Select(c => c.Completion));
        int aborted = 0;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _powerFail.Token))
        {
            timeout.CancelAfter(Options.StopTimeout);
            try
            {
                await all.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                foreach (var c in open.Where(c => !c.Completion.IsCompleted))
                {
                    aborted++;
                    c.Abort();
                }
                await all;
            }
        }
        bool powerFailed;
        lock (_gate)
            powerFailed = _powerFailed;
        if (powerFailed)
        {
            // The power failed before the flush: what no client flushed stays in flight, to be lost.
            BufferPool.Dispose();
            NbdLog.PowerFailed(_logger, aborted);
            return;
        }
        // Every write that was answered becomes durable, whether or not its client flushed.
        foreach (var export in Exports)
        {
            var status = export.Device.Flush();
            if (status != BlkStatus.Ok)
                NbdLog.StopFlushFailed(_logger, export.Name, status.ToString());
        }
        BufferPool.Dispose();
        NbdLog.Stopped(_logger, aborted);
    }

    private async Task PowerFailCoreAsync()
    {
        var open = await StopAcceptingAsync();
        foreach (var c in open)
            c.Abort();
        await Task.WhenAll(open.Select(c => c.Completion));
        BufferPool.Dispose();
        NbdLog.PowerFailed(_logger, open.Count);
    }

    // Closes the listener, waits for the accept loop to end, and returns the connections open then
    // (no more can arrive).
    private async Task<List<NbdConnection>> StopAcceptingAsync()
    {
        _stopping = true;
        _listener?.Dispose();
        await _acceptLoop;
        return _connections.Values.ToList();
    }

    private async Task AcceptLoopAsync()
    {
        var listener = _listener!;
        while (!_stopping)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync();
            }
            catch (Exception e) when (e is ObjectDisposedException || (e is SocketException && _stopping))
            {
                return;
            }
            catch (SocketException e)
            {
                // Out of file descriptors and the like: keep serving the connections there are, and retry shortly.
                NbdLog.AcceptFailed(_logger, e);
                await Task.Delay(100);
                continue;
            }
            if (_stopping)
            {
                socket.Dispose();
                return;
            }
            try
            {
                SetUpConnection(socket);
            }
            catch (Exception e)
            {
                // One accepted connection that cannot be set up (the client reset it, no thread
                // could be made for it) costs that connection only: were the exception to escape,
                // the loop would end and the server would never accept again.
                NbdLog.ConnectionSetupFailed(_logger, e);
                socket.Dispose();
            }
        }
    }

    /// <summary>
    /// Test seam: runs on the accept loop for each connection after it is registered and just
    /// before its thread starts, so that a test can make the set-up of a connection fail.
    /// </summary>
    internal Action<Socket>? BeforeConnectionStart { get; set; }

    // Registers and starts a connection for an accepted socket (or refuses it when too many are open).
    // Throws when the socket or the connection's thread fails, leaving nothing registered; the
    // caller closes the socket.
    private void SetUpConnection(Socket socket)
    {
        if (_connections.Count >= Options.MaxConnections)
        {
            NbdLog.ConnectionRefused(_logger, socket.RemoteEndPoint, Options.MaxConnections);
            socket.Dispose();
            return;
        }
        socket.NoDelay = true;
        var remote = socket.RemoteEndPoint;
        long id = Interlocked.Increment(ref _nextId);
        var connection = new NbdConnection(this, socket, id, _logger, c => _connections.TryRemove(c.Id, out _));
        // Registered before its thread starts: the thread removes it when it ends, which may be at once.
        _connections[id] = connection;
        try
        {
            DriverDiagnostics.NbdConnections.Add(1);
            NbdLog.ConnectionAccepted(_logger, id, remote);
            BeforeConnectionStart?.Invoke(socket);
            connection.Start();
        }
        catch
        {
            // No thread runs for it, so nothing else would remove it (and StopAsync would wait for it forever).
            _connections.TryRemove(id, out _);
            throw;
        }
    }
}
