using DaxStack.Device.Errors;
using DaxStack.Fs.Xfs.Buffers;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Trans;

/// <summary>
/// One atomic metadata change. <see cref="Begin"/> reserves the blocks the change may allocate
/// (ENOSPC up front when the filesystem cannot supply them). Buffers read or created through
/// the transaction join it and stay held until it ends; the caller changes their bytes and logs
/// the ranges it changed (<see cref="LogBuffer"/>), which each buffer's log item keeps.
/// Superblock counter changes (free blocks, inodes, free inodes) accumulate as deltas.
/// <see cref="Commit"/> applies the deltas to the superblock buffer and hands the joined buffers
/// to the mount's <see cref="ITransactionCommitter"/>; <see cref="Cancel"/> (also what
/// <see cref="Dispose"/> does to a transaction that did not commit) puts every joined buffer
/// back exactly as it was, drops buffers the transaction created and discards the deltas, so a
/// failed operation leaves no trace. A commit that fails shuts the filesystem down.
/// A transaction holds <see cref="XfsMount.Lock"/> from <see cref="Begin"/> until it commits or is
/// cancelled, which must happen on the thread that began it. After commit,
/// <see cref="CommitSequence"/> is what <see cref="XfsMount.ForceLog"/> takes to make it durable.
/// </summary>
/// <remarks>Models the kernel's <c>struct xfs_trans</c>: <c>xfs_trans_alloc</c> (block reservation), <c>xfs_trans_read_buf</c>, <c>xfs_trans_get_buf</c>, <c>xfs_trans_log_buf</c>, <c>xfs_trans_binval</c>, <c>xfs_trans_mod_sb</c>, <c>xfs_trans_apply_sb_deltas</c>, <c>xfs_trans_commit</c> and <c>xfs_trans_cancel</c>.</remarks>
public sealed class XfsTransaction : IDisposable
{
    // Offsets of sb_icount, sb_ifree and sb_fdblocks in the superblock sector.
    private const int SbICountOffset = 128;
    private const int SbIFreeOffset = 136;
    private const int SbFdBlocksOffset = 144;

    private readonly List<XfsBufferLogItem> _items = [];
    private readonly Dictionary<XfsBuffer, XfsBufferLogItem> _byBuffer = new(ReferenceEqualityComparer.Instance);
    private long _fdBlocksDelta;
    private long _iCountDelta;
    private long _iFreeDelta;
    private long _allocBtreeDelta;
    private List<Action>? _onCancel;
    private State _state;
    private bool _holdsLock = true;

    private enum State
    {
        Active,
        Committed,
        Cancelled,
    }

    private XfsTransaction(XfsMount mount, uint blocks)
    {
        Mount = mount;
        BlocksReserved = blocks;
    }

    /// <summary>
    /// Starts a transaction on <paramref name="mount"/> that may allocate up to
    /// <paramref name="blocks"/> blocks. Throws <see cref="XfsException"/> with ENOSPC when the
    /// filesystem's available blocks (sb_fdblocks less the set-aside, free-space B+tree blocks
    /// and other live reservations) cannot cover them, and EIO when the filesystem is shut down.
    /// </summary>
    public static XfsTransaction Begin(XfsMount mount, uint blocks = 0)
    {
        ArgumentNullException.ThrowIfNull(mount);
        mount.EnterTransaction();
        if (mount.IsShutdown)
        {
            mount.ExitTransaction();
            throw new XfsException(Errno.EIO, $"filesystem shut down: {mount.ShutdownReason}");
        }
        if (mount.IsReadOnly && blocks > 0)
        {
            mount.ExitTransaction();
            throw new XfsException(Errno.EROFS, $"{mount.Device.Name}: the filesystem is mounted read-only");
        }
        if (!mount.TryReserve(blocks))
        {
            long available = (long)mount.FreeBlocksAvailable;
            mount.ExitTransaction();
            throw new XfsException(Errno.ENOSPC, $"cannot reserve {blocks} blocks: {available} available");
        }
        return new XfsTransaction(mount, blocks);
    }

    /// <summary>The filesystem.</summary>
    public XfsMount Mount { get; }

    /// <summary>t_blk_res: blocks reserved at <see cref="Begin"/>.</summary>
    public uint BlocksReserved { get; }

    /// <summary>t_blk_res_used: reserved blocks allocated so far.</summary>
    public uint BlocksUsed { get; private set; }

    /// <summary>
    /// The journal sequence the commit was given (pass it to <see cref="XfsMount.ForceLog"/> to
    /// make the transaction durable, as fsync does); 0 before commit and when the commit was
    /// durable at once (no journal).
    /// </summary>
    public long CommitSequence { get; private set; }

    /// <summary>Whether the transaction has neither committed nor been cancelled.</summary>
    public bool IsActive => _state == State.Active;

    /// <summary>The buffers joined so far, in join order.</summary>
    public IReadOnlyList<XfsBufferLogItem> Items => _items;

    /// <summary>t_fdblocks_delta: the change to sb_fdblocks applied at commit.</summary>
    public long FreeBlocksDelta => _fdBlocksDelta;

    /// <summary>t_icount_delta: the change to sb_icount applied at commit.</summary>
    public long InodeCountDelta => _iCountDelta;

    /// <summary>t_ifree_delta: the change to sb_ifree applied at commit.</summary>
    public long FreeInodesDelta => _iFreeDelta;

    /// <summary>
    /// The buffer of <paramref name="length"/> bytes at <paramref name="daddr"/>, read and verified
    /// by <paramref name="ops"/> (or found in the cache), joined to this transaction.
    /// </summary>
    public XfsBuffer ReadBuffer(ulong daddr, int length, IXfsBufferOps ops)
    {
        EnsureActive();
        var bp = Mount.Buffers.Read(daddr, length, ops);
        Join(bp, created: false);
        return bp;
    }

    /// <summary>
    /// A zero-filled buffer of <paramref name="length"/> bytes at <paramref name="daddr"/> for a
    /// block about to be initialised, without reading the device, joined to this transaction.
    /// The caller fills and logs it.
    /// </summary>
    public XfsBuffer GetBuffer(ulong daddr, int length, IXfsBufferOps ops)
    {
        EnsureActive();
        var bp = Mount.Buffers.Get(daddr, length, ops, out bool created);
        var item = Join(bp, created);
        item.IsStale = false;
        item.IsInitialised = true;
        bp.IsStale = false;
        Array.Clear(bp.Data);
        return bp;
    }

    /// <summary>Records that bytes <paramref name="offset"/>+<paramref name="length"/> of <paramref name="bp"/> changed.</summary>
    public void LogBuffer(XfsBuffer bp, int offset, int length)
    {
        EnsureActive();
        var item = ItemOf(bp);
        if (item.IsStale)
            throw new InvalidOperationException($"{bp}: logging a buffer this transaction invalidated");
        item.AddRange(offset, length);
        bp.IsDirty = true;
    }

    /// <summary>
    /// Copies <paramref name="contents"/> into <paramref name="bp"/> at <paramref name="offset"/>,
    /// logging only the bytes that differ, and leaving the 4-byte CRC field at
    /// <paramref name="crcOffset"/> (relative to the buffer; -1 for none) alone: the CRC is stamped
    /// when the buffer is written.
    /// </summary>
    public void LogChanges(XfsBuffer bp, int offset, ReadOnlySpan<byte> contents, int crcOffset = -1)
    {
        EnsureActive();
        ArgumentNullException.ThrowIfNull(bp);
        if (offset < 0 || offset + contents.Length > bp.Length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"bytes {offset}+{contents.Length} are not inside {bp.Name}");
        byte[] data = bp.Data;
        // Runs of changed bytes closer than this are logged as one range.
        const int gap = 8;
        int n = contents.Length;
        for (int i = 0; i < n; i++)
        {
            if (!Differs(data, offset, contents, i, crcOffset))
                continue;
            int last = i;
            for (int j = i + 1; j < n && j - last <= gap; j++)
            {
                if (Differs(data, offset, contents, j, crcOffset))
                    last = j;
            }
            for (int k = i; k <= last; k++)
            {
                if (!IsCrcByte(offset + k, crcOffset))
                    data[offset + k] = contents[k];
            }
            LogBuffer(bp, offset + i, last - i + 1);
            i = last;
        }
    }

    private static bool IsCrcByte(int position, int crcOffset) =>
        crcOffset >= 0 && position >= crcOffset && position < crcOffset + sizeof(uint);

    private static bool Differs(byte[] data, int offset, ReadOnlySpan<byte> contents, int i, int crcOffset) =>
        !IsCrcByte(offset + i, crcOffset) && data[offset + i] != contents[i];

    /// <summary>
    /// Marks <paramref name="bp"/> stale: its block has been freed, so the buffer is dropped from the
    /// cache at commit and never written.
    /// </summary>
    public void Invalidate(XfsBuffer bp)
    {
        EnsureActive();
        ArgumentNullException.ThrowIfNull(bp);
        var item = Join(bp, created: false);
        item.IsStale = true;
        item.ClearRanges();
        bp.IsStale = true;
        bp.IsDirty = false;
    }

    /// <summary>
    /// Changes sb_fdblocks by <paramref name="delta"/> at commit. Allocations (negative deltas) are
    /// taken from the reservation; using more than was reserved is a bug.
    /// </summary>
    public void ModifyFreeBlocks(long delta)
    {
        EnsureActive();
        if (delta < 0)
        {
            ulong used = BlocksUsed + (ulong)-delta;
            if (used > BlocksReserved)
                throw new InvalidOperationException($"transaction allocated {used} blocks but reserved only {BlocksReserved}");
            BlocksUsed = (uint)used;
        }
        _fdBlocksDelta += delta;
    }

    /// <summary>Changes sb_icount by <paramref name="delta"/> at commit.</summary>
    public void ModifyInodeCount(long delta)
    {
        EnsureActive();
        _iCountDelta += delta;
    }

    /// <summary>Changes sb_ifree by <paramref name="delta"/> at commit.</summary>
    public void ModifyFreeInodes(long delta)
    {
        EnsureActive();
        _iFreeDelta += delta;
    }

    /// <summary>Changes the in-core count of free-space B+tree blocks (m_allocbt_blks) by <paramref name="delta"/> at commit.</summary>
    public void ModifyAllocBtreeBlocks(long delta)
    {
        EnsureActive();
        _allocBtreeDelta += delta;
    }

    /// <summary>
    /// Applies the superblock deltas, hands the joined buffers to the committer and releases them
    /// and the reservation. If the committer fails (EIO, a write verifier refusing a buffer) the
    /// filesystem is shut down and the error rethrown.
    /// </summary>
    public void Commit()
    {
        EnsureActive();
        if (Mount.IsShutdown)
        {
            Cancel();
            throw new XfsException(Errno.EIO, $"filesystem shut down: {Mount.ShutdownReason}");
        }
        if (Mount.IsReadOnly && (_items.Count > 0 || _fdBlocksDelta != 0 || _iCountDelta != 0 || _iFreeDelta != 0))
        {
            // xfs_trans_alloc refuses a read-only mount up front; our empty transactions
            // (xfs_trans_alloc_empty) are allowed, so a change is caught here and undone.
            Cancel();
            throw new XfsException(Errno.EROFS, $"{Mount.Device.Name}: the filesystem is mounted read-only");
        }
        try
        {
            if (_fdBlocksDelta != 0 || _iCountDelta != 0 || _iFreeDelta != 0)
                ApplySuperblockDeltas();
            if (_items.Count > 0)
                Mount.Committer.Commit(this, _items);
            if (Mount.Log is { } log)
                CommitSequence = _items.Count > 0 ? log.LastCommitSequence : log.CommittedSequence;
            Mount.ApplyAllocBtreeDelta(_allocBtreeDelta);
        }
        catch (Exception e) when (e is XfsException or InvalidOperationException)
        {
            Mount.Shutdown($"transaction commit failed: {e.Message}");
            Mount.Busy.Cancelled(this);
            Release();
            _state = State.Committed;
            ExitLock();
            throw;
        }
        // The blocks it freed stay busy until this sequence is forced.
        Mount.Busy.Committed(this, CommitSequence);
        Release();
        _state = State.Committed;
        ExitLock();
    }

    private void ExitLock()
    {
        if (!_holdsLock)
            return;
        _holdsLock = false;
        Mount.ExitTransaction();
    }

    /// <summary>
    /// Registers <paramref name="undo"/> to run if the transaction is cancelled, after the joined
    /// buffers have their bytes back: in-core objects derived from those buffers (an inode's
    /// decoded fields and extent list) re-read themselves.
    /// </summary>
    public void OnCancel(Action undo)
    {
        EnsureActive();
        ArgumentNullException.ThrowIfNull(undo);
        (_onCancel ??= []).Add(undo);
    }

    /// <summary>Undoes every change: joined buffers get their bytes and state back, created buffers leave the cache, deltas are dropped.</summary>
    public void Cancel()
    {
        EnsureActive();
        for (int i = _items.Count - 1; i >= 0; i--)
        {
            var item = _items[i];
            var bp = item.Buffer;
            item.Before.CopyTo(bp.Data, 0);
            bp.IsDirty = item.WasDirty;
            bp.IsStale = item.WasStale;
            bp.Holder = null;
            if (item.IsNew)
                Mount.Buffers.Remove(bp);
        }
        _items.Clear();
        _byBuffer.Clear();
        Mount.Busy.Cancelled(this);
        Mount.Unreserve(BlocksReserved);
        _state = State.Cancelled;
        try
        {
            if (_onCancel != null)
            {
                for (int i = _onCancel.Count - 1; i >= 0; i--)
                    _onCancel[i]();
                _onCancel = null;
            }
        }
        finally
        {
            ExitLock();
        }
    }

    /// <summary>Cancels the transaction if it has neither committed nor been cancelled.</summary>
    public void Dispose()
    {
        if (_state == State.Active)
            Cancel();
    }

    private void ApplySuperblockDeltas()
    {
        var sb = Mount.Superblock;
        ulong icount = Apply(sb.ICount, _iCountDelta, "sb_icount");
        ulong ifree = Apply(sb.IFree, _iFreeDelta, "sb_ifree");
        ulong fdblocks = Apply(sb.FdBlocks, _fdBlocksDelta, "sb_fdblocks");
        if (ifree > icount || fdblocks > sb.DataBlocks)
            throw new InvalidOperationException($"superblock counters out of range: icount {icount} ifree {ifree} fdblocks {fdblocks}");
        var bp = ReadBuffer(0, Mount.Geometry.SectorSize, XfsSuperblockBufferOps.Instance);
        Span<byte> counters = stackalloc byte[SbFdBlocksOffset + sizeof(ulong) - SbICountOffset];
        Be.Put64(counters, SbICountOffset - SbICountOffset, icount);
        Be.Put64(counters, SbIFreeOffset - SbICountOffset, ifree);
        Be.Put64(counters, SbFdBlocksOffset - SbICountOffset, fdblocks);
        LogChanges(bp, SbICountOffset, counters);
        sb.ICount = icount;
        sb.IFree = ifree;
        sb.FdBlocks = fdblocks;
    }

    private static ulong Apply(ulong value, long delta, string field)
    {
        long result = (long)value + delta;
        if (result < 0)
            throw new InvalidOperationException($"{field} would go negative ({value} {delta:+0;-0})");
        return (ulong)result;
    }

    private void Release()
    {
        foreach (var item in _items)
        {
            item.Buffer.Holder = null;
            if (item.IsStale)
                Mount.Buffers.Remove(item.Buffer);
        }
        Mount.Unreserve(BlocksReserved);
    }

    private XfsBufferLogItem Join(XfsBuffer bp, bool created)
    {
        if (_byBuffer.TryGetValue(bp, out var item))
            return item;
        if (bp.Holder != null)
            throw new InvalidOperationException($"{bp} is held by another transaction");
        item = new XfsBufferLogItem(bp, created);
        bp.Holder = this;
        _items.Add(item);
        _byBuffer.Add(bp, item);
        return item;
    }

    private XfsBufferLogItem ItemOf(XfsBuffer bp)
    {
        ArgumentNullException.ThrowIfNull(bp);
        return _byBuffer.TryGetValue(bp, out var item)
            ? item
            : throw new InvalidOperationException($"{bp} is not joined to this transaction");
    }

    private void EnsureActive()
    {
        if (_state != State.Active)
            throw new InvalidOperationException($"the transaction has already been {(_state == State.Committed ? "committed" : "cancelled")}");
    }
}
