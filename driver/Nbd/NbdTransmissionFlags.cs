namespace DaxStack.Driver.Nbd;

/// <summary>The 16 transmission flags sent with an export's size: what the export is and which commands it accepts.</summary>
/// <remarks>Models the NBD protocol's <c>NBD_FLAG_*</c> transmission flags.</remarks>
[Flags]
public enum NbdTransmissionFlags : ushort
{
    /// <summary>No flag (never sent: <see cref="HasFlags"/> is always set).</summary>
    None = 0,

    /// <summary><c>NBD_FLAG_HAS_FLAGS</c>: always 1.</summary>
    HasFlags = 1 << 0,

    /// <summary><c>NBD_FLAG_READ_ONLY</c>: writes, trims and write-zeroes fail with EPERM.</summary>
    ReadOnly = 1 << 1,

    /// <summary><c>NBD_FLAG_SEND_FLUSH</c>: <c>NBD_CMD_FLUSH</c> is supported.</summary>
    SendFlush = 1 << 2,

    /// <summary><c>NBD_FLAG_SEND_FUA</c>: <c>NBD_CMD_FLAG_FUA</c> is supported.</summary>
    SendFua = 1 << 3,

    /// <summary><c>NBD_FLAG_ROTATIONAL</c>: the export behaves like a spinning disk (never set for pmem).</summary>
    Rotational = 1 << 4,

    /// <summary><c>NBD_FLAG_SEND_TRIM</c>: <c>NBD_CMD_TRIM</c> is supported.</summary>
    SendTrim = 1 << 5,

    /// <summary><c>NBD_FLAG_SEND_WRITE_ZEROES</c>: <c>NBD_CMD_WRITE_ZEROES</c> and <c>NBD_CMD_FLAG_NO_HOLE</c> are supported.</summary>
    SendWriteZeroes = 1 << 6,

    /// <summary><c>NBD_FLAG_SEND_DF</c>: structured reads honour don't-fragment (never set: no structured replies).</summary>
    SendDf = 1 << 7,

    /// <summary><c>NBD_FLAG_CAN_MULTI_CONN</c>: a flush or FUA on one connection covers writes completed on every connection.</summary>
    CanMultiConn = 1 << 8,
}
