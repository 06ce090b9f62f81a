namespace DaxStack.Driver.Nbd;

/// <summary>The 16 command flags of a transmission request.</summary>
/// <remarks>Models the NBD protocol's <c>NBD_CMD_FLAG_*</c> flags.</remarks>
[Flags]
public enum NbdCommandFlags : ushort
{
    /// <summary>No flag.</summary>
    None = 0,

    /// <summary><c>NBD_CMD_FLAG_FUA</c>: the command's data is durable before the reply (valid on every command).</summary>
    Fua = 1 << 0,

    /// <summary><c>NBD_CMD_FLAG_NO_HOLE</c>: write-zeroes must leave the range allocated (always true on pmem).</summary>
    NoHole = 1 << 1,

    /// <summary><c>NBD_CMD_FLAG_DF</c>: don't fragment a structured read (not negotiable here).</summary>
    DontFragment = 1 << 2,

    /// <summary><c>NBD_CMD_FLAG_REQ_ONE</c>: one extent per block-status context (not negotiable here).</summary>
    RequestOne = 1 << 3,

    /// <summary><c>NBD_CMD_FLAG_FAST_ZERO</c>: fail write-zeroes unless fast (not advertised here).</summary>
    FastZero = 1 << 4,

    /// <summary><c>NBD_CMD_FLAG_PAYLOAD_LEN</c>: extended-header payload length (not negotiable here).</summary>
    PayloadLength = 1 << 5,
}
