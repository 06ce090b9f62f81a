namespace DaxStack.Driver.Nbd;

/// <summary>The 16 handshake flags the server sends after <c>IHAVEOPT</c>.</summary>
/// <remarks>Models the NBD protocol's <c>NBD_FLAG_FIXED_NEWSTYLE</c> and <c>NBD_FLAG_NO_ZEROES</c>.</remarks>
[Flags]
public enum NbdHandshakeFlags : ushort
{
    /// <summary>No flag.</summary>
    None = 0,

    /// <summary><c>NBD_FLAG_FIXED_NEWSTYLE</c>: the server speaks fixed newstyle negotiation (option replies, unknown options errored).</summary>
    FixedNewstyle = 1 << 0,

    /// <summary><c>NBD_FLAG_NO_ZEROES</c>: the server can omit the 124 zero bytes after <c>NBD_OPT_EXPORT_NAME</c>.</summary>
    NoZeroes = 1 << 1,
}
