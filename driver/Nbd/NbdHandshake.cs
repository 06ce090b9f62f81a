using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Text;

namespace DaxStack.Driver.Nbd;

/// <summary>
/// The server side of fixed newstyle negotiation on one connection: the greeting, the client
/// flags, then options until the client picks an export (<c>NBD_OPT_GO</c> or
/// <c>NBD_OPT_EXPORT_NAME</c>), aborts, or breaks the protocol. Options this server does not
/// implement (TLS, structured replies, metadata contexts, extended headers, anything unknown) are
/// answered with <c>NBD_REP_ERR_UNSUP</c> and negotiation goes on; their data is skipped without
/// being held, whatever length the client claims.
/// </summary>
/// <remarks>Models the option haggling of the NBD protocol (nbd-server's <c>negotiate</c>).</remarks>
internal sealed class NbdHandshake(NbdConnection connection)
{
    /// <summary>The most option data held for one INFO or GO option (a 4096-byte name plus a generous list of info requests).</summary>
    internal const int MaxOptionData = 16 << 10;

    private const int OptionHeaderSize = 16;
    private const int ReplyHeaderSize = 20;
    private const int ExportNameZeroPad = 124;

    /// <summary>
    /// The most characters of an unknown export name quoted in the error: with the message around
    /// them they stay within the protocol's 4096-byte limit on strings, even as 3-byte UTF-8.
    /// </summary>
    private const int MaxQuotedName = 1024;

    private readonly PipeReader _reader = connection.Reader;
    private readonly PipeWriter _writer = connection.Writer;
    private readonly NbdServer _server = connection.Server;

    /// <summary>
    /// Negotiates until transmission can start. Returns the chosen export, or null when the
    /// connection must close (the reason is in <see cref="NbdConnection.CloseReason"/>).
    /// </summary>
    public async Task<NbdExport?> NegotiateAsync()
    {
        var greeting = new byte[18];
        BinaryPrimitives.WriteUInt64BigEndian(greeting, NbdMagic.InitPassword);
        BinaryPrimitives.WriteUInt64BigEndian(greeting.AsSpan(8), NbdMagic.IHaveOpt);
        BinaryPrimitives.WriteUInt16BigEndian(greeting.AsSpan(16), (ushort)(NbdHandshakeFlags.FixedNewstyle | NbdHandshakeFlags.NoZeroes));
        if ((await _writer.WriteAsync(greeting)).IsCompleted)
            return Closed("client went away before the greeting");

        var word = new byte[4];
        if (!await NbdPipe.ReadExactlyAsync(_reader, word, stopOnCancel: true))
            return Closed(connection.IsStopRequested ? "server stopping" : "client closed before sending its flags");
        var clientFlags = (NbdClientFlags)BinaryPrimitives.ReadUInt32BigEndian(word);
        // The server MUST drop a client that sets a flag it does not know.
        if ((clientFlags & ~NbdClientFlags.Known) != 0)
            return Violation($"unknown client flags 0x{(uint)clientFlags:x8}");
        bool noZeroes = (clientFlags & NbdClientFlags.NoZeroes) != 0;

        var header = new byte[OptionHeaderSize];
        while (true)
        {
            // The stop's wake-up may have been taken by a read of option data: look at the flag itself.
            if (connection.IsStopRequested)
                return Closed("server stopping");
            if (!await NbdPipe.ReadExactlyAsync(_reader, header, stopOnCancel: true))
                return Closed(connection.IsStopRequested ? "server stopping" : "client closed during option haggling");
            ulong magic = BinaryPrimitives.ReadUInt64BigEndian(header);
            uint option = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(8));
            uint length = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(12));
            if (magic != NbdMagic.IHaveOpt)
                return Violation($"option magic 0x{magic:x16} is not IHAVEOPT");

            if (connection.IsStopRequested && option != (uint)NbdOption.Abort)
            {
                // NBD_OPT_EXPORT_NAME has no option reply (its answer is the export's size): closing is its refusal.
                if (option == (uint)NbdOption.ExportName)
                    return Closed("server stopping");
                if (!await NbdPipe.SkipAsync(_reader, length))
                    return Closed("client closed during option haggling");
                await ErrorAsync(option, NbdOptionReply.ErrShutdown, "the server is shutting down");
                return Closed("server stopping");
            }

            switch ((NbdOption)option)
            {
                case NbdOption.ExportName:
                {
                    // This option cannot be answered with an error: anything wrong ends the session.
                    if (length > NbdExport.MaxStringBytes)
                        return Violation($"NBD_OPT_EXPORT_NAME with a {length}-byte name (at most {NbdExport.MaxStringBytes})");
                    var nameBytes = new byte[length];
                    if (!await NbdPipe.ReadExactlyAsync(_reader, nameBytes, stopOnCancel: false))
                        return Closed("client closed during option haggling");
                    // A stop that came while the name arrived: the only refusal this option has is closing.
                    if (connection.IsStopRequested)
                        return Closed("server stopping");
                    string name = Encoding.UTF8.GetString(nameBytes);
                    var export = _server.FindExport(name);
                    if (export == null)
                        return Closed($"NBD_OPT_EXPORT_NAME asked for unknown export '{name}' (this option cannot be answered with an error)");
                    var reply = new byte[10 + (noZeroes ? 0 : ExportNameZeroPad)];
                    BinaryPrimitives.WriteUInt64BigEndian(reply, (ulong)export.Size);
                    BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(8), (ushort)export.TransmissionFlags);
                    if ((await _writer.WriteAsync(reply)).IsCompleted)
                        return Closed("client went away during option haggling");
                    NbdLog.ExportSelected(connection.Logger, connection.Id, export.Name, NbdOption.ExportName);
                    return export;
                }
                case NbdOption.Abort:
                    // Data on ABORT is not expected but must be ignored rather than refused.
                    if (await NbdPipe.SkipAsync(_reader, length))
                    {
                        Reply(option, NbdOptionReply.Ack, []);
                        await FlushAsync();
                    }
                    return Closed("client aborted the handshake (NBD_OPT_ABORT)");
                case NbdOption.List:
                    if (length != 0)
                    {
                        if (!await NbdPipe.SkipAsync(_reader, length))
                            return Closed("client closed during option haggling");
                        await ErrorAsync(option, NbdOptionReply.ErrInvalid, "NBD_OPT_LIST takes no data");
                        break;
                    }
                    foreach (var e in _server.Exports)
                        Reply(option, NbdOptionReply.Server, ServerReply(e));
                    Reply(option, NbdOptionReply.Ack, []);
                    await FlushAsync();
                    break;
                case NbdOption.Info:
                case NbdOption.Go:
                {
                    if (length > MaxOptionData)
                    {
                        if (!await NbdPipe.SkipAsync(_reader, length))
                            return Closed("client closed during option haggling");
                        await ErrorAsync(option, NbdOptionReply.ErrTooBig, $"option data of {length} bytes is too large (at most {MaxOptionData})");
                        break;
                    }
                    var data = new byte[length];
                    if (!await NbdPipe.ReadExactlyAsync(_reader, data, stopOnCancel: false))
                        return Closed("client closed during option haggling");
                    if (connection.IsStopRequested)
                    {
                        // A stop that came while the option's data arrived: the client is told so,
                        // rather than getting an ACK for a transmission the server will not serve.
                        await ErrorAsync(option, NbdOptionReply.ErrShutdown, "the server is shutting down");
                        return Closed("server stopping");
                    }
                    var export = await InfoAsync(option, data);
                    if (export != null && option == (uint)NbdOption.Go)
                    {
                        NbdLog.ExportSelected(connection.Logger, connection.Id, export.Name, NbdOption.Go);
                        return export;
                    }
                    break;
                }
                default:
                    if (!await NbdPipe.SkipAsync(_reader, length))
                        return Closed("client closed during option haggling");
                    await ErrorAsync(option, NbdOptionReply.ErrUnsupported, (NbdOption)option switch
                    {
                        NbdOption.StartTls => "TLS is not supported by this server",
                        NbdOption.StructuredReply => "structured replies are not supported: simple replies are used",
                        NbdOption.ListMetaContext or NbdOption.SetMetaContext => "metadata contexts are not supported",
                        NbdOption.ExtendedHeaders => "extended headers are not supported",
                        _ => $"option {option} is not supported",
                    });
                    break;
            }
            if (connection.IsClosing)
                return Closed("client went away during option haggling");
        }
    }

    /// <summary>Answers NBD_OPT_INFO or NBD_OPT_GO; returns the export when the answer ended with an ACK.</summary>
    private async Task<NbdExport?> InfoAsync(uint option, byte[] data)
    {
        // Data: 32-bit name length, name, 16-bit request count, 16-bit requests.
        if (data.Length < 6)
        {
            await ErrorAsync(option, NbdOptionReply.ErrInvalid, "option data shorter than 6 bytes");
            return null;
        }
        uint nameLength = BinaryPrimitives.ReadUInt32BigEndian(data);
        if (nameLength > (uint)data.Length - 6)
        {
            await ErrorAsync(option, NbdOptionReply.ErrInvalid, "export name length runs past the option data");
            return null;
        }
        int count = BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(4 + (int)nameLength));
        if (data.Length != 6 + (int)nameLength + 2 * count)
        {
            await ErrorAsync(option, NbdOptionReply.ErrInvalid, $"{count} information requests do not match the option length {data.Length}");
            return null;
        }
        bool wantName = false, wantDescription = false;
        for (int i = 0; i < count; i++)
        {
            // Requests this server does not know are ignored, as the protocol requires.
            switch ((NbdInfoType)BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(6 + (int)nameLength + 2 * i)))
            {
                case NbdInfoType.Name: wantName = true; break;
                case NbdInfoType.Description: wantDescription = true; break;
            }
        }
        if (nameLength > NbdExport.MaxStringBytes)
        {
            // No export has such a name, and an error message quoting it would break the protocol's own limit.
            await ErrorAsync(option, NbdOptionReply.ErrTooBig, $"an export name of {nameLength} bytes is too long (at most {NbdExport.MaxStringBytes})");
            return null;
        }
        string name = Encoding.UTF8.GetString(data, 4, (int)nameLength);
        var export = _server.FindExport(name);
        if (export == null)
        {
            await ErrorAsync(option, NbdOptionReply.ErrUnknown, name.Length == 0 ? "there is no default export"
                : name.Length <= MaxQuotedName ? $"no export named '{Quotable(name)}'" : $"no export named '{Quotable(name[..MaxQuotedName])}...'");
            return null;
        }

        var info = new byte[12];
        BinaryPrimitives.WriteUInt16BigEndian(info, (ushort)NbdInfoType.Export);
        BinaryPrimitives.WriteUInt64BigEndian(info.AsSpan(2), (ulong)export.Size);
        BinaryPrimitives.WriteUInt16BigEndian(info.AsSpan(10), (ushort)export.TransmissionFlags);
        Reply(option, NbdOptionReply.Info, info);
        if (wantName)
            Reply(option, NbdOptionReply.Info, StringInfo(NbdInfoType.Name, export.Name));
        if (wantDescription && export.Description.Length > 0)
            Reply(option, NbdOptionReply.Info, StringInfo(NbdInfoType.Description, export.Description));
        // Block sizes are sent whether asked or not (the protocol allows it): every client learns the
        // device's sector size and the payload limit. The server does not rely on clients obeying the
        // minimum: unaligned requests are served by read-modify-write.
        int minimum = export.Device.Limits.LogicalBlockSize;
        var sizes = new byte[14];
        BinaryPrimitives.WriteUInt16BigEndian(sizes, (ushort)NbdInfoType.BlockSize);
        BinaryPrimitives.WriteUInt32BigEndian(sizes.AsSpan(2), (uint)minimum);
        BinaryPrimitives.WriteUInt32BigEndian(sizes.AsSpan(6), (uint)Math.Max(4096, minimum));
        BinaryPrimitives.WriteUInt32BigEndian(sizes.AsSpan(10), (uint)_server.Options.MaxPayload);
        Reply(option, NbdOptionReply.Info, sizes);
        Reply(option, NbdOptionReply.Ack, []);
        await FlushAsync();
        return connection.IsClosing ? null : export;
    }

    /// <summary>
    /// A client's name as it may appear in an error message: protocol strings must not contain NUL,
    /// so NUL and the other control characters a client may send are shown as U+FFFD.
    /// </summary>
    private static string Quotable(string name) => !name.Any(char.IsControl) ? name
        : string.Create(name.Length, name, static (span, text) =>
        {
            for (int i = 0; i < text.Length; i++)
                span[i] = char.IsControl(text[i]) ? '\uFFFD' : text[i];
        });

    private static byte[] ServerReply(NbdExport export)
    {
        // 32-bit name length, the name, then the description for people.
        int nameBytes = Encoding.UTF8.GetByteCount(export.Name);
        var data = new byte[4 + nameBytes + Encoding.UTF8.GetByteCount(export.Description)];
        BinaryPrimitives.WriteUInt32BigEndian(data, (uint)nameBytes);
        Encoding.UTF8.GetBytes(export.Name, data.AsSpan(4));
        Encoding.UTF8.GetBytes(export.Description, data.AsSpan(4 + nameBytes));
        return data;
    }

    private static byte[] StringInfo(NbdInfoType type, string text)
    {
        var data = new byte[2 + Encoding.UTF8.GetByteCount(text)];
        BinaryPrimitives.WriteUInt16BigEndian(data, (ushort)type);
        Encoding.UTF8.GetBytes(text, data.AsSpan(2));
        return data;
    }

    private void Reply(uint option, NbdOptionReply type, ReadOnlySpan<byte> data)
    {
        var span = _writer.GetSpan(ReplyHeaderSize + data.Length);
        BinaryPrimitives.WriteUInt64BigEndian(span, NbdMagic.OptionReply);
        BinaryPrimitives.WriteUInt32BigEndian(span[8..], option);
        BinaryPrimitives.WriteUInt32BigEndian(span[12..], (uint)type);
        BinaryPrimitives.WriteUInt32BigEndian(span[16..], (uint)data.Length);
        data.CopyTo(span[ReplyHeaderSize..]);
        _writer.Advance(ReplyHeaderSize + data.Length);
    }

    private async Task ErrorAsync(uint option, NbdOptionReply type, string message)
    {
        Reply(option, type, Encoding.UTF8.GetBytes(message));
        await FlushAsync();
    }

    private async Task FlushAsync()
    {
        if ((await _writer.FlushAsync()).IsCompleted)
            connection.MarkClosing();
    }

    private NbdExport? Closed(string reason)
    {
        connection.CloseReason = reason;
        return null;
    }

    private NbdExport? Violation(string violation)
    {
        connection.ReportViolation(violation);
        return null;
    }
}
