using System.Diagnostics;
using System.IO.Pipelines;
using System.Net.Sockets;
using DaxStack.Driver.Diagnostics;
using Microsoft.Extensions.Logging;

namespace DaxStack.Driver.Nbd;

/// <summary>
/// One client connection, served by threads of its own: a socket, the input pipe its thread fills
/// from the socket, and a writer that sends synchronously. The connection's thread runs the
/// handshake, then receives and parses requests (with <see cref="NbdTransmission"/>, which adds a
/// worker thread for the transmission phase).
/// <para>
/// Every socket call is synchronous, on the socket in non-blocking mode; a wait for the client is a
/// <c>poll(2)</c> in slices of <see cref="PollMicroseconds"/>, so that a stop request is seen while
/// the connection is idle. No thread pool work, epoll thread or async continuation happens per
/// request: on a small machine the hops of async socket completions cost more than the copies.
/// The input pipe's continuations run inline: the handshake, written against
/// <see cref="PipeReader"/>, resumes on the connection's thread inside the flush that gave it its
/// bytes. Bytes received past the end of the handshake stay in the pipe for the transmission phase.
/// </para>
/// <para>
/// Memory stays bounded whatever the client sends: the connection's thread receives only when the
/// parser needs more, the parsers never need more than a request header, one option's data (at
/// most <see cref="NbdHandshake.MaxOptionData"/>) or one logical block unconsumed to make
/// progress, and requests in flight are bounded by their <see cref="NbdRequestQueue"/>. A
/// connection that breaks the protocol, or whose client goes away, ends alone: its failures never
/// reach the server or other connections.
/// </para>
/// </summary>
/// <remarks>Models one client session of an NBD server (nbd-server's per-client child, nbdkit's connection threads).</remarks>
internal sealed class NbdConnection
{
    /// <summary>Unconsumed input bytes at which the input pipe would stop taking more (the parsers never get near it).</summary>
    internal const int InputPauseThreshold = 1 << 20;

    /// <summary>How long one <c>poll</c> waits before the stop flag is looked at again (100 ms).</summary>
    internal const int PollMicroseconds = 100_000;

    private const int InputResumeThreshold = InputPauseThreshold / 2;
    private const int ReceiveSize = NbdBufferPool.BlockSize;

    /// <summary>Waits a connection sleeps through at once, without busy-polling, after a busy poll in which nothing arrived.</summary>
    internal const int BusyPollBackoff = 8;

    /// <summary>The most replies a connection holds back (<see cref="NbdServerOptions.ReplyHoldMicroseconds"/>), and its first limit.</summary>
    internal const int MaxHeldReplies = 16;

    /// <summary>The most waits between two tries at holding replies back for a client that waits for each reply.</summary>
    internal const int MaxHoldProbeInterval = 1024;

    /// <summary>Batches sent at the hold limit after which the limit grows by one.</summary>
    internal const int HoldGrowthBatches = 16;

    /// <summary>The stack of a connection's threads: none of them calls deeply.</summary>
    internal const int ThreadStackSize = 256 << 10;

    private readonly Socket _socket;
    private readonly Pipe _input;
    private readonly Action<NbdConnection> _onClosed;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _stopRequested;
    private volatile bool _closing;
    private volatile bool _aborted;
    // Environment.TickCount64 at which a wait for the client's handshake bytes gives up; long.MaxValue for none.
    private long _handshakeDeadline = long.MaxValue;
    // Stopwatch ticks of one busy poll (0: none), and waits left to sleep through without one.
    private readonly long _busyPollTicks;
    private int _busyPollSkips;
    // Stopwatch ticks replies may be held back within a busy poll (0: never), the most held at once,
    // batches sent at that limit since it last changed, and, while the limit is 1, waits until the
    // next try and the interval after it.
    private readonly long _holdTicks;
    private int _holdLimit = MaxHeldReplies;
    private int _holdFullBatches;
    private int _holdProbeCountdown;
    private int _holdProbeInterval = BusyPollBackoff;
    private Task<NbdExport?>? _handshake;

    public NbdConnection(NbdServer server, Socket socket, long id, ILogger logger, Action<NbdConnection> onClosed)
    {
        Server = server;
        _socket = socket;
        Id = id;
        Logger = logger;
        _onClosed = onClosed;
        _input = new Pipe(new PipeOptions(
            pool: server.BufferPool,
            readerScheduler: PipeScheduler.Inline,
            writerScheduler: PipeScheduler.Inline,
            pauseWriterThreshold: InputPauseThreshold,
            resumeWriterThreshold: InputResumeThreshold,
            minimumSegmentSize: ReceiveSize,
            useSynchronizationContext: false));
        _busyPollTicks = Stopwatch.Frequency * server.Options.BusyPollMicroseconds / 1_000_000;
        _holdTicks = Stopwatch.Frequency * Math.Min(server.Options.ReplyHoldMicroseconds, server.Options.BusyPollMicroseconds) / 1_000_000;
        Reader = _input.Reader;
        Writer = new NbdSocketWriter(this);
    }

    /// <summary>The server that accepted the connection.</summary>
    public NbdServer Server { get; }

    /// <summary>The connection's number in the server's log.</summary>
    public long Id { get; }

    /// <summary>Where the connection logs.</summary>
    public ILogger Logger { get; }

    /// <summary>Bytes from the client (filled by <see cref="FillInput"/>).</summary>
    public PipeReader Reader { get; }

    /// <summary>Bytes to the client, sent at each flush.</summary>
    public NbdSocketWriter Writer { get; }

    /// <summary>Why the connection ended (logged when it closes).</summary>
    public string CloseReason { get; set; } = "connection ended";

    /// <summary>Whether the server asked the connection to finish its current request and close.</summary>
    public bool IsStopRequested => _stopRequested;

    /// <summary>Whether the output side has gone away.</summary>
    public bool IsClosing => _closing;

    /// <summary>Whether the client has closed its side (everything it sent is in the input pipe).</summary>
    public bool InputEnded { get; private set; }

    /// <summary>Called on the connection's thread each time a receive is about to wait for the client.</summary>
    public Action? BeforeWait { get; set; }

    /// <summary>Completes when the connection has closed.</summary>
    public Task Completion => _completion.Task;

    /// <summary>Starts serving on the connection's own thread.</summary>
    public void Start()
    {
        _socket.Blocking = false;
        var thread = new Thread(Run, ThreadStackSize)
        {
            IsBackground = true,
            Name = $"nbd connection {Id}",
        };
        thread.Start();
    }

    /// <summary>
    /// Asks the connection to close once the request in progress is answered. The connection's
    /// thread sees it the next time it waits for the client between requests or options (within
    /// one <see cref="PollMicroseconds"/> slice); a wait in the middle of a payload ignores it and
    /// finishes its request first.
    /// </summary>
    public void RequestStop() => _stopRequested = true;

    /// <summary>Drops the connection now (a hard disconnect): pending socket operations fail and the threads end.</summary>
    public void Abort()
    {
        _aborted = true;
        _socket.Dispose();
    }

    /// <summary>Closes the socket under the connection's threads (after a protocol dead end or a bug), without counting as a server stop.</summary>
    public void Drop() => _socket.Dispose();

    /// <summary>Records that the output side has gone away.</summary>
    public void MarkClosing() => _closing = true;

    /// <summary>Logs a protocol violation by the client; the caller then closes the connection.</summary>
    public void ReportViolation(string violation)
    {
        NbdLog.ProtocolViolation(Logger, Id, violation);
        CloseReason = "protocol violation: " + violation;
    }

    /// <summary>
    /// Receives what the client has sent into the input pipe, at most <paramref name="limit"/>
    /// bytes (0: as much as a receive buffer takes), waiting for at least one byte.
    /// Returns the count, 0 when the client closed its side (the pipe's writer is then complete),
    /// or -1 when <paramref name="stoppable"/> and a stop was requested while waiting.
    /// </summary>
    public int FillInput(bool stoppable, int limit = 0)
    {
        var writer = _input.Writer;
        if (InputEnded)
        {
            // Ended by a receive that bypassed the pipe: the pipe's reader learns it now.
            writer.Complete();
            return 0;
        }
        var span = writer.GetMemory(ReceiveSize).Span;
        if (limit > 0 && limit < span.Length)
            span = span[..limit];
        int n = Receive(span, stoppable);
        if (n < 0)
            return n;
        if (n == 0)
        {
            InputEnded = true;
            writer.Complete();
            return 0;
        }
        writer.Advance(n);
        var flush = writer.FlushAsync();
        if (!flush.IsCompleted)
        {
            // The parsers consume before they ask for more, so the pipe never reaches its pause threshold.
            throw new InvalidOperationException("the NBD input pipe is full while its reader asks for more");
        }
        flush.GetAwaiter().GetResult();
        return n;
    }

    /// <summary>
    /// Receives at most <paramref name="destination"/>.Length bytes straight from the socket,
    /// waiting for at least one. Only for when the input pipe holds nothing: the bytes bypass it.
    /// Returns the count, 0 when the client closed its side, or -1 when <paramref name="stoppable"/>
    /// and a stop was requested, or the handshake's time ran out, while waiting.
    /// </summary>
    public int Receive(Span<byte> destination, bool stoppable)
    {
        while (true)
        {
            int n = _socket.Receive(destination, SocketFlags.None, out var error);
            if (error == SocketError.Success)
            {
                if (n == 0)
                    InputEnded = true;
                return n;
            }
            if (error is SocketError.ConnectionReset or SocketError.Shutdown or SocketError.ConnectionAborted)
            {
                InputEnded = true;
                return 0;
            }
            if (error != SocketError.WouldBlock)
                throw new SocketException((int)error);
            // About to wait for the client: what has been answered goes out first, unless the busy
            // poll holds it back for a moment (and then sends it itself if the client sends nothing).
            if (stoppable && StopWaiting)
            {
                BeforeWait?.Invoke();
                return -1;
            }
            if (BusyPoll())
                continue;
            BeforeWait?.Invoke();
            while (!_socket.Poll(PollMicroseconds, SelectMode.SelectRead))
            {
                if (stoppable && StopWaiting)
                    return -1;
            }
        }
    }

    /// <summary>
    /// Checks the socket for input without sleeping for up to
    /// <see cref="NbdServerOptions.BusyPollMicroseconds"/>, when the server's busy-poll slot is free
    /// and this connection's last busy poll did not run out within its last
    /// <see cref="BusyPollBackoff"/> waits. True when input arrived within the window.
    /// <para>
    /// The replies <see cref="HeldReplies"/> counts go out (through <see cref="BeforeWait"/>) before
    /// the busy poll, or, when the connection holds them (see <see cref="HoldsReplies"/>), at the
    /// end of <see cref="NbdServerOptions.ReplyHoldMicroseconds"/> if nothing arrived by then; a
    /// request that arrives first is served and its reply joins them. A hold that runs out means
    /// the client was waiting for what was held: the connection then holds at most half as many
    /// replies (<see cref="ReplyHoldLimit"/>); at a limit of one it holds none, and tries again
    /// after <see cref="BusyPollBackoff"/> waits, twice as many after each further miss, up to
    /// <see cref="MaxHoldProbeInterval"/>.
    /// </para>
    /// </summary>
    private bool BusyPoll()
    {
        if (_busyPollTicks == 0)
            return false;
        if (_busyPollSkips > 0)
        {
            _busyPollSkips--;
            return false;
        }
        if (!Server.TryEnterBusyPoll())
            return false;
        bool arrived, held = false, holdMissed = false;
        try
        {
            int heldReplies = HeldReplies?.Invoke() ?? 0;
            if (_holdLimit == 1 && _holdTicks > 0 && --_holdProbeCountdown <= 0)
                _holdLimit = 2;
            held = _holdTicks > 0 && heldReplies > 0 && heldReplies < _holdLimit;
            if (!held)
                BeforeWait?.Invoke();
            long start = Stopwatch.GetTimestamp();
            long deadline = start + _busyPollTicks, holdDeadline = start + _holdTicks;
            // FIONREAD: no sleep, and while it holds the socket the client's next segment is queued
            // for this thread to process instead of waking it.
            while (!(arrived = _socket.Available > 0) && !_stopRequested)
            {
                long now = Stopwatch.GetTimestamp();
                if (held && !holdMissed && now >= holdDeadline)
                {
                    holdMissed = true;
                    BeforeWait?.Invoke();
                    MissedHold(heldReplies);
                }
                if (now >= deadline)
                    break;
            }
        }
        finally
        {
            Server.ExitBusyPoll();
        }
        if (held && !holdMissed)
        {
            if (arrived)
                _holdProbeInterval = BusyPollBackoff;
            else
            {
                // A stop ended the busy poll: what is held goes out with the caller's BeforeWait.
                held = false;
            }
        }
        if (!arrived)
            _busyPollSkips = BusyPollBackoff;
        if (DriverDiagnostics.NbdBusyPolls.Enabled)
            DriverDiagnostics.NbdBusyPolls.Add(1, new KeyValuePair<string, object?>("result", arrived ? "hit" : "miss"));
        if (held && DriverDiagnostics.NbdReplyHolds.Enabled)
            DriverDiagnostics.NbdReplyHolds.Add(1, new KeyValuePair<string, object?>("result", holdMissed ? "miss" : "hit"));
        return arrived;
    }

    // The client sent nothing while heldReplies replies were held back: it was waiting for them.
    private void MissedHold(int heldReplies)
    {
        _holdLimit = Math.Max(1, heldReplies / 2);
        _holdFullBatches = 0;
        if (_holdLimit == 1)
        {
            _holdProbeCountdown = _holdProbeInterval;
            _holdProbeInterval = Math.Min(_holdProbeInterval * 2, MaxHoldProbeInterval);
        }
    }

    /// <summary>
    /// Whether the transmission leaves the replies it has answered to the next wait for the client
    /// (which sends them, or holds them back while it busy-polls) instead of sending each at once.
    /// </summary>
    public bool HoldsReplies => _holdTicks > 0;

    /// <summary>
    /// How many answered replies the connection holds back at most (1 to <see cref="MaxHeldReplies"/>):
    /// the transmission sends them as soon as it holds this many, and then calls <see cref="ReplyBatchFull"/>.
    /// </summary>
    public int ReplyHoldLimit => _holdLimit;

    /// <summary>
    /// Called by the transmission each time it sent its replies because it held
    /// <see cref="ReplyHoldLimit"/> of them: the client kept sending while they were held, so after
    /// <see cref="HoldGrowthBatches"/> such batches the limit grows by one.
    /// </summary>
    public void ReplyBatchFull()
    {
        if (_holdLimit < 2 || _holdLimit >= MaxHeldReplies)
            return;
        if (++_holdFullBatches >= HoldGrowthBatches)
        {
            _holdLimit++;
            _holdFullBatches = 0;
        }
    }

    /// <summary>Counts the replies the transmission has answered and not sent yet; null outside transmission.</summary>
    public Func<int>? HeldReplies { get; set; }

    // Whether a stoppable wait for the client gives up: a stop was requested, or the handshake's time ran out.
    private bool StopWaiting => _stopRequested || Environment.TickCount64 >= _handshakeDeadline;

    /// <summary>How many received bytes the socket holds that nobody has read yet (0 once the client has closed its side).</summary>
    public int Available => _socket.Available;

    /// <summary>
    /// Receives what the socket already holds, up to <paramref name="destination"/>.Length bytes,
    /// straight into it, without waiting: only for when the input pipe holds nothing. Returns the
    /// count; 0 when nothing was there (or the client has closed its side, which sets <see cref="InputEnded"/>).
    /// </summary>
    public int ReceiveNow(Span<byte> destination)
    {
        int total = 0;
        while (total < destination.Length)
        {
            int n = _socket.Receive(destination[total..], SocketFlags.None, out var error);
            if (error == SocketError.Success && n > 0)
            {
                total += n;
                continue;
            }
            if (error == SocketError.Success || error is SocketError.ConnectionReset or SocketError.Shutdown or SocketError.ConnectionAborted)
                InputEnded = true;
            else if (error != SocketError.WouldBlock)
                throw new SocketException((int)error);
            break;
        }
        return total;
    }

    /// <summary>
    /// Sends what the socket takes of <paramref name="data"/> at once, without waiting. Returns the
    /// count; once the client has gone away (or the connection was dropped) it marks the connection
    /// closing and returns what went out before.
    /// </summary>
    public int SendNow(ReadOnlySpan<byte> data)
    {
        int total = 0;
        try
        {
            while (total < data.Length)
            {
                int n = _socket.Send(data[total..], SocketFlags.None, out var error);
                if (error == SocketError.Success)
                {
                    total += n;
                    continue;
                }
                if (error != SocketError.WouldBlock)
                    _closing = true;
                break;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            _closing = true;
        }
        return total;
    }

    /// <summary>Waits until the socket can take more output; false when the connection has been dropped.</summary>
    public bool WaitWritable()
    {
        try
        {
            while (!_socket.Poll(PollMicroseconds, SelectMode.SelectWrite))
            {
            }
            return true;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            _closing = true;
            return false;
        }
    }

    /// <summary>
    /// Sends all of <paramref name="data"/>, waiting for the socket as long as it takes (a client
    /// that does not read its replies holds only its own connection; the server's stop timeout
    /// ends it). False when the client has gone away or the connection was dropped.
    /// </summary>
    public bool TrySendAll(ReadOnlySpan<byte> data)
    {
        try
        {
            while (!data.IsEmpty)
            {
                int n = _socket.Send(data, SocketFlags.None, out var error);
                if (error == SocketError.Success)
                {
                    data = data[n..];
                    continue;
                }
                if (error != SocketError.WouldBlock)
                    return false;
                while (!_socket.Poll(PollMicroseconds, SelectMode.SelectWrite))
                {
                }
            }
            return true;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    private void Run()
    {
        long requests = 0;
        try
        {
            var export = Negotiate();
            if (export != null)
            {
                var transmission = new NbdTransmission(this, export);
                try
                {
                    transmission.Run();
                }
                finally
                {
                    requests = transmission.Requests;
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            CloseReason = _aborted ? "dropped: the server stopped before the request in progress finished" : $"connection lost: {e.Message}";
        }
        catch (Exception e)
        {
            // A bug must cost this connection only, never the server.
            NbdLog.ConnectionFailed(Logger, Id, e);
            CloseReason = $"internal error: {e.GetType().Name}: {e.Message}";
        }
        finally
        {
            try
            {
                Close();
            }
            catch (Exception e)
            {
                NbdLog.ConnectionFailed(Logger, Id, e);
            }
            NbdLog.ConnectionClosed(Logger, Id, requests, CloseReason);
            _onClosed(this);
            _completion.SetResult();
        }
    }

    /// <summary>
    /// Runs the handshake to its end on this thread: receives into the input pipe (the handshake
    /// continues inline in each flush) and delivers a stop request as a cancelled read. Returns the
    /// chosen export, or null when the connection must close.
    /// </summary>
    private NbdExport? Negotiate()
    {
        var limit = Server.Options.HandshakeTimeout;
        if (limit > TimeSpan.Zero)
            _handshakeDeadline = Environment.TickCount64 + (long)limit.TotalMilliseconds;
        var handshake = _handshake = new NbdHandshake(this).NegotiateAsync();
        bool stopDelivered = false;
        while (!handshake.IsCompleted)
        {
            if (InputEnded)
                throw new InvalidOperationException("the NBD handshake still waits for input after the input ended");
            if (_stopRequested && !stopDelivered)
            {
                // The handshake looks at the flag at every option; a wait for the client's next
                // bytes learns of it from the cancelled read.
                stopDelivered = true;
                Reader.CancelPendingRead();
                continue;
            }
            if (!stopDelivered && Environment.TickCount64 >= _handshakeDeadline)
            {
                // Closing resumes the suspended handshake with the end of the input; the reason stays.
                CloseReason = $"the handshake did not finish within {limit.TotalSeconds:0.###} s (Nbd:HandshakeTimeout)";
                return null;
            }
            FillInput(stoppable: !stopDelivered);
        }
        _handshakeDeadline = long.MaxValue;
        return handshake.GetAwaiter().GetResult();
    }

    private void Close()
    {
        // A handshake cut short (the socket failed or was dropped) is still suspended in a pipe
        // read: ending the input resumes it here, and what it concludes must not replace the reason.
        string reason = CloseReason;
        _input.Writer.Complete();
        if (_handshake is { IsCompleted: true, IsFaulted: true })
        {
            // Observed here so that it is not reported as unobserved; the reason is already set.
            _ = _handshake.Exception;
        }
        Writer.Complete();
        _input.Reader.Complete();
        CloseReason = reason;
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already reset by the client or disposed by Abort.
        }
        _socket.Dispose();
    }
}
