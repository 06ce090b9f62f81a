using DaxStack.Device.Errors;
using DaxStack.Fs.Xfs.Buffers;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Xfs.Btree;

/// <summary>
/// A position in one AG B+tree, and the generic engine that searches and changes it: lookups
/// (<see cref="XfsLookup.Le"/>, <see cref="XfsLookup.Ge"/>, <see cref="XfsLookup.Eq"/>), stepping
/// to the next and previous record, updating a record in place, and inserting and deleting
/// records with the tree kept balanced the way XFS keeps it. An insert into a full block first
/// tries to shift one entry to the right sibling, then to the left sibling, then splits the
/// block in half (a split of the root adds a level). A delete that leaves a block other than the
/// root under its minimum (half its maximum) borrows one entry from the right sibling, else from
/// the left, else joins with a sibling and deletes the joined block's entry from the level above;
/// a root node left with one child is removed (the tree loses a level). Node keys always equal
/// the first key of the block below. Blocks come from and go back to the tree's
/// <see cref="XfsBtreeOps{TRecord}"/> (the AGFL or the allocator), which also keeps the root and
/// height in the AG header. Every block is read and changed through the cursor's transaction and
/// every change is logged. After <see cref="Insert"/> the cursor is on the new record; after
/// <see cref="Delete"/> on the record that followed the deleted one. Other cursors on the same
/// tree must look up again after a change.
/// </summary>
/// <remarks>
/// Models the kernel's <c>struct xfs_btree_cur</c> and libxfs/xfs_btree.c for short-pointer
/// trees: <c>xfs_btree_lookup</c>, <c>xfs_btree_increment</c>, <c>xfs_btree_decrement</c>,
/// <c>xfs_btree_update</c>, <c>xfs_btree_insert</c> (<c>xfs_btree_insrec</c>,
/// <c>xfs_btree_make_block_unfull</c>, <c>xfs_btree_rshift</c>, <c>xfs_btree_lshift</c>,
/// <c>xfs_btree_split</c>, <c>xfs_btree_new_root</c>), <c>xfs_btree_delete</c>
/// (<c>xfs_btree_delrec</c>, <c>xfs_btree_kill_root</c>) and <c>xfs_btree_update_keys</c>.
/// Positions are 1-based inside a block, as in the kernel (0 = before the first entry).
/// </remarks>
public sealed class XfsBtreeCursor<TRecord>
    where TRecord : struct
{
    private const int MaxLevels = (int)XfsAgf.MaxLevels;
    private const int HeaderSize = XfsBtreeShortBlock.HeaderSize;
    private const int LevelOffset = 4;
    private const int NumRecsOffset = 6;
    private const int LeftSibOffset = 8;
    private const int RightSibOffset = 12;
    private const uint Null = XfsFormat.NullAgBlock;

    private readonly XfsBuffer?[] _bufs = new XfsBuffer?[MaxLevels + 1];
    private readonly int[] _ptrs = new int[MaxLevels + 1];
    private readonly int _recSize;
    private readonly int _keySize;
    private readonly int _blockSize;
    private readonly int _nodeSlots;
    private readonly uint _agLength;
    private readonly IXfsBufferOps _bufOps;
    private int _nlevels;

    /// <summary>A cursor on the <paramref name="ops"/> tree of AG <paramref name="agno"/>, working in <paramref name="tp"/>.</summary>
    public XfsBtreeCursor(XfsTransaction tp, uint agno, XfsBtreeOps<TRecord> ops)
    {
        ArgumentNullException.ThrowIfNull(tp);
        ArgumentNullException.ThrowIfNull(ops);
        Transaction = tp;
        Ops = ops;
        AgNo = agno;
        var geo = tp.Mount.Geometry;
        _agLength = geo.AgLength(agno);
        _blockSize = geo.BlockSize;
        _recSize = ops.Kind.RecordSize();
        _keySize = ops.Kind.KeySize();
        // Node layout: all key slots first, then all pointer slots, sized for a full block
        // whatever limit the ops set.
        _nodeSlots = ops.Kind.MaxRecords(_blockSize, leaf: false);
        for (int level = 0; level < 2; level++)
        {
            int max = ops.MaxRecords(level, _blockSize);
            if (max < 4 || max > ops.Kind.MaxRecords(_blockSize, level == 0))
                throw new ArgumentException($"{ops.Kind.Name()}: {max} entries per level-{level} block is outside 4..{ops.Kind.MaxRecords(_blockSize, level == 0)}", nameof(ops));
        }
        _bufOps = XfsBtreeBufferOps.For(ops.Kind);
        _nlevels = ReadRoot().Levels;
    }

    private XfsBtreeCursor(XfsBtreeCursor<TRecord> other)
    {
        Transaction = other.Transaction;
        Ops = other.Ops;
        AgNo = other.AgNo;
        _agLength = other._agLength;
        _blockSize = other._blockSize;
        _recSize = other._recSize;
        _keySize = other._keySize;
        _nodeSlots = other._nodeSlots;
        _bufOps = other._bufOps;
        _nlevels = other._nlevels;
        Array.Copy(other._bufs, _bufs, _bufs.Length);
        Array.Copy(other._ptrs, _ptrs, _ptrs.Length);
    }

    /// <summary>The transaction the cursor reads and changes blocks in.</summary>
    public XfsTransaction Transaction { get; }

    /// <summary>The tree's operations.</summary>
    public XfsBtreeOps<TRecord> Ops { get; }

    /// <summary>The AG whose tree this is.</summary>
    public uint AgNo { get; }

    /// <summary>The tree's height as of the cursor's last lookup or change.</summary>
    public int Levels => _nlevels;

    private string TreeName => $"{Ops.Kind.Name()} of AG {AgNo}";

    /// <summary>A second cursor at the same position (xfs_btree_dup_cursor).</summary>
    public XfsBtreeCursor<TRecord> Duplicate() => new(this);

    // ---------------------------------------------------------------- searching

    /// <summary>
    /// Positions the cursor at the record <paramref name="direction"/> selects for the key of
    /// <paramref name="search"/> and returns whether there is such a record. When there is none,
    /// the cursor is where the search key would be inserted (<see cref="XfsLookup.Eq"/>) or off
    /// the end.
    /// </summary>
    public bool Lookup(in TRecord search, XfsLookup direction)
    {
        var root = ReadRoot();
        _nlevels = root.Levels;
        Array.Clear(_bufs);
        Array.Clear(_ptrs);
        uint agbno = root.Block;
        long diff = 0;
        int keyno = 0;
        Span<byte> key = stackalloc byte[_keySize];
        for (int level = _nlevels - 1; level >= 0; level--)
        {
            var bp = ReadBlock(agbno, level);
            _bufs[level] = bp;
            int numrecs = NumRecs(bp);
            if (numrecs == 0)
            {
                if (level != 0 || _nlevels != 1)
                    throw new XfsCorruptionException(bp.Name, "an empty block below the root");
                _ptrs[0] = direction != XfsLookup.Le ? 1 : 0;
                return false;
            }
            int low = 1, high = numrecs;
            diff = 0;
            while (low <= high)
            {
                keyno = (low + high) >> 1;
                diff = level > 0 ? Ops.DiffKey(Key(bp, keyno), search) : DiffRecord(bp, keyno, key, search);
                if (diff < 0)
                    low = keyno + 1;
                else if (diff > 0)
                    high = keyno - 1;
                else
                    break;
            }
            if (level > 0)
            {
                // Moved left past the key: the subtree of the previous key holds the search key.
                if (diff > 0 && --keyno < 1)
                    keyno = 1;
                _ptrs[level] = keyno;
                agbno = Ptr(bp, keyno);
            }
        }

        var leaf = _bufs[0]!;
        if (direction != XfsLookup.Le && diff < 0)
        {
            keyno++;
            // A GE search off the end of a leaf that is not the last continues in the next leaf.
            if (direction == XfsLookup.Ge && keyno > NumRecs(leaf) && RightSib(leaf) != Null)
            {
                _ptrs[0] = keyno;
                if (!Increment(0))
                    throw new XfsCorruptionException(leaf.Name, "right sibling pointer leads nowhere");
                return true;
            }
        }
        else if (direction == XfsLookup.Le && diff > 0)
        {
            keyno--;
        }
        _ptrs[0] = keyno;
        if (keyno == 0 || keyno > NumRecs(leaf))
            return false;
        return direction != XfsLookup.Eq || diff == 0;
    }

    /// <summary>Lookup with <see cref="XfsLookup.Le"/>.</summary>
    public bool LookupLe(in TRecord search) => Lookup(search, XfsLookup.Le);

    /// <summary>Lookup with <see cref="XfsLookup.Ge"/>.</summary>
    public bool LookupGe(in TRecord search) => Lookup(search, XfsLookup.Ge);

    /// <summary>Lookup with <see cref="XfsLookup.Eq"/>.</summary>
    public bool LookupEq(in TRecord search) => Lookup(search, XfsLookup.Eq);

    /// <summary>Positions the cursor at the first record; false when the tree is empty.</summary>
    public bool MoveFirst() => MoveToEdge(first: true);

    /// <summary>Positions the cursor at the last record; false when the tree is empty.</summary>
    public bool MoveLast() => MoveToEdge(first: false);

    /// <summary>Steps to the next record (xfs_btree_increment); false (cursor off the end) when there is none.</summary>
    public bool Increment() => Increment(0);

    /// <summary>Steps to the previous record (xfs_btree_decrement); false (cursor before the start) when there is none.</summary>
    public bool Decrement() => Decrement(0);

    /// <summary>The record at the cursor, if the cursor is on one (xfs_btree_get_rec).</summary>
    public bool TryGetRecord(out TRecord record)
    {
        var bp = _bufs[0];
        int ptr = _ptrs[0];
        if (bp == null || ptr < 1 || ptr > NumRecs(bp))
        {
            record = default;
            return false;
        }
        record = Ops.ReadRecord(Rec(bp, ptr));
        string? problem = Ops.CheckRecord(record, _agLength);
        if (problem != null)
            throw new XfsCorruptionException(bp.Name, $"record {ptr} {record}: {problem}");
        return true;
    }

    /// <summary>The record at the cursor; the cursor must be on one.</summary>
    public TRecord GetRecord() =>
        TryGetRecord(out var record) ? record : throw new InvalidOperationException($"{TreeName}: the cursor is not on a record");

    /// <summary>Every record in key order (a walk of the leaves; the cursor ends off the end).</summary>
    public List<TRecord> ReadAll()
    {
        var all = new List<TRecord>();
        for (bool ok = MoveFirst(); ok; ok = Increment())
            all.Add(GetRecord());
        return all;
    }

    // ---------------------------------------------------------------- changing

    /// <summary>
    /// Replaces the record at the cursor with <paramref name="record"/> (xfs_btree_update), which
    /// must keep the record's place in key order; the parents' keys follow when it is the first
    /// record of its leaf.
    /// </summary>
    public void Update(in TRecord record)
    {
        var bp = _bufs[0];
        int ptr = _ptrs[0];
        if (bp == null || ptr < 1 || ptr > NumRecs(bp))
            throw new InvalidOperationException($"{TreeName}: the cursor is not on a record to update");
        Span<byte> key = stackalloc byte[_keySize];
        if ((ptr > 1 && DiffRecord(bp, ptr - 1, key, record) >= 0) || (ptr < NumRecs(bp) && DiffRecord(bp, ptr + 1, key, record) <= 0))
            throw new InvalidOperationException($"{TreeName}: updating record {ptr} of {bp.Name} to {record} would put it out of key order");
        Ops.WriteRecord(record, Rec(bp, ptr));
        LogRecs(bp, ptr, ptr);
        if (ptr == 1)
            UpdateKeys(0);
    }

    /// <summary>
    /// Inserts <paramref name="record"/> at its place in key order (a lookup followed by
    /// xfs_btree_insert), splitting blocks and adding a level as needed, and leaves the cursor on
    /// it. A record with the same key already in the tree is corruption.
    /// </summary>
    public void Insert(in TRecord record)
    {
        if (LookupEq(record))
            throw new XfsCorruptionException(_bufs[0]!.Name, $"inserting {record} into {TreeName}: a record with its key is already there");
        var rec = new byte[_recSize];
        Ops.WriteRecord(record, rec);
        var key = new byte[_keySize];
        uint ptr = Null;
        var pcur = this;
        int level = 0;
        do
        {
            ptr = pcur.InsRec(level, ptr, rec, key, out var ncur);
            level++;
            if (ncur != null)
                pcur = ncur;
        }
        while (ptr != Null);
        if (!LookupEq(record))
            throw new InvalidOperationException($"{TreeName}: {record} is not found after inserting it");
    }

    /// <summary>
    /// Deletes the record at the cursor (xfs_btree_delete), rebalancing or joining blocks and
    /// removing a level as needed, and leaves the cursor on the record that followed it.
    /// </summary>
    public void Delete()
    {
        var deleted = GetRecord();
        int status = 2;
        for (int level = 0; status == 2; level++)
            status = DelRec(level);
        if (status == 0)
            throw new InvalidOperationException($"{TreeName}: deleting {deleted} found no entry at the cursor");
        LookupGe(deleted);
    }

    // ---------------------------------------------------------------- navigation internals

    private bool MoveToEdge(bool first)
    {
        var root = ReadRoot();
        _nlevels = root.Levels;
        Array.Clear(_bufs);
        Array.Clear(_ptrs);
        uint agbno = root.Block;
        for (int level = _nlevels - 1; level >= 0; level--)
        {
            var bp = ReadBlock(agbno, level);
            _bufs[level] = bp;
            int numrecs = NumRecs(bp);
            if (numrecs == 0)
            {
                if (level != 0 || _nlevels != 1)
                    throw new XfsCorruptionException(bp.Name, "an empty block below the root");
                _ptrs[0] = first ? 1 : 0;
                return false;
            }
            _ptrs[level] = first ? 1 : numrecs;
            if (level > 0)
                agbno = Ptr(bp, _ptrs[level]);
        }
        return true;
    }

    private bool Increment(int level)
    {
        var bp = Block(level);
        if (++_ptrs[level] <= NumRecs(bp))
            return true;
        if (RightSib(bp) == Null)
            return false;
        int lev;
        for (lev = level + 1; lev < _nlevels; lev++)
        {
            if (++_ptrs[lev] <= NumRecs(Block(lev)))
                break;
        }
        if (lev == _nlevels)
            throw new XfsCorruptionException(bp.Name, "has a right sibling but no parent entry after it");
        // Walk back down to the first entry of each block on the way.
        Descend(lev, level, toFirst: true);
        return true;
    }

    private bool Decrement(int level)
    {
        var bp = Block(level);
        if (--_ptrs[level] > 0)
            return true;
        if (LeftSib(bp) == Null)
            return false;
        int lev;
        for (lev = level + 1; lev < _nlevels; lev++)
        {
            if (--_ptrs[lev] > 0)
                break;
        }
        if (lev == _nlevels)
            throw new XfsCorruptionException(bp.Name, "has a left sibling but no parent entry before it");
        // Walk back down to the last entry of each block on the way.
        Descend(lev, level, toFirst: false);
        return true;
    }

    // Loads the blocks from level lev - 1 down to 'level' along the entries the cursor points at,
    // leaving the cursor at the first (or last) entry of each.
    private void Descend(int lev, int level, bool toFirst)
    {
        var block = Block(lev);
        while (lev > level)
        {
            uint child = Ptr(block, _ptrs[lev]);
            lev--;
            block = ReadBlock(child, lev);
            _bufs[lev] = block;
            _ptrs[lev] = toFirst ? 1 : NumRecs(block);
        }
    }

    private void FirstRec(int level) => _ptrs[level] = 1;

    private void LastRec(int level) => _ptrs[level] = NumRecs(Block(level));

    // ---------------------------------------------------------------- insert internals

    /// <summary>
    /// xfs_btree_insrec: inserts the entry (a record at level 0, else <paramref name="key"/> and
    /// <paramref name="ptrIn"/>) at the cursor's position at <paramref name="level"/>. Returns the
    /// block a split created (and its first key in <paramref name="key"/>), for the caller to
    /// insert one level up with <paramref name="ncur"/> (or this cursor), or NULLAGBLOCK.
    /// </summary>
    private uint InsRec(int level, uint ptrIn, ReadOnlySpan<byte> rec, Span<byte> key, out XfsBtreeCursor<TRecord>? ncur)
    {
        ncur = null;
        if (level >= _nlevels)
        {
            NewRoot();
            return Null;
        }
        int ptr = _ptrs[level];
        if (ptr == 0)
            throw new InvalidOperationException($"{TreeName}: inserting before the first entry of level {level}");
        int optr = ptr;
        Span<byte> entryKey = stackalloc byte[_keySize];
        if (level == 0)
            Ops.KeyFromRecord(rec, entryKey);
        else
            key.CopyTo(entryKey);

        var bp = Block(level);
        ulong oldDaddr = bp.Daddr;
        int numrecs = NumRecs(bp);
        uint nptr = Null;
        Span<byte> newKey = stackalloc byte[_keySize];
        if (numrecs == MaxRecs(level))
        {
            nptr = MakeBlockUnfull(level, ref optr, ref ptr, newKey, out ncur);
            bp = Block(level);
            numrecs = NumRecs(bp);
        }

        if (level > 0)
        {
            MoveNodeEntries(bp, ptr, bp, ptr + 1, numrecs - ptr + 1);
            entryKey.CopyTo(Key(bp, ptr));
            SetPtr(bp, ptr, ptrIn);
            numrecs++;
            SetNumRecs(bp, numrecs);
            LogKeys(bp, ptr, numrecs);
            LogPtrs(bp, ptr, numrecs);
        }
        else
        {
            MoveRecords(bp, ptr, bp, ptr + 1, numrecs - ptr + 1);
            rec.CopyTo(Rec(bp, ptr));
            numrecs++;
            SetNumRecs(bp, numrecs);
            LogRecs(bp, ptr, numrecs);
        }

        if (bp.Daddr != oldDaddr)
        {
            // The entry went into the block the split made: its key for the parent may have changed.
            GetBlockKey(bp, newKey);
        }
        else if (optr == 1)
        {
            UpdateKeys(level);
        }
        if (nptr != Null)
            newKey.CopyTo(key);
        return nptr;
    }

    /// <summary>xfs_btree_make_block_unfull: shift right, else shift left, else split.</summary>
    private uint MakeBlockUnfull(int level, ref int oindex, ref int index, Span<byte> key, out XfsBtreeCursor<TRecord>? ncur)
    {
        ncur = null;
        if (RShift(level))
            return Null;
        if (LShift(level))
        {
            oindex = index = _ptrs[level];
            return Null;
        }
        uint nptr = Split(level, key, out ncur);
        index = _ptrs[level];
        return nptr;
    }

    /// <summary>xfs_btree_rshift: moves the last entry of the cursor's block to the front of its right sibling.</summary>
    private bool RShift(int level)
    {
        var left = Block(level);
        uint rbno = RightSib(left);
        if (rbno == Null)
            return false;
        int lrecs = NumRecs(left);
        // The entry the cursor is on (or past) would move: leave it.
        if (_ptrs[level] >= lrecs)
            return false;
        var right = ReadBlock(rbno, level);
        int rrecs = NumRecs(right);
        if (rrecs == MaxRecs(level))
            return false;
        MoveEntries(right, 1, right, 2, rrecs, level);
        MoveEntries(left, lrecs, right, 1, 1, level);
        LogEntries(right, 1, rrecs + 1, level);
        SetNumRecs(left, --lrecs);
        SetNumRecs(right, ++rrecs);
        // The right block has a new first key: fix its parents through a cursor pointing at it.
        var tcur = Duplicate();
        tcur.LastRec(level);
        if (!tcur.Increment(level))
            throw new XfsCorruptionException(left.Name, "right sibling not reachable through the parents");
        tcur.UpdateKeys(level);
        return true;
    }

    /// <summary>xfs_btree_lshift: moves the first entry of the cursor's block to the end of its left sibling.</summary>
    private bool LShift(int level)
    {
        var right = Block(level);
        uint lbno = LeftSib(right);
        if (lbno == Null)
            return false;
        if (_ptrs[level] <= 1)
            return false;
        var left = ReadBlock(lbno, level);
        int lrecs = NumRecs(left);
        if (lrecs == MaxRecs(level))
            return false;
        int rrecs = NumRecs(right);
        lrecs++;
        rrecs--;
        MoveEntries(right, 1, left, lrecs, 1, level);
        LogEntries(left, lrecs, lrecs, level);
        SetNumRecs(left, lrecs);
        SetNumRecs(right, rrecs);
        MoveEntries(right, 2, right, 1, rrecs, level);
        if (rrecs > 0)
        {
            LogEntries(right, 1, rrecs, level);
            UpdateKeys(level);
        }
        _ptrs[level]--;
        return true;
    }

    /// <summary>xfs_btree_split: moves the upper half of the cursor's block into a new right sibling.</summary>
    private uint Split(int level, Span<byte> key, out XfsBtreeCursor<TRecord>? ncur)
    {
        var left = Block(level);
        uint lbno = left.AgBno;
        uint rbno = AllocBlock(lbno);
        var right = NewBlock(rbno, level);
        int lrecs = NumRecs(left);
        // Split evenly; with an odd count the half the new entry goes into gets the smaller share.
        int rrecs = lrecs / 2;
        if ((lrecs & 1) != 0 && _ptrs[level] <= rrecs + 1)
            rrecs++;
        int src = lrecs - rrecs + 1;
        lrecs -= rrecs;
        MoveEntries(left, src, right, 1, rrecs, level);
        LogEntries(right, 1, rrecs, level);
        SetNumRecs(left, lrecs);
        SetNumRecs(right, rrecs);
        GetBlockKey(right, key);

        uint rrbno = RightSib(left);
        SetRightSib(right, rrbno);
        SetLeftSib(right, lbno);
        SetRightSib(left, rbno);
        if (rrbno != Null)
            SetLeftSib(ReadBlock(rrbno, level), rbno);

        // Follow the insertion point into the new block if it moved there; a position just past
        // the end of the left block stays (the entry is appended there).
        if (_ptrs[level] > lrecs + 1)
        {
            _bufs[level] = right;
            _ptrs[level] -= lrecs;
        }
        ncur = null;
        if (level + 1 < _nlevels)
        {
            ncur = Duplicate();
            ncur._ptrs[level + 1]++;
        }
        return rbno;
    }

    /// <summary>xfs_btree_new_root: the old root was split; a new root above it points at both halves.</summary>
    private void NewRoot()
    {
        var old = ReadRoot();
        uint nbno = AllocBlock(old.Block);
        Ops.SetRoot(Transaction, AgNo, nbno, +1);
        int level = _nlevels - 1;
        var bp = Block(level);
        XfsBuffer left, right;
        int nptr;
        uint rbno = RightSib(bp);
        if (rbno != Null)
        {
            left = bp;
            right = ReadBlock(rbno, level);
            nptr = 1;
        }
        else
        {
            right = bp;
            left = ReadBlock(LeftSib(bp), level);
            nptr = 2;
        }
        var root = NewBlock(nbno, _nlevels);
        GetBlockKey(left, Key(root, 1));
        GetBlockKey(right, Key(root, 2));
        SetPtr(root, 1, left.AgBno);
        SetPtr(root, 2, right.AgBno);
        SetNumRecs(root, 2);
        LogKeys(root, 1, 2);
        LogPtrs(root, 1, 2);
        _bufs[_nlevels] = root;
        _ptrs[_nlevels] = nptr;
        _nlevels++;
    }

    // ---------------------------------------------------------------- delete internals

    /// <summary>
    /// xfs_btree_delrec: removes the entry at the cursor at <paramref name="level"/>. Returns 0 when
    /// there was none, 1 when done, 2 when blocks were joined and the cursor's entry one level up
    /// must be deleted too.
    /// </summary>
    private int DelRec(int level)
    {
        int ptr = _ptrs[level];
        if (ptr == 0)
            return 0;
        var bp = Block(level);
        int numrecs = NumRecs(bp);
        if (ptr > numrecs)
            return 0;
        if (ptr < numrecs)
        {
            MoveEntries(bp, ptr + 1, bp, ptr, numrecs - ptr, level);
            LogEntries(bp, ptr, numrecs - 1, level);
        }
        SetNumRecs(bp, --numrecs);

        if (level == _nlevels - 1)
        {
            // A root node with one child hands the root to that child.
            if (numrecs == 1 && level > 0)
                KillRoot(bp, level, Ptr(bp, 1));
            else if (level > 0)
                DecCursor(level);
            return 1;
        }

        if (ptr == 1 && numrecs > 0)
            UpdateKeys(level);

        if (numrecs >= MinRecs(level))
        {
            DecCursor(level);
            return 1;
        }

        // Under the minimum: borrow one entry from a sibling, else join with one.
        uint rbno = RightSib(bp);
        uint lbno = LeftSib(bp);
        if (rbno == Null && lbno == Null)
            throw new XfsCorruptionException(bp.Name, "a block below the root without siblings");
        uint cbno = bp.AgBno;
        var tcur = Duplicate();
        int lrecs = 0, rrecs = 0;
        if (rbno != Null)
        {
            tcur.LastRec(level);
            if (!tcur.Increment(level))
                throw new XfsCorruptionException(bp.Name, "right sibling not reachable through the parents");
            tcur.LastRec(level);
            var right = tcur.Block(level);
            if (NumRecs(right) - 1 >= MinRecs(level) && tcur.LShift(level))
            {
                DecCursor(level);
                return 1;
            }
            rrecs = NumRecs(right);
            if (lbno != Null)
            {
                tcur.FirstRec(level);
                if (!tcur.Decrement(level))
                    throw new XfsCorruptionException(right.Name, "left sibling not reachable through the parents");
            }
        }
        if (lbno != Null)
        {
            tcur.FirstRec(level);
            if (!tcur.Decrement(level))
                throw new XfsCorruptionException(bp.Name, "left sibling not reachable through the parents");
            tcur.FirstRec(level);
            var left = tcur.Block(level);
            if (NumRecs(left) - 1 >= MinRecs(level) && tcur.RShift(level))
            {
                if (level == 0)
                    _ptrs[0]++;
                return 1;
            }
            lrecs = NumRecs(left);
        }

        // Join: move everything in "right" into "left" and free "right".
        XfsBuffer lbp, rbp;
        if (lbno != Null && lrecs + numrecs <= MaxRecs(level))
        {
            rbp = bp;
            lbp = ReadBlock(lbno, level);
        }
        else if (rbno != Null && rrecs + numrecs <= MaxRecs(level))
        {
            lbp = bp;
            rbp = ReadBlock(rbno, level);
        }
        else
        {
            // Neither sibling has room: XFS leaves the block under-full. With the minimum at half
            // the maximum a sibling that cannot lend an entry always has room, so this is not reached.
            DecCursor(level);
            return 1;
        }
        lrecs = NumRecs(lbp);
        rrecs = NumRecs(rbp);
        MoveEntries(rbp, 1, lbp, lrecs + 1, rrecs, level);
        if (rrecs > 0)
            LogEntries(lbp, lrecs + 1, lrecs + rrecs, level);
        SetNumRecs(lbp, lrecs + rrecs);
        uint rrbno = RightSib(rbp);
        SetRightSib(lbp, rrbno);
        if (rrbno != Null)
            SetLeftSib(ReadBlock(rrbno, level), lbp.AgBno);
        FreeBlock(rbp);

        if (!ReferenceEquals(bp, lbp))
        {
            // Joined into the left neighbour: the cursor follows its entries there.
            _bufs[level] = lbp;
            _ptrs[level] += lrecs;
        }
        else if (level + 1 < _nlevels)
        {
            // Joined the right neighbour into this block: its entry above is the one to delete.
            if (!Increment(level + 1))
                throw new XfsCorruptionException(bp.Name, $"no parent entry for the right sibling of block {cbno}");
        }
        if (level > 0)
            _ptrs[level]--;
        return 2;
    }

    /// <summary>xfs_btree_kill_root: the root's only child becomes the root.</summary>
    private void KillRoot(XfsBuffer root, int level, uint child)
    {
        Ops.SetRoot(Transaction, AgNo, child, -1);
        FreeBlock(root);
        _bufs[level] = null;
        _ptrs[level] = 0;
        _nlevels--;
    }

    /// <summary>xfs_btree_dec_cursor: keeps the cursor consistent after a delete above the leaves.</summary>
    private void DecCursor(int level)
    {
        if (level > 0)
            Decrement(level);
    }

    /// <summary>xfs_btree_update_keys: copies the block's first key up while it is the first entry of its parent.</summary>
    private void UpdateKeys(int level)
    {
        Span<byte> key = stackalloc byte[_keySize];
        GetBlockKey(Block(level), key);
        int ptr = 1;
        for (int lev = level + 1; ptr == 1 && lev < _nlevels; lev++)
        {
            var bp = Block(lev);
            ptr = _ptrs[lev];
            var slot = Key(bp, ptr);
            if (!slot.SequenceEqual(key))
            {
                key.CopyTo(slot);
                LogKeys(bp, ptr, ptr);
            }
        }
    }

    // ---------------------------------------------------------------- blocks

    private XfsBtreeRoot ReadRoot()
    {
        var root = Ops.GetRoot(Transaction, AgNo);
        if (root.Levels < 1 || root.Levels > MaxLevels)
            throw new XfsCorruptionException(TreeName, $"height {root.Levels} is not 1 to {MaxLevels}");
        if (root.Block == 0 || root.Block >= _agLength)
            throw new XfsCorruptionException(TreeName, $"root block {root.Block} is outside the AG (length {_agLength})");
        return root;
    }

    private XfsBuffer Block(int level) =>
        _bufs[level] ?? throw new InvalidOperationException($"{TreeName}: the cursor has no block at level {level}");

    private XfsBuffer ReadBlock(uint agbno, int level)
    {
        if (agbno == 0 || agbno >= _agLength)
            throw new XfsCorruptionException($"{Ops.Kind.Name()} block {AgNo}/{agbno}", $"pointer outside the AG (length {_agLength})");
        var geo = Transaction.Mount.Geometry;
        var bp = Transaction.ReadBuffer(geo.AgBlockToDaddr(AgNo, agbno), _blockSize, _bufOps);
        int actual = Be.U16(bp.Data, LevelOffset);
        if (actual != level)
            throw XfsCorruptionException.BadField(bp.Name, "level", actual, $"expected {level} at this depth");
        if (NumRecs(bp) > MaxRecs(level))
            throw XfsCorruptionException.BadField(bp.Name, "numrecs", NumRecs(bp), $"more than the {MaxRecs(level)} a block holds");
        return bp;
    }

    private XfsBuffer NewBlock(uint agbno, int level)
    {
        var mp = Transaction.Mount;
        ulong daddr = mp.Geometry.AgBlockToDaddr(AgNo, agbno);
        var bp = Transaction.GetBuffer(daddr, _blockSize, _bufOps);
        new XfsBtreeShortBlock
        {
            Kind = Ops.Kind,
            Level = (ushort)level,
            NumRecs = 0,
            BlkNo = daddr,
            Uuid = mp.MetadataUuid,
            Owner = AgNo,
        }.WriteTo(bp.Data);
        Transaction.LogBuffer(bp, 0, HeaderSize);
        return bp;
    }

    private uint AllocBlock(uint hint)
    {
        uint agbno = Ops.AllocBlock(Transaction, AgNo, hint);
        if (agbno == Null)
            throw new XfsException(Errno.ENOSPC, $"{TreeName}: no block to grow the tree into");
        if (agbno == 0 || agbno >= _agLength)
            throw new InvalidOperationException($"{TreeName}: allocator returned block {agbno} outside the AG");
        return agbno;
    }

    private void FreeBlock(XfsBuffer bp)
    {
        Ops.FreeBlock(Transaction, AgNo, bp.AgBno);
        Transaction.Invalidate(bp);
    }

    private int MaxRecs(int level) => Ops.MaxRecords(level, _blockSize);

    private int MinRecs(int level) => Ops.MinRecords(level, _blockSize);

    // ---------------------------------------------------------------- block layout

    private static int NumRecs(XfsBuffer bp) => Be.U16(bp.Data, NumRecsOffset);

    private void SetNumRecs(XfsBuffer bp, int numrecs)
    {
        Be.Put16(bp.Data, NumRecsOffset, (ushort)numrecs);
        Transaction.LogBuffer(bp, NumRecsOffset, sizeof(ushort));
    }

    private static uint LeftSib(XfsBuffer bp) => Be.U32(bp.Data, LeftSibOffset);

    private static uint RightSib(XfsBuffer bp) => Be.U32(bp.Data, RightSibOffset);

    private void SetLeftSib(XfsBuffer bp, uint agbno)
    {
        Be.Put32(bp.Data, LeftSibOffset, agbno);
        Transaction.LogBuffer(bp, LeftSibOffset, sizeof(uint));
    }

    private void SetRightSib(XfsBuffer bp, uint agbno)
    {
        Be.Put32(bp.Data, RightSibOffset, agbno);
        Transaction.LogBuffer(bp, RightSibOffset, sizeof(uint));
    }

    private int RecOffset(int index) => HeaderSize + (index - 1) * _recSize;

    private int KeyOffset(int index) => HeaderSize + (index - 1) * _keySize;

    private int PtrOffset(int index) => HeaderSize + _nodeSlots * _keySize + (index - 1) * sizeof(uint);

    private Span<byte> Rec(XfsBuffer bp, int index) => bp.Data.AsSpan(RecOffset(index), _recSize);

    private Span<byte> Key(XfsBuffer bp, int index) => bp.Data.AsSpan(KeyOffset(index), _keySize);

    private uint Ptr(XfsBuffer bp, int index) => Be.U32(bp.Data, PtrOffset(index));

    private void SetPtr(XfsBuffer bp, int index, uint agbno) => Be.Put32(bp.Data, PtrOffset(index), agbno);

    private long DiffRecord(XfsBuffer leaf, int index, Span<byte> key, in TRecord search)
    {
        Ops.KeyFromRecord(Rec(leaf, index), key);
        return Ops.DiffKey(key, search);
    }

    private void GetBlockKey(XfsBuffer bp, Span<byte> key)
    {
        if (Be.U16(bp.Data, LevelOffset) == 0)
            Ops.KeyFromRecord(Rec(bp, 1), key);
        else
            Key(bp, 1).CopyTo(key);
    }

    // Moves count entries (records, or keys with their pointers) between or within blocks; the
    // copies are overlap-safe. Logging is left to the caller, who knows the final extent.
    private void MoveEntries(XfsBuffer src, int srcIndex, XfsBuffer dst, int dstIndex, int count, int level)
    {
        if (level == 0)
            MoveRecords(src, srcIndex, dst, dstIndex, count);
        else
            MoveNodeEntries(src, srcIndex, dst, dstIndex, count);
    }

    private void MoveRecords(XfsBuffer src, int srcIndex, XfsBuffer dst, int dstIndex, int count)
    {
        if (count <= 0)
            return;
        src.Data.AsSpan(RecOffset(srcIndex), count * _recSize).CopyTo(dst.Data.AsSpan(RecOffset(dstIndex)));
    }

    private void MoveNodeEntries(XfsBuffer src, int srcIndex, XfsBuffer dst, int dstIndex, int count)
    {
        if (count <= 0)
            return;
        src.Data.AsSpan(KeyOffset(srcIndex), count * _keySize).CopyTo(dst.Data.AsSpan(KeyOffset(dstIndex)));
        src.Data.AsSpan(PtrOffset(srcIndex), count * sizeof(uint)).CopyTo(dst.Data.AsSpan(PtrOffset(dstIndex)));
    }

    private void LogEntries(XfsBuffer bp, int first, int last, int level)
    {
        if (level == 0)
        {
            LogRecs(bp, first, last);
        }
        else
        {
            LogKeys(bp, first, last);
            LogPtrs(bp, first, last);
        }
    }

    private void LogRecs(XfsBuffer bp, int first, int last)
    {
        if (last >= first)
            Transaction.LogBuffer(bp, RecOffset(first), (last - first + 1) * _recSize);
    }

    private void LogKeys(XfsBuffer bp, int first, int last)
    {
        if (last >= first)
            Transaction.LogBuffer(bp, KeyOffset(first), (last - first + 1) * _keySize);
    }

    private void LogPtrs(XfsBuffer bp, int first, int last)
    {
        if (last >= first)
            Transaction.LogBuffer(bp, PtrOffset(first), (last - first + 1) * sizeof(uint));
    }
}
