namespace DaxStack.Fs.Xfs.Bmap;

/// <summary>What a range of file blocks maps to.</summary>
/// <remarks>The states of the kernel's <c>struct xfs_bmbt_irec</c> as <c>xfs_bmapi_read</c> reports them (<c>HOLESTARTBLOCK</c>, <c>XFS_EXT_NORM</c>, <c>XFS_EXT_UNWRITTEN</c>).</remarks>
public enum XfsBmapState
{
    /// <summary>No blocks: reads as zeroes.</summary>
    Hole,
    /// <summary>Blocks holding file data.</summary>
    Written,
    /// <summary>Blocks allocated but not yet written (preallocated): reads as zeroes.</summary>
    Unwritten,
}

/// <summary>
/// One mapping of file blocks <see cref="StartOff"/>..+<see cref="BlockCount"/> to filesystem
/// blocks from <see cref="StartBlock"/> (meaningless for a hole).
/// </summary>
/// <remarks>Models the kernel's <c>struct xfs_bmbt_irec</c>.</remarks>
public readonly record struct XfsBmapMapping(ulong StartOff, ulong StartBlock, ulong BlockCount, XfsBmapState State)
{
    /// <summary>One past the last file block.</summary>
    public ulong EndOff => StartOff + BlockCount;

    /// <summary>Whether the range is a hole.</summary>
    public bool IsHole => State == XfsBmapState.Hole;
}
