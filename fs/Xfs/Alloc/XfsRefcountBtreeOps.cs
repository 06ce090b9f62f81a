using DaxStack.Device.Errors;
using DaxStack.Fs.Xfs.Btree;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Xfs.Alloc;

/// <summary>
/// The reference-count B+tree of an AG (reflink filesystems): records of shared extents keyed
/// on their start block (copy-on-write staging extents, bit 31 set, sort after the shared ones).
/// Root, height and block count live in the AGF; blocks come from the allocator near the tree's
/// usual place after the other roots and go back to it.
/// </summary>
/// <remarks>Models the kernel's libxfs/xfs_refcount_btree.c (<c>xfs_refcountbt_ops</c>: <c>xfs_refcountbt_alloc_block</c>, <c>xfs_refcountbt_free_block</c>, <c>xfs_refcountbt_set_root</c>, <c>xfs_refcountbt_key_diff</c>, <c>xfs_refc_block</c>).</remarks>
public sealed class XfsRefcountBtreeOps : XfsBtreeOps<XfsRefcountRecord>
{
    public static readonly XfsRefcountBtreeOps Instance = new();

    private XfsRefcountBtreeOps()
        : base(XfsBtreeKind.Refcount)
    {
    }

    public override XfsRefcountRecord ReadRecord(ReadOnlySpan<byte> source) => XfsRefcountRecord.ReadFrom(source);

    public override void WriteRecord(in XfsRefcountRecord record, Span<byte> destination) => record.WriteTo(destination);

    public override void KeyFromRecord(ReadOnlySpan<byte> record, Span<byte> key) => record[..sizeof(uint)].CopyTo(key);

    public override long DiffKey(ReadOnlySpan<byte> key, in XfsRefcountRecord search) => (long)Be.U32(key, 0) - search.StartBlock;

    public override string? CheckRecord(in XfsRefcountRecord record, uint agLength)
    {
        uint start = record.StartBlock & ~XfsRefcountRecord.CowFlag;
        if (record.BlockCount == 0)
            return "zero-length extent";
        if (start == 0 || (ulong)start + record.BlockCount > agLength)
            return $"extent outside the AG (length {agLength})";
        bool cow = (record.StartBlock & XfsRefcountRecord.CowFlag) != 0;
        if (cow ? record.RefCount != 1 : record.RefCount < 2)
            return $"reference count {record.RefCount} impossible for a {(cow ? "copy-on-write staging" : "shared")} extent";
        return null;
    }

    public override XfsBtreeRoot GetRoot(XfsTransaction tp, uint agno)
    {
        var agf = XfsAgHeaders.ReadAgf(tp, agno);
        if (agf.RefcountRoot == 0)
            throw new XfsException(Errno.EINVAL, $"agf {agno}: the filesystem has no reference-count B+tree (reflink=0)");
        return new XfsBtreeRoot(agf.RefcountRoot, (int)agf.RefcountLevel);
    }

    public override void SetRoot(XfsTransaction tp, uint agno, uint root, int levelChange)
    {
        var agf = XfsAgHeaders.ReadAgf(tp, agno);
        agf.RefcountRoot = root;
        agf.RefcountLevel = (uint)(agf.RefcountLevel + levelChange);
        XfsAgHeaders.WriteAgf(tp, agno, agf);
    }

    public override uint AllocBlock(XfsTransaction tp, uint agno, uint hint)
    {
        if (!XfsAlloc.TryAllocate(tp, XfsAllocRequest.Near(agno, DefaultRootBlock(tp.Mount), 1, 1), out var extent))
            return XfsFormat.NullAgBlock;
        var agf = XfsAgHeaders.ReadAgf(tp, agno);
        agf.RefcountBlocks++;
        XfsAgHeaders.WriteAgf(tp, agno, agf);
        return extent.AgBno;
    }

    public override void FreeBlock(XfsTransaction tp, uint agno, uint agbno)
    {
        XfsAlloc.Free(tp, agno, agbno, 1);
        var agf = XfsAgHeaders.ReadAgf(tp, agno);
        if (agf.RefcountBlocks == 0)
            throw new XfsCorruptionException($"agf {agno}", "freeing a refcount B+tree block when agf_refcount_blocks is 0");
        agf.RefcountBlocks--;
        XfsAgHeaders.WriteAgf(tp, agno, agf);
    }

    /// <summary>xfs_refc_block: where mkfs puts the tree's root, right after the inode B+tree roots.</summary>
    private static uint DefaultRootBlock(XfsMount mp) => mp.HasFinobt ? 5u : 4u;
}
