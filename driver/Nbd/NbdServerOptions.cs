using System.Globalization;
using System.Net;

namespace DaxStack.Driver.Nbd;

/// <summary>
/// NBD server settings, bound from the "Nbd" configuration section
/// (<c>DAXSTACK_Nbd__Listen</c>, <c>--Nbd:Listen=127.0.0.1:10809</c>) and checked by
/// <see cref="Validate"/> before the server starts.
/// </summary>
/// <remarks>Models the <c>[generic]</c> section of nbd-server's configuration (listenaddr, port, max connections).</remarks>
public sealed class NbdServerOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Nbd";

    /// <summary>The IANA port of NBD.</summary>
    public const int DefaultPort = 10809;

    /// <summary>The default <see cref="Listen"/>: loopback only, the IANA port.</summary>
    public const string DefaultListen = "127.0.0.1:10809";

    /// <summary>The largest <see cref="StopTimeout"/>: 10 minutes.</summary>
    public static readonly TimeSpan MaxStopTimeout = TimeSpan.FromMinutes(10);

    /// <summary>The largest <see cref="HandshakeTimeout"/>: 1 hour.</summary>
    public static readonly TimeSpan MaxHandshakeTimeout = TimeSpan.FromHours(1);

    /// <summary>The default <see cref="MaxPayload"/>: 32 MiB, the largest request every client is expected to send.</summary>
    public const int DefaultMaxPayload = 32 << 20;

    /// <summary>
    /// The address and TCP port to listen on, as <c>HOST:PORT</c>: an IPv4 address, a bracketed
    /// IPv6 address (<c>[::1]:10809</c>) or <c>localhost</c>; port 0 picks a free port
    /// (<see cref="NbdServer.LocalEndPoint"/> tells which). Default <c>127.0.0.1:10809</c>.
    /// </summary>
    public string Listen { get; set; } = DefaultListen;

    /// <summary>
    /// Connections served at once; a connection beyond it is closed as soon as it is accepted.
    /// Each connection has a thread of its own (256 KiB of stack) and, once in transmission, a
    /// worker thread and a pooled reply buffer of about 1 MiB. Default 64, range 1-4096.
    /// </summary>
    public int MaxConnections { get; set; } = 64;

    /// <summary>
    /// The largest read or write, in bytes: advertised as the maximum block size, a larger read
    /// fails with EINVAL and a larger write ends the connection (its payload cannot be skipped
    /// safely). Default 32 MiB; 1 MiB to 1 GiB, a multiple of 4096.
    /// </summary>
    public int MaxPayload { get; set; } = DefaultMaxPayload;

    /// <summary>
    /// How long <see cref="NbdServer.StopAsync"/> waits for connections to finish the request they
    /// are serving before it drops them. Default 5 seconds, range 0 to 10 minutes.
    /// </summary>
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a client may take from its connection to the end of the handshake (the option
    /// that picks an export); past it the connection is closed, so that clients which connect and
    /// send nothing cannot hold every one of <see cref="MaxConnections"/>. As qemu-nbd's
    /// <c>--handshake-limit</c>: default 10 seconds, 0 for no limit, at most 1 hour.
    /// </summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The largest <see cref="BusyPollMicroseconds"/>: 1 ms.</summary>
    public const int MaxBusyPollMicroseconds = 1000;

    /// <summary>
    /// How long a connection's thread that has run out of requests keeps checking its socket
    /// before it sleeps in <c>poll(2)</c>, in microseconds; 0 to sleep at once. As Linux's
    /// <c>net.core.busy_read</c> and <c>SO_BUSY_POLL</c>, it trades server CPU for latency: a
    /// request that arrives within the window finds the server awake, so the client does not pay
    /// for waking it (on loopback the wake-up runs in the client's <c>send</c>). At most one
    /// connection of the server busy-polls at a time, and a connection whose busy poll ran out
    /// sleeps at once in its next 8 waits, so an idle or slow client
    /// costs almost nothing. Default 50, range 0-1000.
    /// </summary>
    public int BusyPollMicroseconds { get; set; } = 50;

    /// <summary>The largest <see cref="ReplyHoldMicroseconds"/>: 1 ms.</summary>
    public const int MaxReplyHoldMicroseconds = 1000;

    /// <summary>
    /// How long a connection that has answered writes (or flushes, trims, write-zeroes) may hold
    /// their replies back while it busy-polls for the client's next request, in microseconds; 0 to
    /// send them as soon as no further request is waiting. Replies to a client that keeps requests
    /// in flight then leave several to a <c>send</c>, which saves both sides a TCP segment, a
    /// receive and often a wake-up per request (as a NIC's interrupt moderation does). It only acts
    /// within a busy poll (so never longer than <see cref="BusyPollMicroseconds"/>, and not at
    /// all when that is 0), and adapts to the client: a hold in which the client sent nothing
    /// (it was waiting for those replies) halves how many replies the connection holds next time,
    /// and a client that waits for each reply is held back only once in 8 to 1024 waits, each
    /// time twice as rarely. Default 20, range 0-1000.
    /// </summary>
    public int ReplyHoldMicroseconds { get; set; } = 20;

    /// <summary>What is wrong with these options, one message per problem; empty when they are valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!TryParseEndpoint(Listen, out _))
            errors.Add($"{SectionName}:Listen '{Listen}' is not HOST:PORT (an IPv4 address, [IPv6 address] or localhost, and a port 0-65535)");
        if (MaxConnections is < 1 or > 4096)
            errors.Add($"{SectionName}:MaxConnections must be 1-4096 (got {MaxConnections})");
        if (MaxPayload is < 1 << 20 or > 1 << 30 || MaxPayload % 4096 != 0)
            errors.Add($"{SectionName}:MaxPayload must be a multiple of 4096 from 1 MiB to 1 GiB (got {MaxPayload})");
        if (StopTimeout < TimeSpan.Zero || StopTimeout > MaxStopTimeout)
            errors.Add($"{SectionName}:StopTimeout must be 0 to 10 minutes (got {StopTimeout})");
        if (HandshakeTimeout < TimeSpan.Zero || HandshakeTimeout > MaxHandshakeTimeout)
            errors.Add($"{SectionName}:HandshakeTimeout must be 0 (no limit) to 1 hour (got {HandshakeTimeout})");
        if (BusyPollMicroseconds is < 0 or > MaxBusyPollMicroseconds)
            errors.Add($"{SectionName}:BusyPollMicroseconds must be 0 (no busy poll) to {MaxBusyPollMicroseconds} (got {BusyPollMicroseconds})");
        if (ReplyHoldMicroseconds is < 0 or > MaxReplyHoldMicroseconds)
            errors.Add($"{SectionName}:ReplyHoldMicroseconds must be 0 (replies are not held) to {MaxReplyHoldMicroseconds} (got {ReplyHoldMicroseconds})");
        return errors;
    }

    /// <summary>
    /// Parses <c>HOST:PORT</c>: an IPv4 address, a bracketed IPv6 address (an IPv4-mapped one
    /// stands for its IPv4 address) or <c>localhost</c> (the IPv4 loopback), a colon, and a port 0-65535. Host names other than localhost are not
    /// resolved: a server binds addresses.
    /// </summary>
    public static bool TryParseEndpoint(string? text, out IPEndPoint? endpoint)
    {
        endpoint = null;
        if (string.IsNullOrWhiteSpace(text))
            return false;
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1)
            return false;
        string host = text[..colon];
        string port = text[(colon + 1)..];
        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out int portNumber) || portNumber > IPEndPoint.MaxPort)
            return false;
        IPAddress? address;
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            if (!IPAddress.TryParse(host[1..^1], out address) || address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
                return false;
            // An IPv4-mapped address ([::ffff:127.0.0.1]) names the IPv4 address: an IPv6-only
            // socket cannot bind it, an IPv4 one can.
            if (address.IsIPv4MappedToIPv6)
                address = address.MapToIPv4();
        }
        else if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
            address = IPAddress.Loopback;
        else if (host.Contains(':') || !IPAddress.TryParse(host, out address)
                 || address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork || host.Count(c => c == '.') != 3)
            // An IPv6 address must be bracketed to carry a port, and IPAddress.TryParse would accept "1" as 0.0.0.1.
            return false;
        endpoint = new IPEndPoint(address, portNumber);
        return true;
    }
}
