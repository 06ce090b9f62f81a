using System.Buffers.Binary;
using System.Text;
using static DaxStack.Driver.Tests.Nbd.RawNbdClient;

namespace DaxStack.Driver.Tests.Nbd;

/// <summary>
/// One connection driven by a model-based test: sends batches of requests (from a thread of their
/// own, as a pipelining client does, so neither side's socket buffer can wedge the other), reads
/// the replies in request order (the server's promise) and checks each against
/// <see cref="NbdReferenceModel"/>. Every failure names the run (its seed) and lists the requests
/// sent so far, the failing one last.
/// </summary>
internal sealed class NbdModelRun : IDisposable
{
    private const int ReplySize = 16;

    private readonly string _context;
    private readonly RawNbdClient _client;
    private readonly List<string> _log = [];
    private ulong _nextHandle = 1;
    private int _sent;

    public NbdModelRun(string context, RawNbdClient client, NbdReferenceModel model)
    {
        _context = context;
        _client = client;
        Model = model;
    }

    public NbdReferenceModel Model { get; }

    /// <summary><paramref name="count"/> requests from <paramref name="generator"/>, alone or up to 16 in flight at once.</summary>
    public void RunRandom(NbdRequestGenerator generator, int count)
    {
        var random = generator.Random;
        while (count > 0)
        {
            int inFlight = Math.Min(count, random.Next(5) < 2 ? 1 : random.Next(2, 17));
            var batch = new NbdModelRequest[inFlight];
            for (int i = 0; i < inFlight; i++)
                batch[i] = generator.Next();
            // Now and then the bytes go out in small pieces with pauses, so that headers and blocks
            // arrive split (the server's paths that wait for the rest of a block or header).
            Run(batch, random.Next(6) == 0 ? random.Next() : null);
            count -= inFlight;
        }
    }

    /// <summary>Reads [<paramref name="low"/>, <paramref name="high"/>) back, in requests of the maximum payload, all in flight together.</summary>
    public void ReadAll(long low, long high)
    {
        var batch = new List<NbdModelRequest>();
        for (long offset = low; offset < high; offset += Model.MaxPayload)
            batch.Add(new NbdModelRequest(CmdRead, 0, (ulong)offset, (uint)Math.Min(Model.MaxPayload, high - offset)));
        Run(batch);
    }

    /// <summary>
    /// Sends <paramref name="batch"/> before reading any of its replies, and checks each reply
    /// against the model. With <paramref name="dribble"/>, the bytes go out in random pieces of up to
    /// a few KiB, cut by that seed, with a pause now and then.
    /// </summary>
    public void Run(IReadOnlyList<NbdModelRequest> batch, int? dribble = null)
    {
        // The model runs the requests in the order sent, as the server promises to.
        var expected = new (ulong Handle, uint[] Errors, byte[]? Data)[batch.Count];
        for (int i = 0; i < batch.Count; i++)
        {
            var errors = Model.AllowedErrors(batch[i]);
            expected[i] = (_nextHandle++, errors, errors.Length == 0 ? Model.Apply(batch[i]) : null);
        }
        if (batch.Count > 1)
            _log.Add($"-- {batch.Count} requests in flight together:");
        var send = Task.Run(() =>
        {
            var header = new byte[28];
            for (int i = 0; i < batch.Count; i++)
            {
                var request = batch[i];
                WriteRequestHeader(header, request.Type, request.Flags, expected[i].Handle, request.Offset, request.Length);
                if (dribble == null)
                {
                    _client.Send(header);
                    if (request.Payload != null)
                        _client.Send(request.Payload);
                }
                else
                    Dribble([.. header, .. request.Payload ?? []], new Random(dribble.Value + i));
            }
        });
        try
        {
            for (int i = 0; i < batch.Count; i++)
            {
                _log.Add($"#{_sent++} {batch[i]}");
                if (batch[i].Type != CmdDisc)
                    CheckReply(batch[i], expected[i].Handle, expected[i].Errors, expected[i].Data);
            }
            send.GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not AssertionException)
        {
            Fail($"{e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>
    /// <paramref name="batch"/> followed by NBD_CMD_DISC before any reply is read: every request is
    /// still answered, then the server closes the connection.
    /// </summary>
    public void RunThenDisconnect(IReadOnlyList<NbdModelRequest> batch)
    {
        Run([.. batch, new NbdModelRequest(CmdDisc, 0, 0, 0)]);
        if (!_client.ServerCloses())
            Fail("the server kept the connection after NBD_CMD_DISC");
    }

    /// <summary>A write longer than the maximum payload and of 2^25 bytes or more (its header only): refused with EINVAL, then the server hangs up.</summary>
    public void Oversized(NbdModelRequest request)
    {
        ulong handle = _nextHandle++;
        _log.Add($"#{_sent++} {request}");
        try
        {
            var header = new byte[28];
            WriteRequestHeader(header, request.Type, request.Flags, handle, request.Offset, request.Length);
            _client.Send(header);
            CheckReply(request, handle, Model.AllowedErrors(request), null);
            if (!_client.ServerCloses())
                Fail("the server kept the connection after a write longer than its maximum payload");
        }
        catch (Exception e) when (e is not AssertionException)
        {
            Fail($"{e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>
    /// After a strict power failure: every byte of [<paramref name="low"/>, <paramref name="high"/>)
    /// the model knows to be durable holds its durable value in <paramref name="afterCrash"/> (the
    /// whole export); with <paramref name="expectAllKnown"/> (a flush came last) that is every byte.
    /// </summary>
    public void CheckDurable(byte[] afterCrash, long low, long high, bool expectAllKnown)
    {
        long first = Model.FirstDurabilityMismatch(afterCrash, low, high, out long known, out byte durable);
        if (first >= 0)
            Fail($"after a power failure byte {first} is 0x{afterCrash[first]:x2}, but 0x{durable:x2} was durable ({known} bytes known durable)");
        if (expectAllKnown && known != high - low)
            Fail($"the model knows only {known} of {high - low} bytes to be durable after a flush (a bug in the model)");
    }

    public void Dispose() => _client.Dispose();

    private void Dribble(byte[] bytes, Random random)
    {
        for (int sent = 0; sent < bytes.Length;)
        {
            int n = Math.Min(bytes.Length - sent, random.Next(1, 6000));
            _client.Send(bytes.AsSpan(sent, n));
            sent += n;
            if (random.Next(24) == 0)
                Thread.Sleep(1);
        }
    }

    private void CheckReply(NbdModelRequest request, ulong handle, uint[] errors, byte[]? data)
    {
        Span<byte> reply = stackalloc byte[ReplySize];
        _client.ReceiveExactly(reply);
        uint magic = BinaryPrimitives.ReadUInt32BigEndian(reply);
        uint error = BinaryPrimitives.ReadUInt32BigEndian(reply[4..]);
        ulong replyHandle = BinaryPrimitives.ReadUInt64BigEndian(reply[8..]);
        if (magic != SimpleReplyMagic)
            Fail($"reply magic 0x{magic:x8}, not NBD_SIMPLE_REPLY_MAGIC");
        if (replyHandle != handle)
            Fail($"the reply carries handle {replyHandle}, the request {handle}: replies are out of order");
        bool allowed = errors.Length == 0 ? error == 0 : errors.Contains(error);
        if (!allowed)
            Fail($"answered with error {error}; the model expects {(errors.Length == 0 ? "success" : string.Join(" or ", errors))}");
        if (error != 0 || request.Type != CmdRead)
            return;
        var back = new byte[request.Length];
        _client.ReceiveExactly(back);
        int at = back.AsSpan().CommonPrefixLength(data);
        if (at < back.Length)
        {
            int differ = 0;
            for (int i = at; i < back.Length; i++)
                differ += back[i] != data![i] ? 1 : 0;
            Fail($"read byte {request.Offset + (ulong)at} (byte {at} of the reply) is 0x{back[at]:x2}, the model has 0x{data![at]:x2}; {differ} bytes differ");
        }
    }

    private void Fail(string what)
    {
        var message = new StringBuilder();
        message.AppendLine($"{_context}: {what}");
        message.AppendLine("requests so far, oldest first (the last is the one that failed):");
        foreach (var line in _log)
            message.AppendLine(line);
        Assert.Fail(message.ToString());
    }
}
