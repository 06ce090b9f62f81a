namespace DaxStack.Fs.Xfs.Alloc;

/// <summary>
/// What an allocation asks for: an extent of <see cref="MinLen"/> to <see cref="MaxLen"/> blocks
/// in AG <see cref="AgNo"/>, placed as <see cref="Type"/> says relative to <see cref="AgBno"/>,
/// starting on a multiple of <see cref="Alignment"/> blocks (exact allocations ignore it), and
/// leaving at least <see cref="MinLeft"/> blocks free in the AG afterwards (for B+tree splits
/// the same transaction may still need). <see cref="MinAlignSlop"/> is extra room the free-space
/// check demands, for callers that try an unaligned exact allocation before an aligned one.
/// </summary>
/// <remarks>Models the request fields of the kernel's <c>struct xfs_alloc_arg</c> (<c>agno</c>, <c>agbno</c>, <c>minlen</c>, <c>maxlen</c>, <c>alignment</c>, <c>minleft</c>, <c>minalignslop</c>).</remarks>
public readonly record struct XfsAllocRequest(
    XfsAllocType Type,
    uint AgNo,
    uint AgBno,
    uint MinLen,
    uint MaxLen,
    uint Alignment = 1,
    uint MinLeft = 0,
    uint MinAlignSlop = 0)
{
    /// <summary>Any <paramref name="minLen"/>..<paramref name="maxLen"/> blocks in AG <paramref name="agno"/>.</summary>
    public static XfsAllocRequest Any(uint agno, uint minLen, uint maxLen, uint alignment = 1) =>
        new(XfsAllocType.ThisAg, agno, 0, minLen, maxLen, alignment);

    /// <summary><paramref name="minLen"/>..<paramref name="maxLen"/> blocks as near block <paramref name="agbno"/> as possible.</summary>
    public static XfsAllocRequest Near(uint agno, uint agbno, uint minLen, uint maxLen, uint alignment = 1) =>
        new(XfsAllocType.NearBno, agno, agbno, minLen, maxLen, alignment);

    /// <summary><paramref name="minLen"/>..<paramref name="maxLen"/> blocks starting at block <paramref name="agbno"/>.</summary>
    public static XfsAllocRequest Exact(uint agno, uint agbno, uint minLen, uint maxLen) =>
        new(XfsAllocType.ThisBno, agno, agbno, minLen, maxLen);
}
