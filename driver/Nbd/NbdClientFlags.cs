namespace DaxStack.Driver.Nbd;

/// <summary>The 32-bit client flags the client answers the handshake flags with.</summary>
/// <remarks>Models the NBD protocol's <c>NBD_FLAG_C_FIXED_NEWSTYLE</c> and <c>NBD_FLAG_C_NO_ZEROES</c>.</remarks>
[Flags]
public enum NbdClientFlags : uint
{
    /// <summary>No flag.</summary>
    None = 0,

    /// <summary><c>NBD_FLAG_C_FIXED_NEWSTYLE</c>: the client speaks fixed newstyle negotiation.</summary>
    FixedNewstyle = 1 << 0,

    /// <summary><c>NBD_FLAG_C_NO_ZEROES</c>: the server must not send the 124 zero bytes after <c>NBD_OPT_EXPORT_NAME</c>.</summary>
    NoZeroes = 1 << 1,

    /// <summary>Every flag this server understands; a client setting any other bit is dropped.</summary>
    Known = FixedNewstyle | NoZeroes,
}
