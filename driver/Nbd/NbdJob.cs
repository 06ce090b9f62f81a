using DaxStack.Device.Errors;

namespace DaxStack.Driver.Nbd;

/// <summary>
/// One request on its way through a connection's <see cref="NbdRequestQueue"/>: parsed (and, for a
/// write, applied) by the connection's thread, then executed if need be and answered by the
/// connection's worker. A connection has a fixed set of them, reused round-robin, so nothing is
/// allocated per request.
/// </summary>
/// <remarks>Models a request tag of the block layer (<c>struct request</c> of blk-mq) as an NBD server keeps one per request in flight.</remarks>
internal sealed class NbdJob
{
    /// <summary>The request header.</summary>
    public NbdRequest Request { get; set; }

    /// <summary>Whether the worker performs the request (false: only its reply is sent, with <see cref="Error"/>).</summary>
    public bool Execute { get; set; }

    /// <summary>For a write the worker applies: which of the connection's payload buffers holds its payload; -1 otherwise.</summary>
    public int Payload { get; set; } = -1;

    /// <summary>The reply's error: set by the connection's thread when it refused or applied the request, by the worker when it executes it.</summary>
    public Errno Error { get; set; }
}
