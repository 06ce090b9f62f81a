namespace DaxStack.Fs.Xfs.Alloc;

/// <summary>An extent of one AG: <see cref="Length"/> blocks from AG block <see cref="AgBno"/> of AG <see cref="AgNo"/>.</summary>
/// <remarks>The result fields of the kernel's <c>struct xfs_alloc_arg</c> (<c>agno</c>, <c>agbno</c>, <c>len</c>).</remarks>
public readonly record struct XfsAgExtent(uint AgNo, uint AgBno, uint Length)
{
    /// <summary>One past the last block.</summary>
    public uint End => AgBno + Length;
}
