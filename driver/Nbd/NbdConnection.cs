using System.IO.Pipelines;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace DaxStack.Driver.Nbd;

/// <summary>
/// One client connection: a socket, an input pipe filled from it by a receive loop, and an output
/// pipe writer over its stream; runs the handshake, then the transmission phase.
/// <para>
/// Memory stays bounded whatever the client sends: the receive loop pauses once
/// <see cref="InputPauseThreshold"/> bytes wait unconsumed, and the parsers never need more than a
/// request header, one option's data (at most <see cref="NbdHandshake.MaxOptionData"/>) or one
/// logical block unconsumed to make progress. A connection that breaks the protocol, or whose client
/// goes away, ends alone: its failures never reach the server or other connections.
/// </para>
/// </summary>
/// <remarks>Models one client session of an NBD server (nbd-server's per-client child).</remarks>
internal sealed class NbdConnection
{
    /// <summary>Unconsumed input bytes at which the receive loop stops reading the socket.</summary>
    internal const int InputPauseThreshold = 1 << 20;

    private const int InputResumeThreshold = InputPauseThreshold / 2;
    private const int ReceiveSize = NbdBufferPool.BlockSize;

    private readonly Socket _socket;
    private readonly Pipe _input;
    private readonly Action<NbdConnection> _onClosed;
    private volatile bool _stopRequested;
    private volatile bool _closing;
    private volatile bool _aborted;

    public NbdConnection(NbdServer server, Socket socket, long id, ILogger logger, Action<NbdConnection> onClosed)
    {
        Server = server;
        _socket = socket;
        Id = id;
        Logger = logger;
        _onClosed = onClosed;
        _input = new Pipe(new PipeOptions(
            pool: server.BufferPool,
            pauseWriterThreshold: InputPauseThreshold,
            resumeWriterThreshold: InputResumeThreshold,
            minimumSegmentSize: ReceiveSize,
            useSynchronizationContext: false));
        Reader = _input.Reader;
        Writer = PipeWriter.Create(new NetworkStream(socket, ownsSocket: false),
            new StreamPipeWriterOptions(pool: server.BufferPool, minimumBufferSize: NbdBufferPool.BlockSize, leaveOpen: false));
    }

    /// <summary>The server that accepted the connection.</summary>
    public NbdServer Server { get; }

    /// <summary>The connection's number in the server's log.</summary>
    public long Id { get; }

    /// <summary>Where the connection logs.</summary>
    public ILogger Logger { get; }

    /// <summary>Bytes from the client.</summary>
    public PipeReader Reader { get; }

    /// <summary>Bytes to the client.</summary>
    public PipeWriter Writer { get; }

    /// <summary>Why the connection ended (logged when it closes).</summary>
    public string CloseReason { get; set; } = "connection ended";

    /// <summary>Whether the server asked the connection to finish its current request and close.</summary>
    public bool IsStopRequested => _stopRequested;

    /// <summary>Whether the output side has gone away.</summary>
    public bool IsClosing => _closing;

    /// <summary>Completes when the connection has closed.</summary>
    public Task Completion { get; private set; } = Task.CompletedTask;

    /// <summary>Starts serving on the thread pool.</summary>
    public void Start() => Completion = Task.Run(RunAsync);

    /// <summary>Asks the connection to close once the request in progress is answered.</summary>
    public void RequestStop()
    {
        _stopRequested = true;
        // Wakes a read waiting for the next request or option; a read in the middle of a payload
        // ignores the wake-up and finishes its request first.
        Reader.CancelPendingRead();
    }

    /// <summary>Drops the connection now (a hard disconnect): pending socket operations fail and the loops end.</summary>
    public void Abort()
    {
        _aborted = true;
        _socket.Dispose();
    }

    /// <summary>Records that the output side has gone away.</summary>
    public void MarkClosing() => _closing = true;

    /// <summary>Logs a protocol violation by the client; the caller then closes the connection.</summary>
    public void ReportViolation(string violation)
    {
        NbdLog.ProtocolViolation(Logger, Id, violation);
        CloseReason = "protocol violation: " + violation;
    }

    private async Task RunAsync()
    {
        var receive = ReceiveAsync();
        long requests = 0;
        try
        {
            var export = await new NbdHandshake(this).NegotiateAsync();
            if (export != null)
            {
                var transmission = new NbdTransmission(this, export);
                try
                {
                    await transmission.RunAsync();
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
                await CloseAsync(receive);
            }
            catch (Exception e)
            {
                NbdLog.ConnectionFailed(Logger, Id, e);
            }
            NbdLog.ConnectionClosed(Logger, Id, requests, CloseReason);
            _onClosed(this);
        }
    }

    private async Task CloseAsync(Task receive)
    {
        try
        {
            await Writer.CompleteAsync();
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            // The client is gone; there is nobody left to send to.
        }
        await Reader.CompleteAsync();
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already reset by the client or disposed by Abort.
        }
        _socket.Dispose();
        await receive;
    }

    /// <summary>Moves bytes from the socket into the input pipe until the client closes, the socket fails, or the reader completes.</summary>
    private async Task ReceiveAsync()
    {
        var writer = _input.Writer;
        try
        {
            while (true)
            {
                var memory = writer.GetMemory(ReceiveSize);
                int n = await _socket.ReceiveAsync(memory, SocketFlags.None);
                if (n == 0)
                    break;
                writer.Advance(n);
                if ((await writer.FlushAsync()).IsCompleted)
                    break;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
        {
            // Reset by the client or closed by this side: either way the input has ended, which the
            // reader sees as the end of the stream.
        }
        await writer.CompleteAsync();
    }
}
