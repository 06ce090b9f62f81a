using DaxStack.Fs.Xfs.Alloc;
using DaxStack.Fs.Xfs.Btree;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Tests.Xfs.Btree;

/// <summary>
/// The refcount B+tree with blocks allowed only a few entries, so a few hundred records make a
/// tree four or five levels tall: the engine's splits, shifts, joins and root changes at every
/// level, in a tree real XFS needs millions of records to grow. Everything but the limits is the
/// real refcount tree's.
/// </summary>
internal sealed class SmallFanoutRefcountOps(int leafMax, int nodeMax) : XfsBtreeOps<XfsRefcountRecord>(XfsBtreeKind.Refcount)
{
    private static readonly XfsRefcountBtreeOps Real = XfsRefcountBtreeOps.Instance;

    public int LeafMax => leafMax;

    public int NodeMax => nodeMax;

    public override int MaxRecords(int level, int blockSize) => level == 0 ? leafMax : nodeMax;

    public override XfsRefcountRecord ReadRecord(ReadOnlySpan<byte> source) => Real.ReadRecord(source);

    public override void WriteRecord(in XfsRefcountRecord record, Span<byte> destination) => Real.WriteRecord(record, destination);

    public override void KeyFromRecord(ReadOnlySpan<byte> record, Span<byte> key) => Real.KeyFromRecord(record, key);

    public override long DiffKey(ReadOnlySpan<byte> key, in XfsRefcountRecord search) => Real.DiffKey(key, search);

    public override string? CheckRecord(in XfsRefcountRecord record, uint agLength) => Real.CheckRecord(record, agLength);

    public override XfsBtreeRoot GetRoot(XfsTransaction tp, uint agno) => Real.GetRoot(tp, agno);

    public override void SetRoot(XfsTransaction tp, uint agno, uint root, int levelChange) => Real.SetRoot(tp, agno, root, levelChange);

    public override uint AllocBlock(XfsTransaction tp, uint agno, uint hint) => Real.AllocBlock(tp, agno, hint);

    public override void FreeBlock(XfsTransaction tp, uint agno, uint agbno) => Real.FreeBlock(tp, agno, agbno);
}
