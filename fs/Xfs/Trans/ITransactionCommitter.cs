namespace DaxStack.Fs.Xfs.Trans;

/// <summary>
/// Where a committed transaction's changes go. <see cref="XfsTransaction.Commit"/> has already
/// applied every change to the cached buffers (and the superblock counters to the superblock
/// buffer); the committer makes them durable. It receives every buffer the transaction joined
/// with the byte ranges it logged, and the buffers it invalidated (freed blocks, which it must
/// not write: the transaction drops them from the cache afterwards). It leaves every logged
/// buffer either written (clean) or still dirty in the cache for a later write-back.
/// </summary>
/// <remarks>
/// This is the seam between transactions and the journal. <see cref="XfsWriteHomeCommitter"/>
/// writes the buffers to their home locations and flushes (no atomicity across a crash). The
/// journal replaces it with delayed logging: the logged ranges become log vectors in the CIL,
/// the buffers stay dirty and pinned until a checkpoint is written to the log, and the AIL
/// writes them home afterwards. Models the kernel's <c>xfs_trans_commit</c> -> <c>xlog_cil_commit</c> step.
/// </remarks>
public interface ITransactionCommitter
{
    /// <summary>Makes <paramref name="items"/> (the transaction's joined buffers, in join order) durable.</summary>
    void Commit(XfsTransaction transaction, IReadOnlyList<XfsBufferLogItem> items);
}
