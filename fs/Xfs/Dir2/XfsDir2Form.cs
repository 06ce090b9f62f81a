namespace DaxStack.Fs.Xfs.Dir2;

/// <summary>The four shapes of an XFS directory.</summary>
/// <remarks>Models the kernel's <c>enum xfs_dir2_fmt</c> (XFS_DIR2_FMT_SF, _BLOCK, _LEAF, _NODE) chosen by <c>xfs_dir2_format</c>.</remarks>
public enum XfsDir2Form
{
    /// <summary>Entries in the inode's data fork.</summary>
    Shortform,
    /// <summary>One directory block holding data, leaf entries and tail.</summary>
    Block,
    /// <summary>Data blocks plus one LEAF1 block with the bests table.</summary>
    Leaf,
    /// <summary>Data blocks, a dabtree of LEAFN leaves and free-index blocks.</summary>
    Node,
}
