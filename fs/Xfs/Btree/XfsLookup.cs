namespace DaxStack.Fs.Xfs.Btree;

/// <summary>Which record a B+tree lookup positions the cursor at, relative to the search key.</summary>
/// <remarks>The kernel's <c>xfs_lookup_t</c> (XFS_LOOKUP_EQ, XFS_LOOKUP_LE, XFS_LOOKUP_GE).</remarks>
public enum XfsLookup
{
    /// <summary>The record whose key equals the search key.</summary>
    Eq,
    /// <summary>The last record whose key is at most the search key.</summary>
    Le,
    /// <summary>The first record whose key is at least the search key.</summary>
    Ge,
}
