namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>An entry of a dabtree node: the largest hash under a child and the child's directory block.</summary>
/// <remarks>Models the kernel's <c>xfs_da_node_entry_t</c> (hashval, before).</remarks>
/// <param name="Hash">The last (largest) hash in the child's subtree.</param>
/// <param name="Before">The child's directory block number.</param>
public readonly record struct XfsDa3NodeEntry(uint Hash, uint Before);
