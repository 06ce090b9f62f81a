namespace DaxStack.Fs.Xfs.Log;

/// <summary>
/// What <see cref="XlogReader"/> found in the log: the head (where the next record goes), the
/// tail, the last intact record, whether the log is clean, the committed transactions in LSN
/// order, and intact records lying past the head (written after a torn one) that a writer
/// must erase before reusing the space.
/// </summary>
/// <remarks>Models the results of the kernel's <c>xlog_find_tail</c> (head_blk, tail_blk, the clean flag) and the transactions <c>xlog_do_recovery_pass</c> commits.</remarks>
public sealed class XlogRecovery
{
    /// <summary>Cycle of the head.</summary>
    public required uint HeadCycle { get; init; }

    /// <summary>Block of the head: where the next record is written.</summary>
    public required uint HeadBlock { get; init; }

    /// <summary>The tail LSN of the last intact record (the head's LSN for an empty log).</summary>
    public required ulong TailLsn { get; init; }

    /// <summary>Block of the last intact record, -1 when the log holds none.</summary>
    public required int LastRecordBlock { get; init; }

    /// <summary>Intact records from the tail to the head.</summary>
    public required int RecordCount { get; init; }

    /// <summary>The last record is an unmount record: nothing to replay, as after a clean unmount or mkfs.</summary>
    public required bool IsClean { get; init; }

    /// <summary>Transactions whose commit operation lies in an intact record, in commit order.</summary>
    public required IReadOnlyList<XlogCommitted> Transactions { get; init; }

    /// <summary>Intact records at or past the head (first block, blocks), to be zeroed before the head moves over them.</summary>
    public required IReadOnlyList<(uint Block, uint Blocks)> StaleRecords { get; init; }

    /// <summary>The head LSN.</summary>
    public ulong HeadLsn => ((ulong)HeadCycle << 32) | HeadBlock;
}
