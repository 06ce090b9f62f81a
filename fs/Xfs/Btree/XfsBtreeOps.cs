using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Xfs.Btree;

/// <summary>
/// What makes one AG B+tree different from the others, for the generic engine
/// (<see cref="XfsBtreeCursor{TRecord}"/>): its record type and how records are encoded, how a
/// node key is made from a record and compared with a search record, how full a block may get,
/// where its root lives (AGF or AGI) and where its blocks come from and go back to (the AGFL for
/// the free-space trees, the allocator for the others), with the header counters that go with
/// them.
/// </summary>
/// <remarks>Models the kernel's <c>struct xfs_btree_ops</c> (<c>rec_len</c>, <c>key_len</c>, <c>init_key_from_rec</c>, <c>key_diff</c>, <c>get_minrecs</c>/<c>get_maxrecs</c>, <c>init_ptr_from_cur</c>, <c>set_root</c>, <c>alloc_block</c>, <c>free_block</c>) for short-pointer (per-AG) trees.</remarks>
public abstract class XfsBtreeOps<TRecord>
    where TRecord : struct
{
    protected XfsBtreeOps(XfsBtreeKind kind)
    {
        Kind = kind;
    }

    /// <summary>Which tree (its magic number, name, record and key sizes).</summary>
    public XfsBtreeKind Kind { get; }

    /// <summary>Decodes a leaf record.</summary>
    public abstract TRecord ReadRecord(ReadOnlySpan<byte> source);

    /// <summary>Encodes a leaf record.</summary>
    public abstract void WriteRecord(in TRecord record, Span<byte> destination);

    /// <summary>init_key_from_rec: the node key for the encoded record <paramref name="record"/>.</summary>
    public abstract void KeyFromRecord(ReadOnlySpan<byte> record, Span<byte> key);

    /// <summary>key_diff: negative when <paramref name="key"/> sorts before <paramref name="search"/>'s key, zero when equal, positive after.</summary>
    public abstract long DiffKey(ReadOnlySpan<byte> key, in TRecord search);

    /// <summary>Why <paramref name="record"/>, read from a leaf of an AG of <paramref name="agLength"/> blocks, is impossible; null when it is fine.</summary>
    public virtual string? CheckRecord(in TRecord record, uint agLength) => null;

    /// <summary>
    /// The most entries a block at <paramref name="level"/> may hold: what fits the block unless a
    /// subclass lowers it (never below 4, so the minimum, half of it, is at least 2).
    /// </summary>
    public virtual int MaxRecords(int level, int blockSize) => Kind.MaxRecords(blockSize, level == 0);

    /// <summary>The fewest entries a block other than the root may hold: half the maximum.</summary>
    public int MinRecords(int level, int blockSize) => MaxRecords(level, blockSize) / 2;

    /// <summary>The root and height recorded in AG <paramref name="agno"/>'s header.</summary>
    public abstract XfsBtreeRoot GetRoot(XfsTransaction tp, uint agno);

    /// <summary>set_root: records a new root block and a height changed by <paramref name="levelChange"/> (+1 new root, −1 root removed).</summary>
    public abstract void SetRoot(XfsTransaction tp, uint agno, uint root, int levelChange);

    /// <summary>alloc_block: a block for the tree near <paramref name="hint"/>, or <see cref="XfsFormat.NullAgBlock"/> when none can be had.</summary>
    public abstract uint AllocBlock(XfsTransaction tp, uint agno, uint hint);

    /// <summary>free_block: gives a block the tree no longer uses back.</summary>
    public abstract void FreeBlock(XfsTransaction tp, uint agno, uint agbno);
}
