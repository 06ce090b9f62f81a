using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace DaxStack.Driver.Diagnostics;

/// <summary>
/// The driver layer's meter (<c>DaxStack.Driver</c>: bios by operation, bytes, errors, poison
/// cleared, direct_access calls, NBD connections) and activity source (spans named after the
/// kernel functions: <c>pmem_submit_bio</c>, <c>pmem_dax_direct_access</c>). Instruments cost a
/// branch when nobody listens.
/// </summary>
public static class DriverDiagnostics
{
    /// <summary>The meter and activity source name.</summary>
    public const string Name = "DaxStack.Driver";

    /// <summary>The driver's meter.</summary>
    public static Meter Meter { get; } = new(Name);

    /// <summary>The driver's activity source.</summary>
    public static ActivitySource ActivitySource { get; } = new(Name);

    /// <summary>Bios completed, tagged with op and status.</summary>
    public static Counter<long> Bios { get; } = Meter.CreateCounter<long>("daxstack.driver.bios", "{bio}", "block requests completed, by op and status");

    /// <summary>Bytes read by bios.</summary>
    public static Counter<long> BytesRead { get; } = Meter.CreateCounter<long>("daxstack.driver.bytes_read", "By", "bytes read by block requests");

    /// <summary>Bytes written (including zeroes) by bios.</summary>
    public static Counter<long> BytesWritten { get; } = Meter.CreateCounter<long>("daxstack.driver.bytes_written", "By", "bytes written by block requests, zeroes included");

    /// <summary>Bytes of poison cleared by writes and recovery writes.</summary>
    public static Counter<long> PoisonCleared { get; } = Meter.CreateCounter<long>("daxstack.driver.poison_cleared", "By", "bytes of poison cleared by writes");

    /// <summary>direct_access calls.</summary>
    public static Counter<long> DirectAccess { get; } = Meter.CreateCounter<long>("daxstack.driver.direct_access", "{call}", "dax direct_access calls");

    /// <summary>NBD connections accepted.</summary>
    public static Counter<long> NbdConnections { get; } = Meter.CreateCounter<long>("daxstack.driver.nbd.connections", "{connection}", "NBD connections accepted");

    /// <summary>NBD requests served, tagged with command and error.</summary>
    public static Counter<long> NbdRequests { get; } = Meter.CreateCounter<long>("daxstack.driver.nbd.requests", "{request}", "NBD requests served, by command");

    /// <summary>NBD busy polls that held write replies back (<see cref="Nbd.NbdServerOptions.ReplyHoldMicroseconds"/>), tagged result=hit (the client's next request came within the hold) or miss (the replies went out at its end).</summary>
    public static Counter<long> NbdReplyHolds { get; } = Meter.CreateCounter<long>("daxstack.driver.nbd.reply_holds", "{hold}", "NBD busy polls that held write replies back, by result: hit (the client's next request came first) or miss (the replies went out at the hold's end)");

    /// <summary>NBD busy polls (<see cref="Nbd.NbdServerOptions.BusyPollMicroseconds"/>), tagged result=hit (a request came within the window) or miss (the connection then slept).</summary>
    public static Counter<long> NbdBusyPolls { get; } = Meter.CreateCounter<long>("daxstack.driver.nbd.busy_polls", "{poll}", "NBD connection busy polls, by result");
}
