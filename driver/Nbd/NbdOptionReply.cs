namespace DaxStack.Driver.Nbd;

/// <summary>The reply types of fixed newstyle option replies; errors have bit 31 set.</summary>
/// <remarks>Models the NBD protocol's <c>NBD_REP_*</c> reply types.</remarks>
public enum NbdOptionReply : uint
{
    /// <summary><c>NBD_REP_ACK</c>: the option succeeded (or a list has ended).</summary>
    Ack = 1,

    /// <summary><c>NBD_REP_SERVER</c>: one export of an <c>NBD_OPT_LIST</c> answer.</summary>
    Server = 2,

    /// <summary><c>NBD_REP_INFO</c>: one information item of an <c>NBD_OPT_INFO</c> or <c>NBD_OPT_GO</c> answer.</summary>
    Info = 3,

    /// <summary><c>NBD_REP_META_CONTEXT</c>: a metadata context (never sent here).</summary>
    MetaContext = 4,

    /// <summary><c>NBD_REP_ERR_UNSUP</c>: the option is not supported by this server.</summary>
    ErrUnsupported = 0x8000_0001,

    /// <summary><c>NBD_REP_ERR_POLICY</c>: the option is refused by policy.</summary>
    ErrPolicy = 0x8000_0002,

    /// <summary><c>NBD_REP_ERR_INVALID</c>: the option's data is malformed.</summary>
    ErrInvalid = 0x8000_0003,

    /// <summary><c>NBD_REP_ERR_PLATFORM</c>: not available on this platform.</summary>
    ErrPlatform = 0x8000_0004,

    /// <summary><c>NBD_REP_ERR_TLS_REQD</c>: TLS is required first (never sent: NOTLS mode).</summary>
    ErrTlsRequired = 0x8000_0005,

    /// <summary><c>NBD_REP_ERR_UNKNOWN</c>: the requested export does not exist.</summary>
    ErrUnknown = 0x8000_0006,

    /// <summary><c>NBD_REP_ERR_SHUTDOWN</c>: the server is shutting down.</summary>
    ErrShutdown = 0x8000_0007,

    /// <summary><c>NBD_REP_ERR_BLOCK_SIZE_REQD</c>: the client must request block sizes first (never sent: any alignment works).</summary>
    ErrBlockSizeRequired = 0x8000_0008,

    /// <summary><c>NBD_REP_ERR_TOO_BIG</c>: the request or its reply is too large.</summary>
    ErrTooBig = 0x8000_0009,
}
