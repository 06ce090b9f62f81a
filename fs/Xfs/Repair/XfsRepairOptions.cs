namespace DaxStack.Fs.Xfs.Repair;

/// <summary>What the checker is given beyond the device: the directory checker and extra per-inode invariants.</summary>
/// <remarks>The checker's counterpart of xfs_repair's command-line switches; there is no modify mode (always <c>-n</c>).</remarks>
public sealed record XfsRepairOptions
{
    /// <summary>
    /// Lists and verifies each directory. Default <see cref="XfsShortformDirectoryChecker"/>,
    /// which reads short-form directories and reports the other formats as not checked.
    /// </summary>
    public IXfsDirectoryChecker DirectoryChecker { get; init; } = new XfsShortformDirectoryChecker();

    /// <summary>
    /// Invariants beyond XFS's own run on every allocated inode (DaxStack's seals, i_mapdcount at
    /// rest). Default none.
    /// </summary>
    public IReadOnlyList<IXfsInodeCheck> InodeChecks { get; init; } = [];

    /// <summary>The most problems recorded before the checker stops recording more (it still finishes). Default 10000.</summary>
    public int MaxProblems { get; init; } = 10000;
}
