using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Runtime.ExceptionServices;
using DaxStack.Device.Errors;
using DaxStack.Driver.Block;
using DaxStack.Driver.Diagnostics;

namespace DaxStack.Driver.Nbd;

/// <summary>
/// The transmission phase of one connection, on two threads joined by a
/// <see cref="NbdRequestQueue"/>: the connection's thread parses requests from the input pipe and
/// receives write payloads; a worker executes queued requests on the export's device (large
/// reads, large writes, and small reads, flushes, trims and write-zeroes that arrive while it is
/// busy) and sends their simple replies. Both keep arrival order: the worker
/// takes requests in order, and a write waits until the worker has executed every request sent
/// before it. Every operation is one or more bios on the device.
/// <para>
/// Data path: a block-aligned write of at least <see cref="MinHandedWrite"/> bytes, when the
/// device can take data straight from its source (<see cref="IBlockDeviceWriteFrom"/>), is received
/// by the connection's thread from the socket directly into the device, as many whole blocks at a
/// time as the socket holds, so its payload is copied once; an unaligned one of
/// <see cref="MinHandedWrite"/> to <see cref="MaxBatchedRead"/> bytes is received into one of the
/// connection's payload buffers and applied by the worker while the next request is received; any
/// other write is applied straight from the input pipe's buffers as it arrives, whole logical
/// blocks at a time (a vectored bio over the pipe segments), by the thread that just received it,
/// so a 32 MiB write never needs 32 MiB of memory. While the worker is idle, the connection's thread also answers the writes it applied
/// and executes flushes, trims, write-zeroes and reads of at most <see cref="MaxOwnRead"/> bytes
/// itself (a read's data goes into its own reply batch), so a stream of them costs no hand-off. A
/// block-aligned read of at least <see cref="MinHandedWrite"/> bytes, when the device can hand its
/// data straight to a sink (<see cref="IBlockDeviceReadTo"/>), goes out as its header (with the
/// replies batched before it) and then the data from the device straight to the socket, sent by
/// the connection's thread too while the worker is idle; any other
/// read the worker gets is copied from the device into its reply buffer, right after the reply
/// header, and sent from there with the replies batched before it; one larger than
/// <see cref="MaxBatchedRead"/> goes out a buffer at a time. A partial block at either end of a request is read, patched and written back
/// through the thread's own bounce block under the export's read-modify-write lock. Nothing is
/// allocated per request: the jobs, the reply buffer and the pipe's buffers are reused.
/// </para>
/// <para>
/// The worker sends its replies when no further request is waiting for it, or when the buffer
/// cannot take the next one, so pipelined requests share socket writes.
/// </para>
/// <para>
/// Lock order: the export's read-modify-write gate, then the device's own locks (a submission
/// queue's gate, then its region lock), which <see cref="IBlockDeviceOperations.SubmitBio"/> takes inside.
/// </para>
/// </summary>
/// <remarks>Models the transmission phase of the NBD protocol (nbd-server's <c>mainloop</c> with <c>handle_read</c>,
/// <c>handle_write</c>, <c>handle_flush</c>, <c>handle_trim</c>, <c>handle_write_zeroes</c>; nbdkit's
/// per-connection threads that receive, execute and reply).</remarks>
internal sealed class NbdTransmission
{
    /// <summary>The largest read whose reply is assembled whole in the worker's buffer; larger ones go out in pieces.</summary>
    internal const int MaxBatchedRead = 1 << 20;

    /// <summary>The size of the worker's reply buffer: a whole <see cref="MaxBatchedRead"/> read and room for small replies batched before it.</summary>
    internal const int ReplyBufferSize = MaxBatchedRead + (64 << 10);

    /// <summary>Writes of at least this many bytes are received straight into the device when block-aligned; unaligned ones up to <see cref="MaxBatchedRead"/> are received into a payload buffer and applied by the worker, overlapping the next receive.</summary>
    internal const int MinHandedWrite = 128 << 10;

    /// <summary>Payload buffers of <see cref="MaxBatchedRead"/> bytes, used round-robin by handed-over writes.</summary>
    private const int PayloadBuffers = 4;

    /// <summary>Replies the connection's thread batches itself, while the worker is idle, before it sends them.</summary>
    private const int OwnReplyBatch = 256;

    /// <summary>Reads of at most this many bytes are executed by the connection's thread itself while the worker is idle.</summary>
    internal const int MaxOwnRead = 64 << 10;

    /// <summary>The connection's own reply buffer: <see cref="OwnReplyBatch"/> headers, or fewer with the data of the reads it executed.</summary>
    private const int OwnReplyBufferSize = 4 * MaxOwnRead + OwnReplyBatch * ReplySize;

    private const int RequestSize = 28;
    private const int ReplySize = 16;

    private readonly NbdConnection _connection;
    private readonly PipeReader _reader;
    private readonly NbdExport _export;
    private readonly IBlockDeviceOperations _device;
    private readonly IBlockDeviceWriteFrom? _writeFrom;
    // Whether the last large write's payload was received straight from the socket to its end:
    // the next fill of the input pipe then takes one request header (see ReadInput).
    private bool _headerNext;
    private readonly NbdSocketSource _socketSource;
    private readonly IBlockDeviceReadTo? _readTo;
    private readonly NbdSocketSink _socketSink;
    private readonly long _size;
    private readonly int _blockSize;
    private readonly int _maxPayload;

    // proto.md: a length below 2^25 bytes should not be taken as a denial of service, even beyond
    // the advertised maximum block size; a write that long is read (and refused), not hung up on.
    private const long UnrefusedPayload = 1L << 25;
    private readonly bool _readOnly;
    private readonly NbdRequestQueue _queue = new();
    private readonly byte[] _receiveBounce;
    private readonly byte[] _workBounce;
    private byte[] _ownReplies = [];
    private int _ownBatched;    // bytes of _ownReplies in use
    private int _ownCount;      // replies among them
    private readonly byte[][] _payloads = new byte[PayloadBuffers][];
    private readonly long[] _payloadJob = [-1, -1, -1, -1];
    private int _nextPayload;
    private byte[] _replies = [];
    private int _batched;
    private long _lastExecute = -1;
    private Exception? _failure;
    private volatile bool _severed;
    private bool _outputBroken;

    public NbdTransmission(NbdConnection connection, NbdExport export)
    {
        _connection = connection;
        _reader = connection.Reader;
        _export = export;
        _device = export.Device;
        _writeFrom = _device as IBlockDeviceWriteFrom;
        _socketSource = new NbdSocketSource(connection);
        _readTo = _device as IBlockDeviceReadTo;
        _socketSink = new NbdSocketSink(connection);
        _size = export.Size;
        _blockSize = _device.Limits.LogicalBlockSize;
        _maxPayload = connection.Server.Options.MaxPayload;
        _readOnly = export.ReadOnly;
        _receiveBounce = new byte[_blockSize];
        _workBounce = new byte[_blockSize];
    }

    /// <summary>Requests received so far.</summary>
    public long Requests { get; private set; }

    /// <summary>
    /// Serves requests until the client disconnects, breaks the protocol, or the server stops; every
    /// request received by then is answered before it returns (unless the client has gone away).
    /// Runs on the connection's thread; the worker lives as long as the call.
    /// </summary>
    public void Run()
    {
        _replies = ArrayPool<byte>.Shared.Rent(ReplyBufferSize);
        _ownReplies = ArrayPool<byte>.Shared.Rent(OwnReplyBufferSize);
        _connection.BeforeWait = SendOwnReplies;
        _connection.HeldReplies = () => _ownCount;
        var worker = new Thread(WorkLoop, NbdConnection.ThreadStackSize) { IsBackground = true, Name = $"nbd worker {_connection.Id}" };
        worker.Start();
        try
        {
            ReceiveLoop();
            SendOwnReplies();
        }
        catch (Exception) when (Volatile.Read(ref _failure) != null || _severed)
        {
            // The worker closed the socket (a failure, or a read that failed after its header went
            // out): what it recorded is what is reported.
        }
        finally
        {
            _connection.BeforeWait = null;
            _connection.HeldReplies = null;
            _queue.Close();
            worker.Join();
            ArrayPool<byte>.Shared.Return(_replies);
            _replies = [];
            ArrayPool<byte>.Shared.Return(_ownReplies);
            _ownReplies = [];
            for (int i = 0; i < _payloads.Length; i++)
            {
                if (_payloads[i] != null)
                    ArrayPool<byte>.Shared.Return(_payloads[i]);
                _payloads[i] = null!;
            }
        }
        var failure = Volatile.Read(ref _failure);
        if (failure != null)
            ExceptionDispatchInfo.Throw(failure);
    }

    // ------------------------------------------------------------------ receiving (the connection's thread)

    private void ReceiveLoop()
    {
        bool needMore = false;
        while (true)
        {
            if (_connection.IsStopRequested)
            {
                _connection.CloseReason = "server stopping";
                return;
            }
            if (_connection.IsClosing)
            {
                _connection.CloseReason = "client went away";
                return;
            }
            if (!ReadInput(needMore, stoppable: true, out var result))
                continue;
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
                // Without the magic there is no telling where requests start: the stream cannot be
                // resynchronised. The requests before it are still answered.
                _connection.ReportViolation($"request magic 0x{request.Magic:x8} is not NBD_REQUEST_MAGIC");
                return;
            }
            Requests++;
            bool go = (NbdCommand)request.Type switch
            {
                NbdCommand.Read => ReadOrEnqueue(request),
                NbdCommand.Write => ReceiveWrite(request),
                NbdCommand.Disconnect => Disconnect(request),
                NbdCommand.Flush or NbdCommand.Trim or NbdCommand.WriteZeroes or NbdCommand.Cache => ExecuteOrEnqueue(request),
                // Unknown commands, and BLOCK_STATUS (no metadata context can be negotiated here).
                _ => Enqueue(request, Errno.EINVAL),
            };
            if (!go)
                return;
        }
    }

    /// <summary>
    /// Input to parse: what the pipe holds (unless <paramref name="needMore"/>), else what arrives
    /// next. False when <paramref name="stoppable"/> and a stop was requested while waiting.
    /// </summary>
    private bool ReadInput(bool needMore, bool stoppable, out ReadResult result)
    {
        if (!needMore && _reader.TryRead(out result))
        {
            _headerNext = false;    // the next request came through the pipe after all
            return true;
        }
        // After a payload received straight from the socket, the next receive takes the next
        // request's header alone: a receive buffer's worth would bring a quarter of the next
        // 256 KiB write along with it, which would then be copied out of the pipe instead of
        // landing in the device straight from the socket.
        int limit = _headerNext ? RequestSize : 0;
        _headerNext = false;
        if (_connection.FillInput(stoppable, limit) < 0)
        {
            result = default;
            return false;
        }
        if (!_reader.TryRead(out result))
            throw new InvalidOperationException("the NBD input pipe holds neither bytes nor its end after a receive");
        return true;
    }

    /// <summary>
    /// Queues a request for the worker: executed when <paramref name="error"/> is 0 and the command
    /// needs the device, otherwise only answered with <paramref name="error"/>.
    /// </summary>
    private bool Enqueue(in NbdRequest request, Errno error)
    {
        bool execute = error == 0 && (NbdCommand)request.Type is NbdCommand.Read or NbdCommand.Flush
            or NbdCommand.Trim or NbdCommand.WriteZeroes or NbdCommand.Cache;
        // Replies leave in request order: the ones this thread holds go before the worker's.
        SendOwnReplies();
        var job = _queue.Reserve();
        job.Request = request;
        job.Execute = execute;
        job.Error = error;
        job.Payload = -1;
        if (execute)
            _lastExecute = _queue.Produced;
        _queue.Publish();
        return true;
    }

    /// <summary>
    /// Answers a request this thread completed (a write, or a command it executed) when the worker
    /// is idle (nothing of it unsent, so the order holds); queues the reply for the worker otherwise. A stream of writes then costs no hand-off
    /// between threads. The reply is batched while further requests are already received, or
    /// while the connection holds replies back (<see cref="NbdConnection.HoldsReplies"/>: the next
    /// wait for the client sends them, at once or after a short busy poll) up to
    /// <see cref="NbdConnection.ReplyHoldLimit"/>; otherwise (<paramref name="sendNow"/>) it goes
    /// out at once: a client with few large writes in flight must not wait for replies this thread holds.
    /// </summary>
    private bool AnswerWrite(in NbdRequest request, Errno error, bool sendNow)
    {
        if (!_queue.IsIdle)
            return Enqueue(request, error);
        MakeOwnRoom(0);
        return AnswerOwn(request, error, 0, sendNow);
    }

    /// <summary>Sends the replies this thread holds if the next reply, with <paramref name="data"/> bytes of data, would not fit beside them.</summary>
    private void MakeOwnRoom(int data)
    {
        if (_ownCount == OwnReplyBatch || OwnReplyBufferSize - _ownBatched < ReplySize + data)
            SendOwnReplies();
    }

    /// <summary>
    /// Adds this thread's reply to <paramref name="request"/> to its batch (its <paramref name="data"/>
    /// bytes of data, if any, are in place already after the header's room: see
    /// <see cref="MakeOwnRoom"/>) and sends the batch as <see cref="AnswerWrite"/> says.
    /// </summary>
    private bool AnswerOwn(in NbdRequest request, Errno error, int data, bool sendNow)
    {
        Count(request.Type, error);
        WriteReplyHeader(_ownReplies.AsSpan(_ownBatched), error, request.Handle);
        _ownBatched += ReplySize + data;
        _ownCount++;
        if (sendNow)
            SendOwnReplies();
        else if (_connection.HoldsReplies && _ownCount >= _connection.ReplyHoldLimit)
        {
            // The client kept sending while these were held: they go out now, so that its window of
            // requests in flight never fills with replies it has not received.
            SendOwnReplies();
            _connection.ReplyBatchFull();
        }
        return true;
    }

    /// <summary>
    /// A flush, trim, write-zeroes or cache: executed and answered on this thread when the worker
    /// is idle (as a write is, and for the same reason), queued for the worker otherwise. The reply
    /// goes out at once unless a further request is already received.
    /// </summary>
    private bool ExecuteOrEnqueue(in NbdRequest request)
    {
        if (!_queue.IsIdle)
            return Enqueue(request, 0);
        var error = Execute(request, _receiveBounce);
        return AnswerWrite(request, error, sendNow: !NextRequestReceived() && !_connection.HoldsReplies);
    }

    /// <summary>Whether the input pipe already holds the next request's header (it is left unconsumed).</summary>
    private bool NextRequestReceived()
    {
        if (!_reader.TryRead(out var result))
            return false;
        bool received = result.Buffer.Length >= RequestSize;
        _reader.AdvanceTo(result.Buffer.Start);
        return received;
    }

    /// <summary>
    /// A read: executed and answered on this thread when it is small (at most
    /// <see cref="MaxOwnRead"/> bytes) and the worker is idle, so that a stream of small reads costs
    /// no hand-off between threads (the worker's replies are all sent then, so the order holds, and
    /// every write received before it has been applied); queued for the worker otherwise. Its reply,
    /// data included, is batched with this thread's others and goes out as a write's does.
    /// </summary>
    private bool ReadOrEnqueue(in NbdRequest request)
    {
        var error = CheckRead(request);
        if (!_queue.IsIdle)
            return Enqueue(request, error);
        if (request.Length > MaxOwnRead && error == 0)
        {
            if (_readTo == null || !IsLargeAndAligned(request))
                return Enqueue(request, error);
            return SendOwnReadDirect(request);
        }
        int length = error == 0 ? (int)request.Length : 0;
        MakeOwnRoom(length);
        if (length > 0)
        {
            error = ReadInto(_ownReplies.AsSpan(_ownBatched + ReplySize, length), (long)request.Offset, _receiveBounce);
            if (error != 0)
                length = 0;
        }
        return AnswerOwn(request, error, length, sendNow: !NextRequestReceived() && !_connection.HoldsReplies);
    }

    /// <summary>
    /// A large block-aligned read while the worker is idle, executed by this thread as the worker
    /// would execute it (<see cref="SendReadDirect"/>): its header goes out with the replies this
    /// thread holds, then its data straight from the device to the socket, so that a stream of
    /// large reads costs no hand-off between threads either. Poison injected since the read was
    /// checked fails it after its header: a hard disconnect (false), as on the worker.
    /// </summary>
    private bool SendOwnReadDirect(in NbdRequest request)
    {
        MakeOwnRoom(0);
        AnswerOwn(request, 0, 0, sendNow: true);
        if (_connection.IsClosing || SendDirect((long)request.Offset, request.Length))
            return true;    // sent, or the client went away (the loop then sees the connection closing)
        SeverAfterHeader(request);
        return false;
    }

    /// <summary>Sends the replies this thread holds (to writes, reads and other commands it executed); once the client has gone away they are dropped.</summary>
    private void SendOwnReplies()
    {
        if (_ownBatched == 0)
            return;
        if (!_connection.IsClosing && !_connection.TrySendAll(_ownReplies.AsSpan(0, _ownBatched)))
            _connection.MarkClosing();
        _ownBatched = 0;
        _ownCount = 0;
    }

    private bool Disconnect(in NbdRequest request)
    {
        Count(request.Type, 0);
        _connection.CloseReason = "client disconnected (NBD_CMD_DISC)";
        return false;
    }

    // ------------------------------------------------------------------ read

    /// <summary>The error NBD_CMD_READ fails with before any data is sent; 0 when the read can go ahead.</summary>
    private Errno CheckRead(in NbdRequest request)
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

    /// <summary>A read of <paramref name="destination"/>.Length bytes at <paramref name="position"/>: whole blocks straight into it, partial ones through <paramref name="bounce"/> (the calling thread's own).</summary>
    private Errno ReadInto(Span<byte> destination, long position, byte[] bounce)
    {
        int done = 0;
        while (done < destination.Length)
        {
            int inBlock = (int)(position % _blockSize);
            int left = destination.Length - done;
            int n;
            BlkStatus status;
            if (inBlock != 0 || left < _blockSize)
            {
                n = Math.Min(_blockSize - inBlock, left);
                status = _device.Read(position - inBlock, bounce);
                if (status == BlkStatus.Ok)
                    bounce.AsSpan(inBlock, n).CopyTo(destination[done..]);
            }
            else
            {
                n = left - left % _blockSize;
                status = _device.Read(position, destination.Slice(done, n));
            }
            if (status != BlkStatus.Ok)
                return ToNbdError(status);
            done += n;
            position += n;
        }
        return 0;
    }

    // ------------------------------------------------------------------ write

    /// <summary>The error NBD_CMD_WRITE (within the payload limit) fails with; 0 when its payload is to be applied.</summary>
    private Errno CheckWrite(in NbdRequest request)
    {
        var error = CheckFlags(request.Flags, NbdCommandFlags.Fua);
        if (error != 0)
            return error;
        if (_readOnly)
            return Errno.EPERM;
        return InRange(request.Offset, request.Length) ? 0 : Errno.ENOSPC;
    }

    /// <summary>
    /// Applies a write's payload as it arrives, once the worker has executed every request sent
    /// before it, and queues its reply. A refused write still has its payload consumed (without
    /// being applied), to stay in step. False when the connection must close.
    /// </summary>
    private bool ReceiveWrite(in NbdRequest request)
    {
        if (request.Length > _maxPayload && request.Length >= UnrefusedPayload)
        {
            // Skipping up to 4 GiB of payload would let a client stall the connection at will, and
            // there is no other way to find the next request: refuse, then hang up.
            Enqueue(request, Errno.EINVAL);
            _connection.ReportViolation($"NBD_CMD_WRITE of {request.Length} bytes exceeds the maximum payload of {_maxPayload} bytes");
            return false;
        }
        // Below 2^25 bytes a write beyond a smaller maximum is refused as any bad write is: its
        // payload is read and dropped, and the connection goes on.
        var error = request.Length > _maxPayload ? Errno.EINVAL : CheckWrite(request);
        bool inPlace = error == 0 && _writeFrom != null && IsLargeAndAligned(request)
            && !_device.HasBadBlocks((long)request.Offset, request.Length);
        if (!inPlace && error == 0 && request.Length >= MinHandedWrite && request.Length <= MaxBatchedRead)
            return HandWrite(request);
        if (error == 0 && _lastExecute >= 0)
        {
            // A read sent before this write must not see it, a flush sent after it must cover it,
            // and one sent before must not (it may, but the crash model would then lose less than it should).
            _queue.WaitExecuted(_lastExecute);
            _lastExecute = -1;
        }
        var flags = FuaOf(request);
        long position = (long)request.Offset, remaining = request.Length;
        if (inPlace)
        {
            if (!ReceiveInPlace(ref position, ref remaining, flags, ref error))
                return false;
            // A large write's reply goes out at once, even when the next request is already in:
            // it frees a slot in the client's window of requests in flight (nbdcopy keeps 64 per
            // connection), and held back while a fast client keeps sending, it would reach the client
            // only when the socket runs dry. One 16-byte send per 128 KiB or more costs little.
            if (remaining == 0)
                return AnswerWrite(request, error, sendNow: true);
        }
        bool needMore = false, nextWaiting = true;
        while (remaining > 0)
        {
            ReadInput(needMore, stoppable: false, out var payload);
            var data = payload.Buffer;
            long used;
            (used, position, remaining, error) = ApplyAvailable(data, position, remaining, flags, error, _receiveBounce);
            if (remaining == 0)
            {
                // What follows belongs to the next request: leave it unexamined.
                nextWaiting = data.Length - used >= RequestSize;
                _reader.AdvanceTo(data.GetPosition(used));
                break;
            }
            _reader.AdvanceTo(data.GetPosition(used), data.End);
            if (payload.IsCompleted)
            {
                _connection.CloseReason = "client closed the connection in the middle of a write payload";
                return false;
            }
            needMore = true;
        }
        return AnswerWrite(request, error, sendNow: !nextWaiting && !_connection.HoldsReplies);
    }

    /// <summary>
    /// The payload of a large block-aligned write, received straight into the device
    /// (<see cref="IBlockDeviceWriteFrom"/>), as many whole blocks at a time as the socket holds.
    /// What the input pipe already holds of it goes in first, from the pipe's buffers. A block that
    /// arrives in pieces (cut at the pipe's end, or sent in dribs) is completed in the bounce block,
    /// waiting for the client as a receive does, and written from there. It stops early, leaving the
    /// rest to the pipe path, when the device fails (the rest is then only consumed) or the socket
    /// gives less than it held. False when the client closed its side in the middle.
    /// </summary>
    private bool ReceiveInPlace(ref long position, ref long remaining, BioFlags flags, ref Errno error)
    {
        int have = 0;    // bytes of the next block already in the bounce block
        if (_reader.TryRead(out var result))
        {
            var buffer = result.Buffer;
            long take = Math.Min(buffer.Length, remaining);
            long whole = take - take % _blockSize;
            if (whole > 0)
                error = ToNbdError(_device.Write(position, buffer.Slice(0, whole), flags));
            have = (int)(take - whole);
            buffer.Slice(whole, have).CopyTo(_receiveBounce);
            // The pipe is empty from here on: the payload's next bytes are the socket's.
            _reader.AdvanceTo(buffer.GetPosition(take));
            position += whole;
            remaining -= whole;
        }
        while (remaining > 0)
        {
            int available = have > 0 || error != 0 ? 0 : _connection.Available;
            if (available < _blockSize)
            {
                if (error != 0 && have == 0)
                    return true;    // the pipe path consumes the rest
                // Less than a block is there: wait for the whole block, in the bounce block.
                if (!ReceivePayload(_receiveBounce.AsSpan(have)))
                    return false;
                if (error == 0)
                    error = ToNbdError(_device.Write(position, _receiveBounce, flags));
                have = 0;
                position += _blockSize;
                remaining -= _blockSize;
                continue;
            }
            long want = Math.Min(remaining, available - available % _blockSize);
            var status = _writeFrom!.WriteFrom(position, want, _socketSource, flags, out long written);
            position += written;
            remaining -= written;
            if (status != BlkStatus.Ok)
                error = ToNbdError(status);
            else if (written < want)
                return true;    // the pipe path goes on from here, a block cut short included
        }
        // The whole payload came past the pipe, which is empty: the socket's next bytes are the
        // next request's header (see ReadInput).
        _headerNext = true;
        return true;
    }

    /// <summary>
    /// A large write: its payload is received into the next payload buffer (what the input pipe
    /// already holds of it is copied from there, the rest comes straight from the socket), and the
    /// worker applies it in order while this thread receives the next request. False when the
    /// client closed its side in the middle of the payload.
    /// </summary>
    private bool HandWrite(in NbdRequest request)
    {
        int slot = _nextPayload;
        _nextPayload = (slot + 1) % PayloadBuffers;
        if (_payloadJob[slot] >= 0)
            _queue.WaitExecuted(_payloadJob[slot]);
        _payloads[slot] ??= ArrayPool<byte>.Shared.Rent(MaxBatchedRead);
        var destination = _payloads[slot].AsSpan(0, (int)request.Length);
        int filled = 0;
        if (_reader.TryRead(out var result))
        {
            var buffer = result.Buffer;
            filled = (int)Math.Min(buffer.Length, destination.Length);
            buffer.Slice(0, filled).CopyTo(destination);
            _reader.AdvanceTo(buffer.GetPosition(filled));
        }
        // The pipe is empty now, so the socket's next bytes are the payload's next bytes.
        if (!ReceivePayload(destination[filled..]))
            return false;
        SendOwnReplies();
        var job = _queue.Reserve();
        job.Request = request;
        job.Execute = true;
        job.Error = 0;
        job.Payload = slot;
        _payloadJob[slot] = _lastExecute = _queue.Produced;
        _queue.Publish();
        return true;
    }

    /// <summary>
    /// Receives exactly <paramref name="destination"/>.Length payload bytes straight from the socket
    /// (the input pipe must hold nothing), waiting for them as long as the client takes. False when
    /// the client closed its side first.
    /// </summary>
    private bool ReceivePayload(Span<byte> destination)
    {
        for (int filled = 0; filled < destination.Length;)
        {
            int n = _connection.Receive(destination[filled..], stoppable: false);
            if (n <= 0)
            {
                _connection.CloseReason = "client closed the connection in the middle of a write payload";
                return false;
            }
            filled += n;
        }
        return true;
    }

    /// <summary>
    /// Applies as much of a write payload as <paramref name="buffer"/> holds, whole blocks at a
    /// time; a partial block waits until all its bytes are there. Once <paramref name="error"/> is
    /// set the rest of the payload is consumed without being written. Returns how many bytes were consumed.
    /// </summary>
    private (long Used, long Position, long Remaining, Errno Error) ApplyAvailable(
        in ReadOnlySequence<byte> buffer, long position, long remaining, BioFlags flags, Errno error, byte[] bounce)
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
                error = PatchBlock(position, buffer.Slice(used, n), (int)n, flags, bounce);
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
    /// bytes of it become <paramref name="data"/> (or zeroes when <paramref name="data"/> is empty),
    /// through <paramref name="bounce"/> (the calling thread's own).
    /// </summary>
    private Errno PatchBlock(long position, in ReadOnlySequence<byte> data, int length, BioFlags flags, byte[] bounce)
    {
        int inBlock = (int)(position % _blockSize);
        long start = position - inBlock;
        lock (_export.ReadModifyWriteGate)
        {
            var status = _device.Read(start, bounce);
            if (status != BlkStatus.Ok)
                return ToNbdError(status);
            if (data.IsEmpty)
                bounce.AsSpan(inBlock, length).Clear();
            else
                data.CopyTo(bounce.AsSpan(inBlock, length));
            return ToNbdError(_device.Write(start, bounce, flags));
        }
    }

    // ------------------------------------------------------------------ executing and replying (the worker)

    private void WorkLoop()
    {
        while (true)
        {
            // Waits only with nothing left to send: replies go out before the worker sleeps.
            int count = _queue.Take(wait: _batched == 0, out long first);
            if (count == 0)
            {
                if (_batched == 0)
                    return;
                SendReplies();
                continue;
            }
            for (int i = 0; i < count; i++)
            {
                var job = _queue[first + i];
                if (!_outputBroken && Volatile.Read(ref _failure) == null)
                {
                    try
                    {
                        Serve(job);
                    }
                    catch (Exception e)
                    {
                        Fail(e);
                    }
                }
                _queue.Executed();
            }
            // Once no reply can go out any more, the jobs skipped above are as answered as they
            // will ever be: counting them frees their room in the queue, so that the receiving
            // thread, which may be waiting for room, goes on to see the connection end.
            if (_outputBroken)
                SendReplies();
        }
    }

    /// <summary>Executes <paramref name="job"/> if it needs the device, counts it, and adds its reply to the batch.</summary>
    private void Serve(NbdJob job)
    {
        var request = job.Request;
        var error = job.Error;
        if (job.Execute && (NbdCommand)request.Type == NbdCommand.Read)
        {
            if (_readTo != null && IsLargeAndAligned(request))
            {
                SendReadDirect(request);
                return;
            }
            if (request.Length > MaxBatchedRead)
            {
                StreamRead(request);
                return;
            }
            int length = (int)request.Length;
            if (ReplyBufferSize - _batched < ReplySize + length)
                SendReplies();
            error = ReadInto(_replies.AsSpan(_batched + ReplySize, length), (long)request.Offset, _workBounce);
            Count(request.Type, error);
            WriteReplyHeader(_replies.AsSpan(_batched), error, request.Handle);
            _batched += ReplySize + (error == 0 ? length : 0);
            return;
        }
        if (job.Execute && job.Payload >= 0)
        {
            var payload = new ReadOnlySequence<byte>(_payloads[job.Payload], 0, (int)request.Length);
            error = ApplyAvailable(payload, (long)request.Offset, request.Length, FuaOf(request), 0, _workBounce).Error;
        }
        else if (job.Execute)
            error = Execute(request, _workBounce);
        Count(request.Type, error);
        if (ReplyBufferSize - _batched < ReplySize)
            SendReplies();
        WriteReplyHeader(_replies.AsSpan(_batched), error, request.Handle);
        _batched += ReplySize;
    }

    private Errno Execute(in NbdRequest request, byte[] bounce) => (NbdCommand)request.Type switch
    {
        NbdCommand.Flush => Flush(request),
        NbdCommand.Trim => Trim(request),
        NbdCommand.WriteZeroes => WriteZeroes(request, bounce),
        NbdCommand.Cache => Cache(request),
        _ => Errno.EINVAL,
    };

    /// <summary>
    /// A read larger than <see cref="MaxBatchedRead"/>: the header, then the data a buffer at a time.
    /// A failure in the first piece is an error reply; after that the header has promised data, and
    /// the protocol's only way out is a hard disconnect.
    /// </summary>
    private void StreamRead(in NbdRequest request)
    {
        SendReplies();
        long position = (long)request.Offset, end = position + request.Length;
        _batched = ReplySize;
        bool first = true;
        while (position < end)
        {
            int n = (int)Math.Min(end - position, ReplyBufferSize - _batched);
            var error = ReadInto(_replies.AsSpan(_batched, n), position, _workBounce);
            if (error != 0)
            {
                if (first)
                {
                    _batched = 0;
                    Count(request.Type, error);
                    WriteReplyHeader(_replies, error, request.Handle);
                    _batched = ReplySize;
                    return;
                }
                _outputBroken = true;
                SeverAfterHeader(request);
                return;
            }
            if (first)
            {
                Count(request.Type, 0);
                WriteReplyHeader(_replies, 0, request.Handle);
                first = false;
            }
            _batched += n;
            position += n;
            SendReplies();
        }
    }

    /// <summary>
    /// A large block-aligned read, sent from the device straight to the socket
    /// (<see cref="IBlockDeviceReadTo"/>): the header goes out with the replies batched before it,
    /// then the data as fast as the socket takes it. Known bad blocks fail the read before its header
    /// (poison injected since the request arrived included); a failure after the header has promised
    /// data leaves only a hard disconnect, as for <see cref="StreamRead"/>.
    /// </summary>
    private void SendReadDirect(in NbdRequest request)
    {
        long position = (long)request.Offset, left = request.Length;
        var error = _device.HasBadBlocks(position, left) ? Errno.EIO : 0;
        Count(request.Type, error);
        if (ReplyBufferSize - _batched < ReplySize)
            SendReplies();
        WriteReplyHeader(_replies.AsSpan(_batched), error, request.Handle);
        _batched += ReplySize;
        if (error != 0)
            return;
        SendReplies();
        if (_outputBroken)
            return;
        if (!SendDirect(position, left))
        {
            _outputBroken = true;
            SeverAfterHeader(request);
        }
        else if (_connection.IsClosing)
            _outputBroken = true;
    }

    /// <summary>
    /// Sends [<paramref name="position"/>, +<paramref name="length"/>) of the device straight to the
    /// socket (a large read's data, after its header), as fast as the socket takes it. False when
    /// the device failed part-way (the caller must sever the connection); true when all of it went
    /// out, or the client went away first (the connection is then closing).
    /// </summary>
    private bool SendDirect(long position, long length)
    {
        while (length > 0 && !_connection.IsClosing)
        {
            var status = _readTo!.ReadTo(position, length, _socketSink, out long sent);
            position += sent;
            length -= sent;
            if (_connection.IsClosing)
                break;
            if (status != BlkStatus.Ok)
                return false;
            // The socket took what it could: wait until it takes more (false: dropped, and closing).
            if (length > 0 && !_connection.WaitWritable())
                break;
        }
        return true;
    }

    /// <summary>
    /// A read failed after its header promised data: a simple reply cannot take that back, so the
    /// protocol's only way out is a hard disconnect. (The worker then also stops sending.)
    /// </summary>
    private void SeverAfterHeader(in NbdRequest request)
    {
        _connection.ReportViolation($"read of [{request.Offset}, +{request.Length}) failed after its reply header was sent");
        _severed = true;
        _connection.Drop();
    }

    /// <summary>Sends the batched replies; once the client has gone away they are dropped.</summary>
    private void SendReplies()
    {
        if (_batched > 0 && !_outputBroken && !_connection.TrySendAll(_replies.AsSpan(0, _batched)))
        {
            _outputBroken = true;
            _connection.MarkClosing();
        }
        _batched = 0;
        // Every job executed so far has had its reply sent (the one being served is not yet counted as executed).
        _queue.Answered();
    }

    /// <summary>Records the first failure of the worker (a bug) and drops the connection, which then reports it.</summary>
    private void Fail(Exception e)
    {
        if (Interlocked.CompareExchange(ref _failure, e, null) == null)
        {
            _outputBroken = true;
            _connection.Drop();
        }
    }

    private static void WriteReplyHeader(Span<byte> span, Errno error, ulong handle)
    {
        BinaryPrimitives.WriteUInt32BigEndian(span, NbdMagic.SimpleReply);
        BinaryPrimitives.WriteUInt32BigEndian(span[4..], (uint)error);
        BinaryPrimitives.WriteUInt64BigEndian(span[8..], handle);
    }

    // ------------------------------------------------------------------ flush, cache, trim, write-zeroes

    /// <summary>An empty flush bio: every write completed before it, on any connection, is durable after it.</summary>
    private Errno Flush(in NbdRequest request)
    {
        var error = CheckFlags(request.Flags, NbdCommandFlags.Fua);
        return error != 0 ? error : ToNbdError(_device.Flush());
    }

    /// <summary>A prefetch hint, checked and accepted: pmem has no slower tier to prefetch from.</summary>
    private Errno Cache(in NbdRequest request)
    {
        var error = CheckFlags(request.Flags, NbdCommandFlags.Fua);
        if (error != 0)
            return error;
        return InRange(request.Offset, request.Length) ? 0 : Errno.EINVAL;
    }

    private Errno Trim(in NbdRequest request)
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
        // A discard bio may not carry FUA (the block layer fails it with EIO): a FUA trim is a plain
        // discard followed by a flush, which makes it durable before the reply as the protocol asks.
        var status = _device.Discard(start, end - start);
        if (status == BlkStatus.Ok && (request.Flags & NbdCommandFlags.Fua) != 0)
            status = _device.Flush();
        return ToNbdError(status);
    }

    private Errno WriteZeroes(in NbdRequest request, byte[] bounce)
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
        bool flushAfter = false;
        long position = (long)request.Offset, end = position + request.Length;
        while (position < end && error == 0)
        {
            int inBlock = (int)(position % _blockSize);
            long n;
            if (inBlock != 0 || end - position < _blockSize)
            {
                n = Math.Min(_blockSize - inBlock, end - position);
                error = PatchBlock(position, ReadOnlySequence<byte>.Empty, (int)n, flags, bounce);
            }
            else
            {
                n = end - position;
                n -= n % _blockSize;
                // A write-zeroes bio may not carry FUA (the block layer fails it with EIO): with FUA
                // it goes without, and a flush follows before the reply. The partial blocks above are
                // write bios, which take FUA themselves.
                error = ToNbdError(_device.WriteZeroes(position, n));
                flushAfter = flags != BioFlags.None;
            }
            position += n;
        }
        if (error == 0 && flushAfter)
            error = ToNbdError(_device.Flush());
        return error;
    }

    // ------------------------------------------------------------------ helpers

    private static BioFlags FuaOf(in NbdRequest request) =>
        (request.Flags & NbdCommandFlags.Fua) != 0 ? BioFlags.Fua : BioFlags.None;

    /// <summary>EINVAL for a flag this command does not take (FUA is valid on every command).</summary>
    private static Errno CheckFlags(NbdCommandFlags flags, NbdCommandFlags allowed) =>
        (flags & ~allowed) != 0 ? Errno.EINVAL : 0;

    /// <summary>Whether a request moves its data straight between the socket and the device when the device can: at least <see cref="MinHandedWrite"/> bytes of whole blocks.</summary>
    private bool IsLargeAndAligned(in NbdRequest request) =>
        request.Length >= MinHandedWrite && (long)request.Offset % _blockSize == 0 && request.Length % _blockSize == 0;

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

    private static NbdRequest ParseRequest(in ReadOnlySequence<byte> buffer)
    {
        Span<byte> header = stackalloc byte[RequestSize];
        buffer.Slice(0, RequestSize).CopyTo(header);
        return new NbdRequest(
            BinaryPrimitives.ReadUInt32BigEndian(header),
            (NbdCommandFlags)BinaryPrimitives.ReadUInt16BigEndian(header[4..]),
            BinaryPrimitives.ReadUInt16BigEndian(header[6..]),
            BinaryPrimitives.ReadUInt64BigEndian(header[8..]),
            BinaryPrimitives.ReadUInt64BigEndian(header[16..]),
            BinaryPrimitives.ReadUInt32BigEndian(header[24..]));
    }
}
