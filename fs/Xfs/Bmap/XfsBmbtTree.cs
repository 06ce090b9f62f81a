using DaxStack.Fs.Xfs.Buffers;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Xfs.Bmap;

/// <summary>
/// The in-core mirror of one fork's bmap B+tree. The fork's extent records live in one sorted
/// list in memory (as the kernel's incore extent tree does); this mirror knows how the
/// on-disk blocks partition that list: level 0 blocks (leaves) each hold a run of consecutive
/// records, each block of level k+1 holds a run of consecutive level-k blocks, and the root in
/// the inode holds the top level. Edits to the record list adjust one leaf's count;
/// <see cref="Rebalance"/> then splits full blocks, merges or evens out blocks below half full,
/// adds a level when the inode root overflows and removes one when the root can hold the level
/// below again; <see cref="Flush"/> encodes every block that changed and logs the bytes that
/// differ. The rules are the ones xfs_repair checks: every block but a child of the root holds
/// at least half of what it can, keys are the first file offset below each pointer, siblings
/// link each level left to right, every block names the inode as owner.
/// </summary>
/// <remarks>Models the on-disk side of the kernel's bmap B+tree (<c>xfs_bmbt_*</c>, <c>xfs_btree_split</c>, <c>xfs_btree_join</c>/<c>xfs_btree_lshift</c>/<c>rshift</c>, <c>xfs_btree_new_iroot</c>, <c>xfs_btree_kill_iroot</c>) driven from an incore extent list, as <c>xfs_iext_*</c> keeps one.</remarks>
public sealed class XfsBmbtTree
{
    // _levels[0] holds the leaves, _levels[^1] the blocks the inode root points at.
    private readonly List<List<XfsBmbtNode>> _levels;
    private readonly int _blockMax;
    private int _rootMax;

    private XfsBmbtTree(List<List<XfsBmbtNode>> levels, int blockMax, int rootMax)
    {
        _levels = levels;
        _blockMax = blockMax;
        _rootMax = rootMax;
    }

    /// <summary>The root's bb_level (the number of block levels below it).</summary>
    public int RootLevel => _levels.Count;

    /// <summary>Pointers in the inode root.</summary>
    public int RootCount => _levels[^1].Count;

    /// <summary>Blocks of the tree (the root lives in the inode and is not one).</summary>
    public int BlockCount
    {
        get
        {
            int n = 0;
            foreach (var level in _levels)
                n += level.Count;
            return n;
        }
    }

    /// <summary>Every block of the tree, leaves first.</summary>
    public IEnumerable<ulong> Blocks => _levels.SelectMany(l => l.Select(n => n.Fsb));

    /// <summary>Keys (and records) one block holds.</summary>
    public int BlockMaxRecords => _blockMax;

    /// <summary>Keys the inode root holds.</summary>
    public int RootMaxRecords => _rootMax;

    /// <summary>
    /// The data fork changed size (an attribute fork was added or moved di_forkoff): the root
    /// is laid out for <paramref name="forkSize"/> bytes from now on. A root with more pointers
    /// than that holds is pushed down a level by the next <see cref="Rebalance"/>, as
    /// xfs_bmap_add_attrfork_btree does with xfs_btree_new_iroot.
    /// </summary>
    internal void ResizeRoot(int forkSize) => _rootMax = RootMaxFor(forkSize);

    /// <summary>The most pointers a bmbt root of <paramref name="forkSize"/> bytes holds (xfs_bmdr_maxrecs).</summary>
    public static int RootMaxFor(int forkSize) => (forkSize - 4) / 16;

    /// <summary>A tree of one new leaf at <paramref name="leafFsb"/> holding all <paramref name="records"/> records (xfs_bmap_extents_to_btree).</summary>
    internal static XfsBmbtTree CreateSingleLeaf(ulong leafFsb, int records, int blockSize, int forkSize)
    {
        int max = XfsBtreeLongBlock.MaxRecords(blockSize);
        if (records > max)
            throw new InvalidOperationException($"{records} records do not fit one bmbt leaf of {max}");
        return new XfsBmbtTree([[new XfsBmbtNode(leafFsb, records, isNew: true)]], max, RootMaxFor(forkSize));
    }

    // ------------------------------------------------------------ edits

    /// <summary>A record was inserted at <paramref name="index"/> of the list (which had <paramref name="oldCount"/> records before).</summary>
    internal void Inserted(int index, int oldCount)
    {
        int leaf = index >= oldCount ? _levels[0].Count - 1 : LeafOf(index);
        _levels[0][leaf].Count++;
        MarkPath(0, leaf);
    }

    /// <summary>The record at <paramref name="index"/> was removed.</summary>
    internal void Removed(int index)
    {
        int leaf = LeafOf(index);
        _levels[0][leaf].Count--;
        MarkPath(0, leaf);
    }

    /// <summary>The record at <paramref name="index"/> changed in place.</summary>
    internal void Modified(int index) => MarkPath(0, LeafOf(index));

    private int LeafOf(int index)
    {
        var leaves = _levels[0];
        int start = 0;
        for (int j = 0; j < leaves.Count; j++)
        {
            if (index < start + leaves[j].Count)
                return j;
            start += leaves[j].Count;
        }
        throw new ArgumentOutOfRangeException(nameof(index), index, $"the bmbt leaves hold {start} records");
    }

    // Which node of level + 1 holds node j of level (null for the top level: the inode root).
    private int? ParentOf(int level, int j)
    {
        if (level + 1 >= _levels.Count)
            return null;
        var parents = _levels[level + 1];
        int start = 0;
        for (int p = 0; p < parents.Count; p++)
        {
            if (j < start + parents[p].Count)
                return p;
            start += parents[p].Count;
        }
        // One past the end: the last parent (a node just appended).
        return parents.Count - 1;
    }

    private void MarkPath(int level, int j)
    {
        while (true)
        {
            _levels[level][j].Dirty = true;
            if (ParentOf(level, j) is not int p)
                return;
            level++;
            j = p;
        }
    }

    private void MarkNode(int level, int j)
    {
        if (j >= 0 && j < _levels[level].Count)
            _levels[level][j].Dirty = true;
    }

    // ------------------------------------------------------------ rebalance

    /// <summary>
    /// Restores the B+tree rules after edits: splits blocks over capacity (new blocks from
    /// <paramref name="allocate"/>, given a neighbour as hint), merges or evens out blocks under
    /// half full with a sibling (freed blocks go to <paramref name="free"/>), grows a level when
    /// the root overflows and removes levels the root can absorb.
    /// </summary>
    internal void Rebalance(Func<ulong, ulong> allocate, Action<ulong> free)
    {
        for (int k = 0; k < _levels.Count; k++)
        {
            FixLevel(k, allocate, free);
            if (k == _levels.Count - 1 && _levels[k].Count > _rootMax)
            {
                // xfs_btree_new_iroot: the root's pointers move into a new block below it.
                var node = new XfsBmbtNode(allocate(_levels[k][0].Fsb), _levels[k].Count, isNew: true);
                _levels.Add([node]);
            }
        }
        // xfs_btree_kill_iroot: a root with one child whose entries fit the root takes them over.
        while (_levels.Count >= 2 && _levels[^1].Count == 1 && _levels[^2].Count <= _rootMax)
        {
            free(_levels[^1][0].Fsb);
            _levels.RemoveAt(_levels.Count - 1);
        }
    }

    private void FixLevel(int k, Func<ulong, ulong> allocate, Action<ulong> free)
    {
        var nodes = _levels[k];
        int min = _blockMax / 2;
        int j = 0;
        while (j < nodes.Count)
        {
            var n = nodes[j];
            if (n.Count > _blockMax)
            {
                int? parent = ParentOf(k, j);
                var right = new XfsBmbtNode(allocate(n.Fsb), n.Count - n.Count / 2, isNew: true);
                n.Count /= 2;
                nodes.Insert(j + 1, right);
                if (parent is int p)
                    _levels[k + 1][p].Count++;
                n.Dirty = true;
                MarkNode(k, j + 2);
                MarkPath(k, j + 1);
                continue;
            }
            if (nodes.Count > 1 && n.Count < min)
            {
                int left = j + 1 < nodes.Count ? j : j - 1;
                var l = nodes[left];
                var r = nodes[left + 1];
                if (l.Count + r.Count <= _blockMax)
                {
                    int? parent = ParentOf(k, left + 1);
                    l.Count += r.Count;
                    nodes.RemoveAt(left + 1);
                    free(r.Fsb);
                    if (parent is int p)
                    {
                        _levels[k + 1][p].Count--;
                        MarkPath(k + 1, Math.Min(p, _levels[k + 1].Count - 1));
                    }
                    MarkNode(k, left + 1);
                    MarkPath(k, left);
                    j = left;
                    continue;
                }
                int total = l.Count + r.Count;
                l.Count = total / 2;
                r.Count = total - total / 2;
                MarkPath(k, left);
                MarkPath(k, left + 1);
            }
            j++;
        }
    }

    // ------------------------------------------------------------ encode

    /// <summary>
    /// Writes every changed block of the tree into its buffer through <paramref name="tp"/>
    /// (new blocks initialised, old ones read and logged where their bytes differ).
    /// </summary>
    internal void Flush(XfsTransaction tp, IReadOnlyList<XfsBmbtRecord> records, ulong owner)
    {
        var mp = tp.Mount;
        var geo = mp.Geometry;
        var firstRecord = FirstRecordIndexes();
        byte[] scratch = new byte[geo.BlockSize];
        for (int k = 0; k < _levels.Count; k++)
        {
            var nodes = _levels[k];
            int childStart = 0;
            for (int j = 0; j < nodes.Count; j++)
            {
                var n = nodes[j];
                if (n.Dirty)
                {
                    Array.Clear(scratch);
                    var header = new XfsBtreeLongBlock
                    {
                        Level = (ushort)k,
                        NumRecs = checked((ushort)n.Count),
                        LeftSib = j > 0 ? nodes[j - 1].Fsb : XfsBtreeLongBlock.NullFsBlock,
                        RightSib = j + 1 < nodes.Count ? nodes[j + 1].Fsb : XfsBtreeLongBlock.NullFsBlock,
                        BlkNo = geo.AgBlockToDaddr(geo.FsbToAgno(n.Fsb), geo.FsbToAgbno(n.Fsb)),
                        Uuid = mp.MetadataUuid,
                        Owner = owner,
                    };
                    header.WriteHeader(scratch);
                    if (k == 0)
                    {
                        int first = firstRecord[0][j];
                        for (int i = 0; i < n.Count; i++)
                            records[first + i].WriteTo(scratch.AsSpan(XfsBtreeLongBlock.RecordOffset(i), XfsBmbtRecord.Size));
                    }
                    else
                    {
                        var below = firstRecord[k - 1];
                        var children = _levels[k - 1];
                        for (int i = 0; i < n.Count; i++)
                        {
                            Be.Put64(scratch, XfsBtreeLongBlock.KeyOffset(i), records[below[childStart + i]].StartOff);
                            Be.Put64(scratch, XfsBtreeLongBlock.PointerOffset(i, scratch.Length), children[childStart + i].Fsb);
                        }
                    }
                    ulong daddr = header.BlkNo;
                    var bp = n.IsNew
                        ? tp.GetBuffer(daddr, geo.BlockSize, XfsBmbtBufferOps.Instance)
                        : tp.ReadBuffer(daddr, geo.BlockSize, XfsBmbtBufferOps.Instance);
                    tp.LogChanges(bp, 0, scratch, XfsBtreeLongBlock.CrcOffset);
                    n.Dirty = false;
                    n.IsNew = false;
                }
                childStart += n.Count;
            }
        }
    }

    /// <summary>Writes the inode root (bmdr block: level, numrecs, keys, pointers) into <paramref name="fork"/>.</summary>
    internal void WriteRoot(Span<byte> fork, IReadOnlyList<XfsBmbtRecord> records)
    {
        if (RootMaxFor(fork.Length) != _rootMax)
            throw new InvalidOperationException($"the fork is {fork.Length} bytes, the tree was built for a root of {_rootMax} pointers");
        fork.Clear();
        var top = _levels[^1];
        var firstRecord = FirstRecordIndexes()[^1];
        Be.Put16(fork, 0, (ushort)_levels.Count);
        Be.Put16(fork, 2, (ushort)top.Count);
        for (int i = 0; i < top.Count; i++)
        {
            Be.Put64(fork, 4 + i * 8, records[firstRecord[i]].StartOff);
            Be.Put64(fork, 4 + _rootMax * 8 + i * 8, top[i].Fsb);
        }
    }

    // For each level, the index in the record list of the first record under each block.
    private int[][] FirstRecordIndexes()
    {
        var result = new int[_levels.Count][];
        for (int k = 0; k < _levels.Count; k++)
        {
            var nodes = _levels[k];
            result[k] = new int[nodes.Count];
            int child = 0;
            int record = 0;
            for (int j = 0; j < nodes.Count; j++)
            {
                result[k][j] = k == 0 ? record : result[k - 1][child];
                record += nodes[j].Count;
                child += nodes[j].Count;
            }
        }
        return result;
    }

    // ------------------------------------------------------------ load

    /// <summary>
    /// Reads the tree rooted at <paramref name="root"/> (the fork's bytes) of inode
    /// <paramref name="owner"/>: every block through <paramref name="readBlock"/> (fsb to verified
    /// block bytes), appending the records in order to <paramref name="records"/>. Checks what
    /// xfs_repair's bmbt scan checks: levels, owner, siblings, keys equal to the first offset
    /// below them, record order, no block twice. Throws <see cref="XfsCorruptionException"/>.
    /// </summary>
    internal static XfsBmbtTree Load(ReadOnlySpan<byte> root, ulong owner, XfsGeometry geo, Guid uuid, Func<ulong, byte[]> readBlock, List<XfsBmbtRecord> records)
    {
        string name = $"inode {owner} bmbt root";
        int rootMax = RootMaxFor(root.Length);
        Be.Need(root, 4, name);
        int level = Be.U16(root, 0);
        int numrecs = Be.U16(root, 2);
        if (level < 1 || level >= XfsBtreeLongBlock.MaxLevels)
            throw XfsCorruptionException.BadField(name, "level", level, $"1 to {XfsBtreeLongBlock.MaxLevels - 1}");
        if (numrecs < 1 || numrecs > rootMax)
            throw XfsCorruptionException.BadField(name, "numrecs", numrecs, $"1 to {rootMax}");
        int blockMax = XfsBtreeLongBlock.MaxRecords(geo.BlockSize);
        var levels = new List<List<XfsBmbtNode>>();
        for (int k = 0; k < level; k++)
            levels.Add([]);
        var seen = new HashSet<ulong>();
        var loader = new Loader(geo, uuid, owner, readBlock, records, levels, seen, blockMax);
        for (int i = 0; i < numrecs; i++)
        {
            ulong key = Be.U64(root, 4 + i * 8);
            ulong ptr = Be.U64(root, 4 + rootMax * 8 + i * 8);
            loader.Visit(ptr, level - 1, key, isRootChild: true);
        }
        loader.CheckLastSiblings();
        return new XfsBmbtTree(levels, blockMax, rootMax);
    }

    private sealed class Loader(XfsGeometry geo, Guid uuid, ulong owner, Func<ulong, byte[]> readBlock, List<XfsBmbtRecord> records, List<List<XfsBmbtNode>> levels, HashSet<ulong> seen, int blockMax)
    {
        private readonly XfsBtreeLongBlock?[] _last = new XfsBtreeLongBlock?[levels.Count];

        public void Visit(ulong fsb, int level, ulong key, bool isRootChild)
        {
            string name = $"bmbt block {fsb} of inode {owner}";
            if (!geo.IsValidFsb(fsb) || geo.FsbToAgbno(fsb) == 0)
                throw new XfsCorruptionException($"inode {owner} bmbt", $"pointer to block {fsb}, which is not a data block of this filesystem");
            if (!seen.Add(fsb))
                throw new XfsCorruptionException(name, "the tree reaches this block twice");
            byte[] data = readBlock(fsb);
            ulong daddr = geo.AgBlockToDaddr(geo.FsbToAgno(fsb), geo.FsbToAgbno(fsb));
            // The block comes from the buffer cache, verified when it was read.
            var b = XfsBtreeLongBlock.ReadFrom(data, fsb, daddr, owner, uuid, verifyCrc: false);
            if (b.Level != level)
                throw XfsCorruptionException.BadField(name, "level", b.Level, $"expected {level}");
            if (!isRootChild && b.NumRecs < blockMax / 2)
                throw XfsCorruptionException.BadField(name, "numrecs", b.NumRecs, $"a block below the root's children holds at least {blockMax / 2}");
            var previous = _last[level];
            ulong expectedLeft = previous == null ? XfsBtreeLongBlock.NullFsBlock : levels[level][^1].Fsb;
            if (b.LeftSib != expectedLeft)
                throw XfsCorruptionException.BadField(name, "leftsib", b.LeftSib, $"the block before it on level {level} is {expectedLeft}");
            if (previous != null && previous.RightSib != fsb)
                throw XfsCorruptionException.BadField($"bmbt block {levels[level][^1].Fsb} of inode {owner}", "rightsib", previous.RightSib, $"the next block on level {level} is {fsb}");
            _last[level] = b;
            levels[level].Add(new XfsBmbtNode(fsb, b.NumRecs, isNew: false));
            if (level == 0)
            {
                for (int i = 0; i < b.NumRecs; i++)
                {
                    var rec = XfsBmbtRecord.ReadFrom(data.AsSpan(XfsBtreeLongBlock.RecordOffset(i), XfsBmbtRecord.Size));
                    if (i == 0 && rec.StartOff != key)
                        throw XfsCorruptionException.BadField(name, "key", key, $"the first record starts at {rec.StartOff}");
                    records.Add(rec);
                }
                return;
            }
            for (int i = 0; i < b.NumRecs; i++)
            {
                ulong childKey = Be.U64(data, XfsBtreeLongBlock.KeyOffset(i));
                if (i == 0 && childKey != key)
                    throw XfsCorruptionException.BadField(name, "key", childKey, $"the parent's key is {key}");
                Visit(Be.U64(data, XfsBtreeLongBlock.PointerOffset(i, data.Length)), level - 1, childKey, isRootChild: false);
            }
        }

        public void CheckLastSiblings()
        {
            for (int k = 0; k < _last.Length; k++)
            {
                if (_last[k] is { RightSib: not XfsBtreeLongBlock.NullFsBlock } last)
                    throw XfsCorruptionException.BadField($"bmbt block {levels[k][^1].Fsb} of inode {owner}", "rightsib", last.RightSib, "it is the last block of its level");
            }
        }
    }
}
