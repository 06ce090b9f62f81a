namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>
/// The header of one log operation inside a log record: transaction id, length of the payload
/// that follows, which subsystem wrote it and its flags (start, commit, continue, unmount...).
/// </summary>
/// <remarks>Models the kernel's <c>struct xlog_op_header</c> with the <c>XFS_TRANSACTION</c> / <c>XFS_LOG</c> client ids and <c>XLOG_*_TRANS</c> flags (xfs_log_format.h).</remarks>
/// <param name="Tid">oh_tid: transaction id.</param>
/// <param name="Len">oh_len: payload bytes after this header.</param>
/// <param name="ClientId">oh_clientid.</param>
/// <param name="Flags">oh_flags.</param>
public readonly record struct XlogOpHeader(uint Tid, uint Len, byte ClientId, byte Flags)
{
    /// <summary>Bytes on disk.</summary>
    public const int Size = 12;

    /// <summary>XFS_TRANSACTION: a transaction's log items.</summary>
    public const byte ClientTransaction = 0x69;

    /// <summary>XFS_LOG: written by the log itself (unmount records).</summary>
    public const byte ClientLog = 0xaa;

    /// <summary>XLOG_START_TRANS.</summary>
    public const byte StartTrans = 0x01;
    /// <summary>XLOG_COMMIT_TRANS.</summary>
    public const byte CommitTrans = 0x02;
    /// <summary>XLOG_CONTINUE_TRANS.</summary>
    public const byte ContinueTrans = 0x04;
    /// <summary>XLOG_WAS_CONT_TRANS.</summary>
    public const byte WasContTrans = 0x08;
    /// <summary>XLOG_END_TRANS.</summary>
    public const byte EndTrans = 0x10;
    /// <summary>XLOG_UNMOUNT_TRANS: the log was cleanly unmounted.</summary>
    public const byte UnmountTrans = 0x20;

    public static XlogOpHeader ReadFrom(ReadOnlySpan<byte> source) =>
        new(Be.U32(source, 0), Be.U32(source, 4), source[8], source[9]);

    public void WriteTo(Span<byte> destination)
    {
        Be.Put32(destination, 0, Tid);
        Be.Put32(destination, 4, Len);
        destination[8] = ClientId;
        destination[9] = Flags;
        Be.Put16(destination, 10, 0);
    }
}
