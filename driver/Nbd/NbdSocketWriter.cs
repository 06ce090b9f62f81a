using System.Buffers;
using System.IO.Pipelines;

namespace DaxStack.Driver.Nbd;

/// <summary>
/// A <see cref="PipeWriter"/> whose flush sends the buffered bytes on the calling thread, at once:
/// the handshake's replies are written through it by the connection's own thread. The buffer is
/// one contiguous array of <see cref="BufferSize"/> bytes; it is rented from the shared array pool at the first write and given
/// back at <see cref="Complete"/>. A flush after the client went away reports completion instead of throwing.
/// </summary>
/// <remarks>Models an NBD server's buffered <c>send</c> path for option replies (nbdkit's <c>conn-&gt;send</c> with <c>SEND_MORE</c> corking).</remarks>
internal sealed class NbdSocketWriter : PipeWriter
{
    /// <summary>The size of the buffer: the most a caller can ask for in one <see cref="GetSpan"/>.</summary>
    public const int BufferSize = 64 << 10;

    private readonly NbdConnection _connection;
    private byte[] _buffer = [];
    private int _length;
    private bool _completed;
    private bool _broken;

    /// <summary>A writer over <paramref name="connection"/>'s socket; its buffer is allocated at the first write.</summary>
    public NbdSocketWriter(NbdConnection connection) => _connection = connection;

    /// <inheritdoc/>
    public override void Advance(int bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bytes, BufferSize - _length);
        _length += bytes;
    }

    /// <inheritdoc/>
    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _buffer.AsMemory(_length, BufferSize - _length);
    }

    /// <inheritdoc/>
    public override Span<byte> GetSpan(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _buffer.AsSpan(_length, BufferSize - _length);
    }

    /// <inheritdoc/>
    public override void CancelPendingFlush()
    {
        // A flush never pends: it has finished before it returns.
    }

    /// <inheritdoc/>
    public override void Complete(Exception? exception = null)
    {
        if (_completed)
            return;
        _completed = true;
        if (exception == null)
            Send();
        _length = 0;
        if (_buffer.Length != 0)
            ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }

    /// <inheritdoc/>
    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) =>
        new(new FlushResult(isCanceled: false, isCompleted: !Send()));

    /// <summary>Sends the buffered bytes; false when the client has gone away (the bytes are dropped).</summary>
    public bool Send()
    {
        if (_broken)
        {
            _length = 0;
            return false;
        }
        if (_length == 0)
            return true;
        _broken = !_connection.TrySendAll(_buffer.AsSpan(0, _length));
        _length = 0;
        return !_broken;
    }

    private void Reserve(int sizeHint)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(sizeHint, BufferSize);
        if (_buffer.Length == 0)
            _buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        if (BufferSize - _length < Math.Max(sizeHint, 1))
            Send();
    }
}
