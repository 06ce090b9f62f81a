using DaxStack.Device.Errors;
using DaxStack.Fs.Xfs.Buffers;
using DaxStack.Fs.Xfs.Log;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Xfs.Cil;

/// <summary>
/// Delayed logging. <see cref="Commit"/> copies a transaction's logged ranges (the whole buffer
/// for buffers it initialised) into the in-memory committed item list and returns at once: the
/// buffers stay dirty and pinned in the cache and nothing reaches the media. <see cref="Force"/>
/// appends the committed transactions up to a sequence to the log and flushes it; only then may
/// <see cref="WriteHome"/> (a checkpoint) write their buffers home, flush, and move the log
/// tail past them. A buffer also changed by a transaction not yet forced is written as of the
/// forced state (the later changes undone in a copy), so a checkpoint never exposes an unforced
/// change. When the CIL holds more than <see cref="BudgetBytes"/> it forces itself, and when
/// the log is full a force checkpoints and retries. A buffer the transaction freed
/// (invalidated) is logged as a buffer cancel record and is never written home; it keeps
/// pinning the log tail at its oldest logged change until the freeing transaction is forced, so
/// the log never loses the older changes before it holds the cancel. Not thread-safe: callers
/// hold <see cref="XfsMount.Lock"/> (as <see cref="XfsMount"/> and transactions do).
/// </summary>
/// <remarks>Models the kernel's <c>xlog_cil_commit</c> / <c>xlog_cil_push_work</c> (the CIL and its
/// background push threshold <c>XLOG_CIL_SPACE_LIMIT</c>), <c>xfs_log_force_seq</c>, and the AIL
/// push that writes buffers home and moves the log tail (<c>xfsaild</c>, <c>xlog_assign_tail_lsn</c>).</remarks>
public sealed class XfsCilCommitter : ITransactionCommitter
{
    /// <summary>Default CIL budget: 256 KiB of logged bytes before it forces itself.</summary>
    public const long DefaultBudgetBytes = 256 * 1024;

    private readonly XlogWriter _writer;
    private readonly List<XfsCilEntry> _pending = [];
    // Appended (and, up to _forced, durable) entries whose buffers may not be home yet.
    private readonly List<XfsCilEntry> _logged = [];
    // Per dirty buffer, the sequences whose changes are not yet written home.
    private readonly Dictionary<XfsBuffer, List<long>> _pinned = new(ReferenceEqualityComparer.Instance);
    // Pinned buffers a transaction freed: never written home, dropped once the free is forced.
    private readonly HashSet<XfsBuffer> _stale = new(ReferenceEqualityComparer.Instance);
    private long _sequence;
    private long _pendingBytes;
    private XfsTransaction? _committing;
    private XfsBufferCache? _cache;

    /// <summary>A CIL appending to <paramref name="writer"/> (see <see cref="XfsLogReplay.Recover"/>) that forces itself beyond <paramref name="budgetBytes"/>.</summary>
    public XfsCilCommitter(XlogWriter writer, long budgetBytes = DefaultBudgetBytes)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentOutOfRangeException.ThrowIfLessThan(budgetBytes, 1);
        _writer = writer;
        BudgetBytes = budgetBytes;
    }

    /// <summary>Logged bytes the CIL may hold before it forces itself.</summary>
    public long BudgetBytes { get; }

    /// <summary>The sequence of the last committed transaction (0 before the first).</summary>
    public long CommittedSequence => _sequence;

    /// <summary>The last sequence whose log records are durable.</summary>
    public long ForcedSequence { get; private set; }

    /// <summary>Logged bytes held in memory, not yet in the log.</summary>
    public long PendingBytes => _pendingBytes;

    /// <summary>Log forces that wrote something (each one flush of the device).</summary>
    public int Forces { get; private set; }

    /// <summary>The sequence <see cref="Commit"/> gave the last transaction (what fsync forces up to).</summary>
    public long LastCommitSequence { get; private set; }

    /// <summary>Checkpoints that wrote buffers home.</summary>
    public int Checkpoints { get; private set; }

    /// <summary>Bytes of log records written.</summary>
    public long LogBytesWritten => _writer.BytesWritten;

    /// <summary>Checkpoints forced because the log was full.</summary>
    public int LogFullCheckpoints { get; private set; }

    /// <summary>Buffers with changes not yet written home.</summary>
    public int PinnedBuffers => _pinned.Count;

    /// <summary>Puts the transaction's logged ranges into the CIL; forces when the CIL is over budget.</summary>
    public void Commit(XfsTransaction transaction, IReadOnlyList<XfsBufferLogItem> items)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        ArgumentNullException.ThrowIfNull(items);
        _cache ??= transaction.Mount.Buffers;
        if (!ReferenceEquals(_cache, transaction.Mount.Buffers))
            throw new InvalidOperationException("a CIL serves one mount");
        long seq = _sequence + 1;
        var regions = new List<XlogRegion>();
        var buffers = new List<XfsBuffer>();
        var before = new List<byte[]>();
        var cancels = new List<XlogBufferCancel>();
        foreach (var item in items)
        {
            var bp = item.Buffer;
            if (item.IsStale)
            {
                // A freed block is never written home; the cancel record stops replay of its
                // logged history (the block may hold file data by then).
                cancels.Add(new XlogBufferCancel(bp.Daddr, bp.Length));
                if (_pinned.TryGetValue(bp, out var pinnedSeqs))
                {
                    pinnedSeqs.Add(seq);
                    _stale.Add(bp);
                }
                continue;
            }
            if (!item.IsLogged)
                continue;
            var ranges = item.IsInitialised ? [new XfsBufferRange(0, bp.Length)] : item.Ranges;
            foreach (var r in ranges)
            {
                regions.Add(new XlogRegion(bp.Daddr, bp.Length, r.Offset, bp.Data.AsSpan(r.Offset, r.Length).ToArray()));
                buffers.Add(bp);
                before.Add(item.Before.AsSpan(r.Offset, r.Length).ToArray());
            }
            if (!_pinned.TryGetValue(bp, out var seqs))
                _pinned[bp] = seqs = [];
            seqs.Add(seq);
        }
        _sequence = seq;
        LastCommitSequence = seq;
        XfsLogMetrics.Commits.Add(1);
        if (regions.Count == 0 && cancels.Count == 0)
        {
            // Nothing logged (only invalidations): nothing to replay.
            ForcedSequence = _pending.Count == 0 ? Math.Max(ForcedSequence, seq) : ForcedSequence;
            return;
        }
        var entry = new XfsCilEntry(seq, new XlogTransaction((uint)seq, regions, cancels), [.. buffers], [.. before]);
        _pending.Add(entry);
        _pendingBytes += entry.Bytes;
        if (_pendingBytes > BudgetBytes)
        {
            _committing = transaction;
            try
            {
                ForceAll();
            }
            finally
            {
                _committing = null;
            }
        }
    }

    /// <summary>Forces every committed transaction to the log.</summary>
    public void ForceAll() => Force(_sequence);

    /// <summary>
    /// Appends every committed transaction up to <paramref name="upToSequence"/> to the log and
    /// flushes it: durable on return. Throws <see cref="XfsException"/> (EIO) when the log
    /// cannot be written and ENOSPC when a transaction is larger than the whole log.
    /// </summary>
    public void Force(long upToSequence)
    {
        if (upToSequence <= ForcedSequence)
            return;
        int n = _pending.FindLastIndex(e => e.Sequence <= upToSequence) + 1;
        for (int i = 0; i < n; i++)
        {
            var e = _pending[i];
            var status = _writer.Append(e.Transaction, out ulong start);
            if (status == XlogStatus.LogFull)
            {
                // Make room: what is appended so far becomes durable and goes home, then the tail moves.
                Flush(i == 0 ? ForcedSequence : _pending[i - 1].Sequence);
                WriteHome();
                LogFullCheckpoints++;
                status = _writer.Append(e.Transaction, out start);
                if (status == XlogStatus.LogFull)
                    throw new XfsException(Errno.ENOSPC, $"transaction {e.Sequence} ({e.Bytes} logged bytes) does not fit in the log");
            }
            if (status != XlogStatus.Ok)
                throw new XfsException(status.ToErrno(), $"log write of transaction {e.Sequence} failed: {status}");
            e.StartLsn = start;
            _logged.Add(e);
        }
        long last = n > 0 ? _pending[n - 1].Sequence : ForcedSequence;
        _pending.RemoveRange(0, n);
        _pendingBytes = _pending.Sum(e => e.Bytes);
        // Sequences that logged nothing between the last entry and the target are forced too.
        Flush(_pending.Count == 0 ? Math.Max(upToSequence, last) : Math.Max(last, Math.Min(upToSequence, _pending[0].Sequence - 1)));
    }

    private void Flush(long durableSequence)
    {
        var status = _writer.Force();
        if (status != XlogStatus.Ok)
            throw new XfsException(status.ToErrno(), $"log force failed: {status}");
        if (durableSequence > ForcedSequence)
        {
            ForcedSequence = durableSequence;
            Forces++;
            XfsLogMetrics.Forces.Add(1);
        }
    }

    /// <summary>
    /// A checkpoint: writes home every pinned buffer as of the forced state (buffers held by a
    /// running transaction other than the committing one are skipped), flushes the device, then
    /// moves the log tail to the oldest transaction still needed.
    /// </summary>
    public void WriteHome()
    {
        if (_cache == null)
            return;
        bool wrote = false;
        foreach (var (bp, seqs) in _pinned.OrderBy(p => p.Key.Daddr).ToList())
        {
            if (bp.Holder != null && !ReferenceEquals(bp.Holder, _committing))
                continue;
            if (seqs[0] > ForcedSequence)
                continue;
            if (_stale.Contains(bp))
            {
                // Freed: nothing to write. Once the free is durable, the buffer stops pinning the tail.
                if (seqs[^1] <= ForcedSequence)
                {
                    _pinned.Remove(bp);
                    _stale.Remove(bp);
                }
                continue;
            }
            if (seqs[^1] <= ForcedSequence)
            {
                _cache.Write(bp);
                _pinned.Remove(bp);
            }
            else
            {
                WriteForcedImage(bp);
                seqs.RemoveAll(s => s <= ForcedSequence);
            }
            wrote = true;
        }
        if (wrote)
        {
            _cache.FlushDevice();
            Checkpoints++;
            XfsLogMetrics.Checkpoints.Add(1);
        }
        long oldest = _pinned.Count == 0 ? long.MaxValue : _pinned.Values.Min(s => s[0]);
        _logged.RemoveAll(e => e.Sequence < oldest);
        // The tail moves to the oldest logged transaction still needed, or to the head.
        ulong tail = _logged.Count > 0 ? _logged[0].StartLsn!.Value : _writer.HeadLsn;
        if (tail != _writer.TailLsn)
            _writer.MoveTail(tail);
    }

    /// <summary>
    /// Unmount: forces every committed transaction, writes every buffer home and writes an
    /// unmount record, so the log is clean and mount replays nothing. Throws
    /// <see cref="InvalidOperationException"/> while a transaction still holds a logged buffer.
    /// </summary>
    public void Unmount()
    {
        ForceAll();
        WriteHome();
        if (_pinned.Count > 0)
            throw new InvalidOperationException($"{_pinned.Count} logged buffers are held by a running transaction");
        var status = _writer.WriteUnmountRecord();
        if (status != XlogStatus.Ok)
            throw new XfsException(status.ToErrno(), $"cannot write the unmount record: {status}");
    }

    // Writes the buffer with the changes of unforced transactions undone (newest first), through
    // a scratch buffer so the cached one keeps its current bytes and stays dirty.
    private void WriteForcedImage(XfsBuffer bp)
    {
        var image = (byte[])bp.Data.Clone();
        for (int i = _pending.Count - 1; i >= 0; i--)
        {
            var e = _pending[i];
            if (e.Sequence <= ForcedSequence)
                break;
            for (int r = e.Buffers.Length - 1; r >= 0; r--)
            {
                if (ReferenceEquals(e.Buffers[r], bp))
                    e.Before[r].CopyTo(image, e.Transaction.Regions[r].Offset);
            }
        }
        var scratch = new XfsBufferCache(_cache!.Device, _cache.Geometry, _cache.MetadataUuid);
        var copy = scratch.Get(bp.Daddr, bp.Length, bp.Ops, out _);
        image.CopyTo(copy.Data, 0);
        scratch.Write(copy);
    }
}
