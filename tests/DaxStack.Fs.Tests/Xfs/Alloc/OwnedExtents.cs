using DaxStack.Fs.Xfs.Alloc;

namespace DaxStack.Fs.Tests.Xfs.Alloc;

/// <summary>The extents a test has allocated and not yet freed, per AG: the model side of the allocator tests.</summary>
internal sealed class OwnedExtents
{
    private readonly List<XfsAgExtent> _extents = [];

    public IReadOnlyList<XfsAgExtent> All => _extents;

    public int Count => _extents.Count;

    public ulong Blocks => (ulong)_extents.Sum(e => (long)e.Length);

    public void Add(XfsAgExtent extent) => _extents.Add(extent);

    /// <summary>Takes [<paramref name="agbno"/>, +<paramref name="length"/>) out of the owned extent that holds it.</summary>
    public void Release(uint agno, uint agbno, uint length)
    {
        int i = _extents.FindIndex(e => e.AgNo == agno && e.AgBno <= agbno && agbno + length <= e.End);
        if (i < 0)
            throw new InvalidOperationException($"the test does not own {agno}/{agbno}+{length}");
        var e = _extents[i];
        _extents.RemoveAt(i);
        if (agbno > e.AgBno)
            _extents.Add(new XfsAgExtent(agno, e.AgBno, agbno - e.AgBno));
        if (agbno + length < e.End)
            _extents.Add(new XfsAgExtent(agno, agbno + length, e.End - (agbno + length)));
    }

    public IEnumerable<(uint Start, uint Length)> In(uint agno) =>
        _extents.Where(e => e.AgNo == agno).Select(e => (e.AgBno, e.Length));
}
