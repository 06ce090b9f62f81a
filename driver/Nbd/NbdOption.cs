namespace DaxStack.Driver.Nbd;

/// <summary>The options a client may send during fixed newstyle negotiation.</summary>
/// <remarks>Models the NBD protocol's <c>NBD_OPT_*</c> option types.</remarks>
public enum NbdOption : uint
{
    /// <summary><c>NBD_OPT_EXPORT_NAME</c>: choose an export and enter transmission; cannot be answered with an error.</summary>
    ExportName = 1,

    /// <summary><c>NBD_OPT_ABORT</c>: the client ends the session (soft disconnect); answered with an ACK.</summary>
    Abort = 2,

    /// <summary><c>NBD_OPT_LIST</c>: one <c>NBD_REP_SERVER</c> per export, then an ACK.</summary>
    List = 3,

    /// <summary><c>NBD_OPT_PEEK_EXPORT</c>: withdrawn; unsupported.</summary>
    PeekExport = 4,

    /// <summary><c>NBD_OPT_STARTTLS</c>: upgrade to TLS; this server runs in NOTLS mode and answers ERR_UNSUP.</summary>
    StartTls = 5,

    /// <summary><c>NBD_OPT_INFO</c>: describe an export without entering transmission.</summary>
    Info = 6,

    /// <summary><c>NBD_OPT_GO</c>: describe an export and enter transmission.</summary>
    Go = 7,

    /// <summary><c>NBD_OPT_STRUCTURED_REPLY</c>: use structured replies; unsupported here, so clients keep simple replies.</summary>
    StructuredReply = 8,

    /// <summary><c>NBD_OPT_LIST_META_CONTEXT</c>: needs structured replies; unsupported.</summary>
    ListMetaContext = 9,

    /// <summary><c>NBD_OPT_SET_META_CONTEXT</c>: needs structured replies; unsupported.</summary>
    SetMetaContext = 10,

    /// <summary><c>NBD_OPT_EXTENDED_HEADERS</c>: 64-bit request headers; unsupported.</summary>
    ExtendedHeaders = 11,
}
