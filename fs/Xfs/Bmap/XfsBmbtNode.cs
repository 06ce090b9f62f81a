namespace DaxStack.Fs.Xfs.Bmap;

/// <summary>
/// One block of a bmap B+tree as the in-core mirror sees it: where it is and how many entries
/// (records in a leaf, child pointers in a node) it holds. Which entries those are follows from
/// the counts of the blocks before it on the same level, so blocks carry no keys of their own.
/// </summary>
/// <remarks>Stands for one <c>struct xfs_btree_block</c> of a bmbt; the kernel reads such blocks through a <c>xfs_btree_cur</c> instead of mirroring them.</remarks>
internal sealed class XfsBmbtNode
{
    public XfsBmbtNode(ulong fsb, int count, bool isNew)
    {
        Fsb = fsb;
        Count = count;
        IsNew = isNew;
        Dirty = isNew;
    }

    /// <summary>The block's filesystem block number.</summary>
    public ulong Fsb { get; }

    /// <summary>Entries in the block (bb_numrecs).</summary>
    public int Count { get; set; }

    /// <summary>Allocated by the current operation (its buffer is initialised, not read).</summary>
    public bool IsNew { get; set; }

    /// <summary>Its contents must be written (and logged) at the next flush.</summary>
    public bool Dirty { get; set; }

    public override string ToString() => $"bmbt block {Fsb} ({Count})";
}
