namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>A leaf entry: a name hash and the dataptr of the data entry holding the name (0 when stale).</summary>
/// <remarks>Models the kernel's <c>xfs_dir2_leaf_entry_t</c> (hashval, address).</remarks>
/// <param name="Hash">xfs_da_hashname of the name.</param>
/// <param name="Address">The entry's dataptr, or XFS_DIR2_NULL_DATAPTR for a stale entry.</param>
public readonly record struct XfsDir2LeafEntry(uint Hash, uint Address)
{
    /// <summary>Whether the entry is stale (its name was removed).</summary>
    public bool IsStale => Address == XfsDir2Format.NullDataptr;
}
