using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Mkfs;

/// <summary>
/// What mkfs puts in one allocation group: the header block, the B+tree roots after it, the
/// internal log (in one AG), the blocks pre-filled into the AGFL, the root inode chunk (AG 0)
/// and the free extents that are everything else.
/// </summary>
/// <remarks>Models the per-AG state mkfs.xfs leaves after <c>libxfs_ag_init</c>, log placement and <c>libxfs_alloc_fix_freelist</c>.</remarks>
public sealed record XfsAgLayout
{
    /// <summary>The AG number.</summary>
    public required uint AgNo { get; init; }

    /// <summary>Blocks in the AG.</summary>
    public required uint Length { get; init; }

    /// <summary>The internal log's first AG block and length, if it lives here.</summary>
    public (uint Start, uint Blocks)? Log { get; init; }

    /// <summary>The blocks on the AGFL, in ring order from <see cref="XfsMkfsLayout.AgflFirst"/>.</summary>
    public required uint[] AgflBlocks { get; init; }

    /// <summary>The first block of the root inode chunk, if it lives here.</summary>
    public uint? InodeChunk { get; init; }

    /// <summary>The free extents, by block number.</summary>
    public required XfsAllocRecord[] FreeExtents { get; init; }

    /// <summary>agf_freeblks: blocks in the free extents.</summary>
    public uint FreeBlocks => (uint)FreeExtents.Sum(e => (long)e.BlockCount);

    /// <summary>agf_longest: the longest free extent.</summary>
    public uint Longest => FreeExtents.Length == 0 ? 0 : FreeExtents.Max(e => e.BlockCount);
}
