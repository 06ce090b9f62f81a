using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace DaxStack.Driver.Tests.Nbd;

/// <summary>
/// A deliberately small NBD client over a blocking socket, written from the protocol document
/// with its own constants (not the server's), so the tests check the server against the spec and
/// can also send what no well-behaved client would. Every receive has a timeout: a test never hangs
/// on a server that stopped answering.
/// </summary>
internal sealed class RawNbdClient : IDisposable
{
    public const ulong InitPassword = 0x4e42444d41474943; // "NBDMAGIC"
    public const ulong IHaveOpt = 0x49484156454F5054;     // "IHAVEOPT"
    public const ulong OptionReplyMagic = 0x3e889045565a9;
    public const uint RequestMagic = 0x25609513;
    public const uint SimpleReplyMagic = 0x67446698;

    public const uint OptExportName = 1, OptAbort = 2, OptList = 3, OptStartTls = 5, OptInfo = 6, OptGo = 7, OptStructuredReply = 8;
    public const uint RepAck = 1, RepServer = 2, RepInfo = 3;
    public const uint RepErrUnsup = 0x8000_0001, RepErrInvalid = 0x8000_0003, RepErrUnknown = 0x8000_0006, RepErrTooBig = 0x8000_0009;
    public const ushort InfoExport = 0, InfoName = 1, InfoDescription = 2, InfoBlockSize = 3;

    public const ushort CmdRead = 0, CmdWrite = 1, CmdDisc = 2, CmdFlush = 3, CmdTrim = 4, CmdCache = 5, CmdWriteZeroes = 6, CmdBlockStatus = 7;
    public const ushort FlagFua = 1, FlagNoHole = 2, FlagDf = 4;

    public const ushort TxHasFlags = 1, TxReadOnly = 2, TxSendFlush = 4, TxSendFua = 8, TxSendTrim = 32, TxSendWriteZeroes = 64, TxCanMultiConn = 256;

    public const uint EPERM = 1, EIO = 5, EINVAL = 22, ENOSPC = 28;

    /// <summary>How long any single receive may wait.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly Socket _socket;
    private ulong _nextHandle = 0x1000;

    private RawNbdClient(Socket socket)
    {
        _socket = socket;
    }

    /// <summary>The handshake flags the server sent.</summary>
    public ushort HandshakeFlags { get; private set; }

    /// <summary>Connects and reads the greeting (NBDMAGIC, IHAVEOPT, handshake flags), without answering it.</summary>
    public static RawNbdClient Open(IPEndPoint endpoint)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp)
        {
            NoDelay = true,
            ReceiveTimeout = (int)Timeout.TotalMilliseconds,
            SendTimeout = (int)Timeout.TotalMilliseconds,
        };
        if (!socket.ConnectAsync(endpoint).Wait(Timeout))
        {
            socket.Dispose();
            throw new TimeoutException($"connecting to {endpoint} timed out");
        }
        var client = new RawNbdClient(socket);
        Span<byte> greeting = stackalloc byte[18];
        client.ReceiveExactly(greeting);
        Assert.That(BinaryPrimitives.ReadUInt64BigEndian(greeting), Is.EqualTo(InitPassword), "NBDMAGIC");
        Assert.That(BinaryPrimitives.ReadUInt64BigEndian(greeting[8..]), Is.EqualTo(IHaveOpt), "IHAVEOPT");
        client.HandshakeFlags = BinaryPrimitives.ReadUInt16BigEndian(greeting[16..]);
        return client;
    }

    /// <summary>Connects and sends the client flags (fixed newstyle and no-zeroes by default).</summary>
    public static RawNbdClient Connect(IPEndPoint endpoint, uint clientFlags = 3)
    {
        var client = Open(endpoint);
        client.SendUInt32(clientFlags);
        return client;
    }

    /// <summary>Connects, then NBD_OPT_GO on <paramref name="name"/>; fails the test unless it succeeds.</summary>
    public static RawNbdClient ConnectAndGo(IPEndPoint endpoint, string name)
    {
        var client = Connect(endpoint);
        var go = client.InfoOrGo(OptGo, name);
        Assert.That(go.Final.Type, Is.EqualTo(RepAck), $"NBD_OPT_GO '{name}' failed: {go.Final.Message}");
        return client;
    }

    // ------------------------------------------------------------------ handshake

    public void SendOption(uint option, ReadOnlySpan<byte> data)
    {
        var header = new byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(header, IHaveOpt);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(8), option);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(12), (uint)data.Length);
        Send(header);
        Send(data);
    }

    public OptionReply ReadOptionReply()
    {
        Span<byte> header = stackalloc byte[20];
        ReceiveExactly(header);
        Assert.That(BinaryPrimitives.ReadUInt64BigEndian(header), Is.EqualTo(OptionReplyMagic), "option reply magic");
        uint option = BinaryPrimitives.ReadUInt32BigEndian(header[8..]);
        uint type = BinaryPrimitives.ReadUInt32BigEndian(header[12..]);
        uint length = BinaryPrimitives.ReadUInt32BigEndian(header[16..]);
        Assert.That(length, Is.LessThan(1 << 20), "option reply length");
        var data = new byte[length];
        ReceiveExactly(data);
        return new OptionReply(option, type, data);
    }

    /// <summary>NBD_OPT_INFO or NBD_OPT_GO: every reply up to the final ACK or error.</summary>
    public InfoResult InfoOrGo(uint option, string name, params ushort[] requests)
    {
        var nameBytes = Encoding.UTF8.GetBytes(name);
        var data = new byte[4 + nameBytes.Length + 2 + 2 * requests.Length];
        BinaryPrimitives.WriteUInt32BigEndian(data, (uint)nameBytes.Length);
        nameBytes.CopyTo(data, 4);
        BinaryPrimitives.WriteUInt16BigEndian(data.AsSpan(4 + nameBytes.Length), (ushort)requests.Length);
        for (int i = 0; i < requests.Length; i++)
            BinaryPrimitives.WriteUInt16BigEndian(data.AsSpan(6 + nameBytes.Length + 2 * i), requests[i]);
        SendOption(option, data);
        return ReadInfoReplies(option);
    }

    public InfoResult ReadInfoReplies(uint option)
    {
        var infos = new List<OptionReply>();
        while (true)
        {
            var reply = ReadOptionReply();
            Assert.That(reply.Option, Is.EqualTo(option), "a reply names the option it answers");
            if (reply.Type != RepInfo)
                return new InfoResult(infos, reply);
            infos.Add(reply);
        }
    }

    /// <summary>NBD_OPT_EXPORT_NAME: returns the size and transmission flags, checking the zero padding.</summary>
    public (ulong Size, ushort Flags) ExportName(string name, bool expectZeroes)
    {
        SendOption(OptExportName, Encoding.UTF8.GetBytes(name));
        var reply = new byte[10 + (expectZeroes ? 124 : 0)];
        ReceiveExactly(reply);
        Assert.That(reply.AsSpan(10).IndexOfAnyExcept((byte)0), Is.EqualTo(-1), "the padding is zeroes");
        return (BinaryPrimitives.ReadUInt64BigEndian(reply), BinaryPrimitives.ReadUInt16BigEndian(reply.AsSpan(8)));
    }

    /// <summary>NBD_OPT_LIST: the names of the NBD_REP_SERVER replies, then the ACK.</summary>
    public List<(string Name, string Details)> List()
    {
        SendOption(OptList, []);
        var exports = new List<(string, string)>();
        while (true)
        {
            var reply = ReadOptionReply();
            if (reply.Type == RepAck)
                return exports;
            Assert.That(reply.Type, Is.EqualTo(RepServer), "NBD_OPT_LIST answers NBD_REP_SERVER or ACK");
            int length = (int)BinaryPrimitives.ReadUInt32BigEndian(reply.Data);
            exports.Add((Encoding.UTF8.GetString(reply.Data, 4, length), Encoding.UTF8.GetString(reply.Data, 4 + length, reply.Data.Length - 4 - length)));
        }
    }

    // ------------------------------------------------------------------ transmission

    public ulong SendRequest(ushort type, ushort flags, ulong offset, uint length, ReadOnlySpan<byte> payload = default, uint magic = RequestMagic)
    {
        ulong handle = _nextHandle++;
        var header = new byte[28];
        WriteRequestHeader(header, type, flags, handle, offset, length, magic);
        Send(header);
        Send(payload);
        return handle;
    }

    /// <summary>Encodes a 28-byte request header into <paramref name="header"/>.</summary>
    public static void WriteRequestHeader(Span<byte> header, ushort type, ushort flags, ulong handle, ulong offset, uint length, uint magic = RequestMagic)
    {
        BinaryPrimitives.WriteUInt32BigEndian(header, magic);
        BinaryPrimitives.WriteUInt16BigEndian(header[4..], flags);
        BinaryPrimitives.WriteUInt16BigEndian(header[6..], type);
        BinaryPrimitives.WriteUInt64BigEndian(header[8..], handle);
        BinaryPrimitives.WriteUInt64BigEndian(header[16..], offset);
        BinaryPrimitives.WriteUInt32BigEndian(header[24..], length);
    }

    /// <summary>Reads a simple reply header and checks its magic and handle; returns the error.</summary>
    public uint ReadSimpleReply(ulong handle)
    {
        Span<byte> reply = stackalloc byte[16];
        ReceiveExactly(reply);
        Assert.That(BinaryPrimitives.ReadUInt32BigEndian(reply), Is.EqualTo(SimpleReplyMagic), "simple reply magic");
        Assert.That(BinaryPrimitives.ReadUInt64BigEndian(reply[8..]), Is.EqualTo(handle), "the reply carries the request's handle");
        return BinaryPrimitives.ReadUInt32BigEndian(reply[4..]);
    }

    public uint Write(long offset, ReadOnlySpan<byte> data, ushort flags = 0) =>
        ReadSimpleReply(SendRequest(CmdWrite, flags, (ulong)offset, (uint)data.Length, data));

    /// <summary>NBD_CMD_READ: the error, and the data when there was none.</summary>
    public (uint Error, byte[] Data) Read(long offset, int length, ushort flags = 0)
    {
        uint error = ReadSimpleReply(SendRequest(CmdRead, flags, (ulong)offset, (uint)length));
        if (error != 0)
            return (error, []);
        var data = new byte[length];
        ReceiveExactly(data);
        return (0, data);
    }

    /// <summary>A read that must succeed.</summary>
    public byte[] ReadOk(long offset, int length)
    {
        var (error, data) = Read(offset, length);
        Assert.That(error, Is.Zero, $"read [{offset}, +{length})");
        return data;
    }

    public uint Flush(ushort flags = 0) => ReadSimpleReply(SendRequest(CmdFlush, flags, 0, 0));

    public uint Trim(long offset, uint length, ushort flags = 0) => ReadSimpleReply(SendRequest(CmdTrim, flags, (ulong)offset, length));

    public uint WriteZeroes(long offset, uint length, ushort flags = 0) => ReadSimpleReply(SendRequest(CmdWriteZeroes, flags, (ulong)offset, length));

    public uint Command(ushort type, ushort flags, long offset, uint length) => ReadSimpleReply(SendRequest(type, flags, (ulong)offset, length));

    public void Disconnect() => SendRequest(CmdDisc, 0, 0, 0);

    // ------------------------------------------------------------------ raw

    public void SendUInt32(uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, value);
        Send(b);
    }

    public void Send(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
            data = data[_socket.Send(data)..];
    }

    public void ReceiveExactly(Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            int n = _socket.Receive(destination);
            if (n == 0)
                throw new EndOfStreamException($"the server closed the connection with {destination.Length} bytes still expected");
            destination = destination[n..];
        }
    }

    /// <summary>
    /// Whether the server closes the connection (end of stream or reset) within the timeout,
    /// discarding anything it still sends first.
    /// </summary>
    public bool ServerCloses()
    {
        var sink = new byte[4096];
        try
        {
            while (true)
            {
                if (_socket.Receive(sink) == 0)
                    return true;
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut || e.SocketErrorCode == SocketError.WouldBlock)
        {
            return false;
        }
        catch (SocketException)
        {
            // Reset: closed as well.
            return true;
        }
    }

    /// <summary>Shuts down this side's sending direction (a half-close): the server sees the end of its input.</summary>
    public void ShutdownSend() => _socket.Shutdown(SocketShutdown.Send);

    /// <summary>Closes this side without NBD_CMD_DISC (a hard disconnect).</summary>
    public void Dispose() => _socket.Dispose();
}
