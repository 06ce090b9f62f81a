using DaxStack.Fs.Xfs.Btree;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Xfs.Alloc;

/// <summary>
/// The two free-space B+trees of an AG: by block number (<see cref="Bno"/>, keyed on the start
/// block) and by size (<see cref="Cnt"/>, keyed on length then start block). Both have their
/// roots and heights in the AGF, and take their blocks from the AGFL and give them back to it
/// (counting them in agf_btreeblks), so growing them never recurses into the allocator.
/// </summary>
/// <remarks>Models the kernel's libxfs/xfs_alloc_btree.c (<c>xfs_bnobt_ops</c>, <c>xfs_cntbt_ops</c>: <c>xfs_allocbt_alloc_block</c>, <c>xfs_allocbt_free_block</c>, <c>xfs_allocbt_set_root</c>, <c>xfs_bnobt_key_diff</c>, <c>xfs_cntbt_key_diff</c>).</remarks>
public sealed class XfsAllocBtreeOps : XfsBtreeOps<XfsAllocRecord>
{
    /// <summary>The by-block free-space tree (bnobt).</summary>
    public static readonly XfsAllocBtreeOps Bno = new(XfsBtreeKind.Bno);

    /// <summary>The by-size free-space tree (cntbt).</summary>
    public static readonly XfsAllocBtreeOps Cnt = new(XfsBtreeKind.Cnt);

    private XfsAllocBtreeOps(XfsBtreeKind kind)
        : base(kind)
    {
    }

    public override XfsAllocRecord ReadRecord(ReadOnlySpan<byte> source) => XfsAllocRecord.ReadFrom(source);

    public override void WriteRecord(in XfsAllocRecord record, Span<byte> destination) => record.WriteTo(destination);

    // Both trees' keys carry start block and length, as their records do.
    public override void KeyFromRecord(ReadOnlySpan<byte> record, Span<byte> key) => record[..XfsAllocRecord.Size].CopyTo(key);

    public override long DiffKey(ReadOnlySpan<byte> key, in XfsAllocRecord search)
    {
        long start = (long)Be.U32(key, 0) - search.StartBlock;
        if (Kind == XfsBtreeKind.Bno)
            return start;
        long length = (long)Be.U32(key, 4) - search.BlockCount;
        return length != 0 ? length : start;
    }

    public override string? CheckRecord(in XfsAllocRecord record, uint agLength) =>
        record.BlockCount == 0 ? "zero-length free extent"
        : record.StartBlock == 0 || (ulong)record.StartBlock + record.BlockCount > agLength ? $"free extent outside the AG (length {agLength})"
        : null;

    public override XfsBtreeRoot GetRoot(XfsTransaction tp, uint agno)
    {
        var agf = XfsAgHeaders.ReadAgf(tp, agno);
        return Kind == XfsBtreeKind.Bno ? new XfsBtreeRoot(agf.BnoRoot, (int)agf.BnoLevel) : new XfsBtreeRoot(agf.CntRoot, (int)agf.CntLevel);
    }

    public override void SetRoot(XfsTransaction tp, uint agno, uint root, int levelChange)
    {
        var agf = XfsAgHeaders.ReadAgf(tp, agno);
        if (Kind == XfsBtreeKind.Bno)
        {
            agf.BnoRoot = root;
            agf.BnoLevel = (uint)(agf.BnoLevel + levelChange);
        }
        else
        {
            agf.CntRoot = root;
            agf.CntLevel = (uint)(agf.CntLevel + levelChange);
        }
        XfsAgHeaders.WriteAgf(tp, agno, agf);
    }

    public override uint AllocBlock(XfsTransaction tp, uint agno, uint hint) => XfsFreeList.Get(tp, agno, btreeBlock: true);

    public override void FreeBlock(XfsTransaction tp, uint agno, uint agbno) => XfsFreeList.Put(tp, agno, agbno, btreeBlock: true);
}
