namespace DaxStack.Driver.Nbd;

/// <summary>The request types of the transmission phase.</summary>
/// <remarks>Models the NBD protocol's <c>NBD_CMD_*</c> request types.</remarks>
public enum NbdCommand : ushort
{
    /// <summary><c>NBD_CMD_READ</c>: the reply carries <c>length</c> bytes.</summary>
    Read = 0,

    /// <summary><c>NBD_CMD_WRITE</c>: the request carries <c>length</c> bytes.</summary>
    Write = 1,

    /// <summary><c>NBD_CMD_DISC</c>: soft disconnect; no reply.</summary>
    Disconnect = 2,

    /// <summary><c>NBD_CMD_FLUSH</c>: every write already replied to becomes durable before the reply.</summary>
    Flush = 3,

    /// <summary><c>NBD_CMD_TRIM</c>: the range is no longer needed (discard).</summary>
    Trim = 4,

    /// <summary><c>NBD_CMD_CACHE</c>: a prefetch hint; accepted and ignored (pmem has no slower tier).</summary>
    Cache = 5,

    /// <summary><c>NBD_CMD_WRITE_ZEROES</c>: write zeroes without a payload.</summary>
    WriteZeroes = 6,

    /// <summary><c>NBD_CMD_BLOCK_STATUS</c>: needs metadata contexts; refused with EINVAL.</summary>
    BlockStatus = 7,
}
