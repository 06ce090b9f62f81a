using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using DaxStack.Device.Errors;
using DaxStack.Driver.Block;
using DaxStack.Driver.Diagnostics;

namespace DaxStack.Driver.Nbd;

/// <summary>
/// The transmission phase of one connection: requests are read from the input pipe and served in
/// order with simple replies. Every operation is one or more bios on the export's device.
/// <para>
/// Data path: a write's payload is applied straight from the pipe's buffers as it arrives, whole
/// logical blocks at a time (a vectored bio over the pipe segments), so a 32 MiB write never needs
/// 32 MiB of memory; a read goes from the device straight into the output writer's pooled
/// buffers, a buffer's worth of whole blocks per bio, flushed to the socket every
/// <see cref="ReadChunk"/> bytes. A partial block at either end
/// of a request is read, patched and written back through one bounce block under the export's
/// read-modify-write lock. Nothing is allocated per request once the pipes have their buffers.
/// </para>
/// <para>
/// Replies are buffered and flushed when no further complete request is waiting, so pipelined
/// requests share socket writes, and at the latest once <see cref="ReadChunk"/> bytes are buffered.
/// </para>
/// <para>
/// Lock order: the export's read-modify-write gate, then the device's own locks (a submission
/// queue's gate, then its region lock), which <see cref="IBlockDeviceOperations.SubmitBio"/> takes inside.
/// </para>
/// </summary>
/// <remarks>Models the transmission phase of the NBD protocol (nbd-server's <c>mainloop</c> with <c>handle_read</c>,
/// <c>handle_write</c>, <c>handle_flush</c>, <c>handle_trim</c>, <c>handle_write_zeroes</c>).</remarks>
internal sealed class NbdTransmission
{
    /// <summary>
    /// The most reply bytes buffered before they are flushed to the socket, whether or not more
    /// requests are waiting: a client that pipelines requests without reading the replies meets
    /// the socket's backpressure instead of growing the server's buffers.
    /// </summary>
    internal const int ReadChunk = 256 << 10;

    private const int RequestSize = 28;
    private const int ReplySize = 16;

    private readonly NbdConnection _connection;
    private readonly PipeReader _reader;
    private readonly PipeWriter _writer;
    private readonly NbdExport _export;
    private readonly IBlockDeviceOperations _device;
    private readonly long _size;
    private readonly int _blockSize;
    private readonly int _maxPayload;
    private readonly bool _readOnly;
    private readonly byte[] _bounce;
    private int _unflushed;

    public NbdTransmission(NbdConnection connection, NbdExport export)
    {
        _connection = connection;
        _reader = connection.Reader;
        _writer = connection.Writer;
        _export = export;
        _device = export.Device;
        _size = export.Size;
        _blockSize = _device.Limits.LogicalBlockSize;
        _maxPayload = connection.Server.Options.MaxPayload;
        _readOnly = export.ReadOnly;
        _bounce = new byte[_blockSize];
    }

    /// <summary>Requests received so far.</summary>
    public long Requests { get; private set; }

    /// <summary>
    /// Serves requests until the client disconnects, breaks the protocol, or the server stops.
    /// Every await of the data path is in this one method, so a connection's requests reuse its
    /// single state machine instead of allocating one per suspended call.
    /// </summary>
    public async Task RunAsync()
    {
        bool needMore = false;
        while (!_connection.IsStopRequested)
        {
            if (_unflushed >= ReadChunk && (await FlushReplies()).IsCompleted)
            {
                _connection.CloseReason = "client went away";
                return;
            }
            ReadResult result;
            if (needMore || !_reader.TryRead(out result))
            {
                // About to wait for the client: send what has been answered so far.
                if ((await FlushReplies()).IsCompleted)
                {
                    _connection.CloseReason = "client went away";
                    return;
                }
                // The stop's wake-up may have been taken by a read of payload: look at the flag itself.
                if (_connection.IsStopRequested)
                    break;
                result = await _reader.ReadAsync();
            }
            var buffer = result.Buffer;
            if (buffer.Length < RequestSize)
            {
                if (result.IsCompleted)
                {
                    _reader.AdvanceTo(buffer.End);
                    _connection.CloseReason = buffer.Length == 0
                        ? "client disconnected without NBD_CMD_DISC"
                        : "client closed the connection in the middle of a request header";
                    return;
                }
                _reader.AdvanceTo(buffer.Start, buffer.End);
                needMore = true;
                continue;
            }
            needMore = false;
            var request = ParseRequest(buffer);
            _reader.AdvanceTo(buffer.GetPosition(RequestSize));
            if (request.Magic != NbdMagic.Request)
            {
                // Without the magic there is no telling where requests start: the stream cannot be resynchronised.
                await FlushReplies();
                _connection.ReportViolation($"request magic 0x{request.Magic:x8} is not NBD_REQUEST_MAGIC");
                return;
            }
            Requests++;
            switch ((NbdCommand)request.Type)
            {
                case NbdCommand.Read:
                {
                    var error = CheckRead(request);
                    Complete(request, error);
                    if (error != 0)
                        break;
                    long position = (long)request.Offset, end = position + request.Length;
                    while (position < end)
                    {
                        int n = CopyOut(position, end);
                        if (n < 0)
                        {
                            // Poison that appeared after the check: the header already said success, and
                            // the protocol's only way out is a hard disconnect.
                            _connection.ReportViolation($"read of [{request.Offset}, +{request.Length}) failed after its reply header was sent");
                            return;
                        }
                        position += n;
                        _unflushed += n;
                        if (_unflushed >= ReadChunk)
                        {
                            if ((await FlushReplies()).IsCompleted)
                            {
                                _connection.CloseReason = "client went away during a read reply";
                                return;
                            }
                        }
                    }
                    break;
                }
                case NbdCommand.Write:
                {
                    if (request.Length > _maxPayload)
                    {
                        // Skipping up to 4 GiB of payload would let a client stall the connection at
                        // will, and there is no other way to find the next request: refuse, then hang up.
                        Complete(request, Errno.EINVAL);
                        await FlushReplies();
                        _connection.ReportViolation($"NBD_CMD_WRITE of {request.Length} bytes exceeds the maximum payload of {_maxPayload} bytes");
                        return;
                    }
                    // A refused write still has its payload consumed (without being applied), to stay in step.
                    var error = CheckWrite(request);
                    var flags = FuaOf(request);
                    long position = (long)request.Offset, remaining = request.Length;
                    while (remaining > 0)
                    {
                        var payload = await _reader.ReadAsync();
                        var data = payload.Buffer;
                        long used;
                        (used, position, remaining, error) = ApplyAvailable(data, position, remaining, flags, error);
                        if (remaining == 0)
                        {
                            // What follows belongs to the next request: leave it unexamined.
                            _reader.AdvanceTo(data.GetPosition(used));
                            break;
                        }
                        _reader.AdvanceTo(data.GetPosition(used), data.End);
                        if (payload.IsCompleted)
                        {
                            _connection.CloseReason = "client closed the connection in the middle of a write payload";
                            return;
                        }
                    }
                    Complete(request, error);
                    break;
                }
                case NbdCommand.Disconnect:
                    Count(request.Type, 0);
                    await FlushReplies();
                    _connection.CloseReason = "client disconnected (NBD_CMD_DISC)";
                    return;
                case NbdCommand.Flush:
                    Complete(request, Flush(request));
                    break;
                case NbdCommand.Trim:
                    Complete(request, Trim(request));
                    break;
                case NbdCommand.WriteZeroes:
                    Complete(request, WriteZeroes(request));
                    break;
                case NbdCommand.Cache:
                    Complete(request, Cache(request));
                    break;
                default:
                    // Unknown commands, and BLOCK_STATUS (no metadata context can be negotiated here).
                    Complete(request, Errno.EINVAL);
                    break;
            }
        }
        await FlushReplies();
        _connection.CloseReason = "server stopping";
    }

    // ------------------------------------------------------------------ read

    /// <summary>The error NBD_CMD_READ fails with before any data is sent; 0 when the read can go ahead.</summary>
    private Errno CheckRead(in Request request)
    {
        var error = CheckFlags(request.Flags, NbdCommandFlags.Fua);
        if (error != 0)
            return error;
        if (request.Length > _maxPayload || !InRange(request.Offset, request.Length))
            return Errno.EINVAL;
        // A simple reply cannot report an error once its data has started, so known bad blocks fail
        // the read before the header goes out (pmem_do_read's badblocks check, done early).
        long offset = (long)request.Offset;
        long first = offset - offset % _blockSize;
        if (request.Length > 0 && _device.HasBadBlocks(first, RoundUp(offset + request.Length) - first))
            return Errno.EIO;
        return 0;
    }

    /// <summary>Reads the next piece of [<paramref name="position"/>, <paramref name="end"/>) into the output pipe; -1 on a device error.</summary>
    private int CopyOut(long position, long end)
    {
        int inBlock = (int)(position % _blockSize);
        if (inBlock != 0 || end - position < _blockSize)
        {
            int n = (int)Math.Min(_blockSize - inBlock, end - position);
            if (_device.Read(position - inBlock, _bounce) != BlkStatus.Ok)
                return -1;
            _bounce.AsSpan(inBlock, n).CopyTo(_writer.GetSpan(n));
            _writer.Advance(n);
            return n;
        }
        // As many whole blocks as fit in the writer's current buffer (at least one).
        var span = _writer.GetSpan(_blockSize);
        long size = Math.Min(end - position, span.Length);
        size -= size % _blockSize;
        if (_device.Read(position, span[..(int)size]) != BlkStatus.Ok)
            return -1;
        _writer.Advance((int)size);
        return (int)size;
    }

    // ------------------------------------------------------------------ write

    /// <summary>The error NBD_CMD_WRITE (within the payload limit) fails with; 0 when its payload is to be applied.</summary>
    private Errno CheckWrite(in Request request)
    {
        var error = CheckFlags(request.Flags, NbdCommandFlags.Fua);
        if (error != 0)
            return error;
        if (_readOnly)
            return Errno.EPERM;
        return InRange(request.Offset, request.Length) ? 0 : Errno.ENOSPC;
    }

    /// <summary>
    /// Applies as much of a write payload as <paramref name="buffer"/> holds, whole blocks at a
    /// time; a partial block waits until all its bytes are there. Once <paramref name="error"/> is
    /// set the rest of the payload is consumed without being written. Returns how many bytes were consumed.
    /// </summary>
    private (long Used, long Position, long Remaining, Errno Error) ApplyAvailable(
        in ReadOnlySequence<byte> buffer, long position, long remaining, BioFlags flags, Errno error)
    {
        long used = 0;
        if (error != 0)
        {
            // Refused or failed: the rest is only consumed.
            used = Math.Min(buffer.Length, remaining);
            return (used, position + used, remaining - used, error);
        }
        while (remaining > 0)
        {
            long available = buffer.Length - used;
            int inBlock = (int)(position % _blockSize);
            long n;
            if (inBlock != 0 || remaining < _blockSize)
            {
                n = Math.Min(_blockSize - inBlock, remaining);
                if (available < n)
                    break;
                error = PatchBlock(position, buffer.Slice(used, n), (int)n, flags);
            }
            else
            {
                n = Math.Min(remaining, available);
                n -= n % _blockSize;
                if (n == 0)
                    break;
                error = ToNbdError(_device.Write(position, buffer.Slice(used, n), flags));
            }
            used += n;
            position += n;
            remaining -= n;
            if (error != 0)
            {
                // The write failed part-way: the rest of the payload is only consumed.
                long skip = Math.Min(buffer.Length - used, remaining);
                return (used + skip, position + skip, remaining - skip, error);
            }
        }
        return (used, position, remaining, error);
    }

    /// <summary>
    /// Read-modify-write of the block holding <paramref name="position"/>: <paramref name="length"/>
    /// bytes of it become <paramref name="data"/> (or zeroes when <paramref name="data"/> is empty).
    /// </summary>
    private Errno PatchBlock(long position, in ReadOnlySequence<byte> data, int length, BioFlags flags)
    {
        int inBlock = (int)(position % _blockSize);
        long start = position - inBlock;
        lock (_export.ReadModifyWriteGate)
        {
            var status = _device.Read(start, _bounce);
            if (status != BlkStatus.Ok)
                return ToNbdError(status);
            if (data.IsEmpty)
                _bounce.AsSpan(inBlock, length).Clear();
            else
                data.CopyTo(_bounce.AsSpan(inBlock, length));
            return ToNbdError(_device.Write(start, _bounce, flags));
        }
    }

    // ------------------------------------------------------------------ flush, cache, trim, write-zeroes

    /// <summary>An empty flush bio: every write completed before it, on any connection, is durable after it.</summary>
    private Errno Flush(in Request request)
    {
        var error = CheckFlags(request.Flags, NbdCommandFlags.Fua);
        return error != 0 ? error : ToNbdError(_device.Flush());
    }

    /// <summary>A prefetch hint, checked and accepted: pmem has no slower tier to prefetch from.</summary>
    private Errno Cache(in Request request)
    {
        var error = CheckFlags(request.Flags, NbdCommandFlags.Fua);
        if (error != 0)
            return error;
        return InRange(request.Offset, request.Length) ? 0 : Errno.EINVAL;
    }

    private Errno Trim(in Request request)
    {
        var error = CheckFlags(request.Flags, NbdCommandFlags.Fua);
        if (error != 0)
            return error;
        if (_readOnly)
            return Errno.EPERM;
        if (!InRange(request.Offset, request.Length))
            return Errno.EINVAL;
        // Trim is a hint: only the whole blocks inside the range are discarded (the protocol lets the
        // server round the offset up and the length down).
        long start = RoundUp((long)request.Offset);
        long end = (long)request.Offset + request.Length;
        end -= end % _blockSize;
        if (end <= start)
            return 0;
        return ToNbdError(_device.Discard(start, end - start, FuaOf(request)));
    }

    private Errno WriteZeroes(in Request request)
    {
        // NO_HOLE asks for the range to stay allocated, which a pmem namespace always is.
        var error = CheckFlags(request.Flags, NbdCommandFlags.Fua | NbdCommandFlags.NoHole);
        if (error != 0)
            return error;
        if (_readOnly)
            return Errno.EPERM;
        if (!InRange(request.Offset, request.Length))
            return Errno.ENOSPC;
        var flags = FuaOf(request);
        long position = (long)request.Offset, end = position + request.Length;
        while (position < end && error == 0)
        {
            int inBlock = (int)(position % _blockSize);
            long n;
            if (inBlock != 0 || end - position < _blockSize)
            {
                n = Math.Min(_blockSize - inBlock, end - position);
                error = PatchBlock(position, ReadOnlySequence<byte>.Empty, (int)n, flags);
            }
            else
            {
                n = end - position;
                n -= n % _blockSize;
                error = ToNbdError(_device.WriteZeroes(position, n, flags));
            }
            position += n;
        }
        return error;
    }

    // ------------------------------------------------------------------ helpers

    private static BioFlags FuaOf(in Request request) =>
        (request.Flags & NbdCommandFlags.Fua) != 0 ? BioFlags.Fua : BioFlags.None;

    /// <summary>EINVAL for a flag this command does not take (FUA is valid on every command).</summary>
    private static Errno CheckFlags(NbdCommandFlags flags, NbdCommandFlags allowed) =>
        (flags & ~allowed) != 0 ? Errno.EINVAL : 0;

    private bool InRange(ulong offset, uint length) => offset <= (ulong)_size && length <= (ulong)_size - offset;

    private long RoundUp(long position) => (position + _blockSize - 1) / _blockSize * _blockSize;

    /// <summary>
    /// The NBD error for a block status. The protocol allows only EPERM, EIO, ENOMEM, EINVAL, ENOSPC,
    /// EOVERFLOW, ENOTSUP and ESHUTDOWN; any other errno (such as ENODATA for a media error) is sent as EIO.
    /// </summary>
    internal static Errno ToNbdError(BlkStatus status)
    {
        var errno = status.ToErrno();
        return errno is 0 or Errno.EPERM or Errno.EIO or Errno.ENOMEM or Errno.EINVAL or Errno.ENOSPC
            or Errno.EOVERFLOW or Errno.EOPNOTSUPP or Errno.ESHUTDOWN ? errno : Errno.EIO;
    }

    /// <summary>Queues the simple reply of <paramref name="request"/> and counts the request.</summary>
    private void Complete(in Request request, Errno error)
    {
        var span = _writer.GetSpan(ReplySize);
        BinaryPrimitives.WriteUInt32BigEndian(span, NbdMagic.SimpleReply);
        BinaryPrimitives.WriteUInt32BigEndian(span[4..], (uint)error);
        BinaryPrimitives.WriteUInt64BigEndian(span[8..], request.Handle);
        _writer.Advance(ReplySize);
        _unflushed += ReplySize;
        Count(request.Type, error);
    }

    /// <summary>Sends the queued replies, if any (a completed flush when there are none).</summary>
    private ValueTask<FlushResult> FlushReplies()
    {
        if (_unflushed == 0)
            return default;
        _unflushed = 0;
        return _writer.FlushAsync();
    }

    private static void Count(ushort type, Errno error)
    {
        if (!DriverDiagnostics.NbdRequests.Enabled)
            return;
        DriverDiagnostics.NbdRequests.Add(1,
            new KeyValuePair<string, object?>("command", CommandName(type)),
            new KeyValuePair<string, object?>("error", ErrorName(error)));
    }

    private static string CommandName(ushort type) => (NbdCommand)type switch
    {
        NbdCommand.Read => "read",
        NbdCommand.Write => "write",
        NbdCommand.Disconnect => "disc",
        NbdCommand.Flush => "flush",
        NbdCommand.Trim => "trim",
        NbdCommand.Cache => "cache",
        NbdCommand.WriteZeroes => "write_zeroes",
        NbdCommand.BlockStatus => "block_status",
        _ => "unknown",
    };

    private static string ErrorName(Errno error) => error switch
    {
        0 => "0",
        Errno.EPERM => "EPERM",
        Errno.EIO => "EIO",
        Errno.ENOMEM => "ENOMEM",
        Errno.EINVAL => "EINVAL",
        Errno.ENOSPC => "ENOSPC",
        Errno.EOVERFLOW => "EOVERFLOW",
        Errno.EOPNOTSUPP => "ENOTSUP",
        Errno.ESHUTDOWN => "ESHUTDOWN",
        _ => "other",
    };

    private static Request ParseRequest(in ReadOnlySequence<byte> buffer)
    {
        Span<byte> header = stackalloc byte[RequestSize];
        buffer.Slice(0, RequestSize).CopyTo(header);
        return new Request(
            BinaryPrimitives.ReadUInt32BigEndian(header),
            (NbdCommandFlags)BinaryPrimitives.ReadUInt16BigEndian(header[4..]),
            BinaryPrimitives.ReadUInt16BigEndian(header[6..]),
            BinaryPrimitives.ReadUInt64BigEndian(header[8..]),
            BinaryPrimitives.ReadUInt64BigEndian(header[16..]),
            BinaryPrimitives.ReadUInt32BigEndian(header[24..]));
    }

    /// <summary>One request header: magic, command flags, type, the client's opaque handle, offset and length.</summary>
    private readonly record struct Request(uint Magic, NbdCommandFlags Flags, ushort Type, ulong Handle, ulong Offset, uint Length);
}
