namespace DaxStack.Fs.Xfs.Trans;

/// <summary>
/// The committer used until the journal exists: skips the buffers the transaction invalidated,
/// writes every buffer it logged to its home location through the block device (each one CRC
/// stamped and checked by its write verifier), then flushes the device once. Durable when
/// <see cref="Commit"/> returns, but not atomic: a crash part way can leave some buffers new and
/// some old, which is what the journal will fix.
/// </summary>
/// <remarks>Models synchronous metadata write-back (<c>xfs_bwrite</c> of each buffer plus a cache flush), standing in for <c>xlog_cil_commit</c>.</remarks>
public sealed class XfsWriteHomeCommitter : ITransactionCommitter
{
    public static readonly XfsWriteHomeCommitter Instance = new();

    public void Commit(XfsTransaction transaction, IReadOnlyList<XfsBufferLogItem> items)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        ArgumentNullException.ThrowIfNull(items);
        var cache = transaction.Mount.Buffers;
        bool wrote = false;
        foreach (var item in items.OrderBy(i => i.Buffer.Daddr))
        {
            if (item.IsStale || !item.Buffer.IsDirty)
                continue;
            cache.Write(item.Buffer);
            wrote = true;
        }
        if (wrote)
            cache.FlushDevice();
    }
}
