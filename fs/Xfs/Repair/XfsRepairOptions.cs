namespace DaxStack.Fs.Xfs.Repair;

/// <summary>What the checker is given beyond the device: the directory checker and extra per-inode invariants.</summary>
/// <remarks>The checker's counterpart of xfs_repair's command-line switches; there is no modify mode (always <c>-n</c>).</remarks>
public sealed record XfsRepairOptions
{
    /// <summary>
    /// Lists and verifies each directory. Default <see cref="XfsDir2DirectoryChecker"/>, which
    /// verifies every directory format (short-form, block, leaf, node).
    /// </summary>
    public IXfsDirectoryChecker DirectoryChecker { get; init; } = new XfsDir2DirectoryChecker();

    /// <summary>
    /// Invariants beyond XFS's own run on every allocated inode (DaxStack's seals, i_mapdcount at
    /// rest). Default none.
    /// </summary>
    public IReadOnlyList<IXfsInodeCheck> InodeChecks { get; init; } = [];

    /// <summary>The most problems recorded before the checker stops recording more (it still finishes). Default 10000.</summary>
    public int MaxProblems { get; init; } = 10000;
}
