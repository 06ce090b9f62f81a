namespace DaxStack.Fs.Xfs.Btree;

/// <summary>Where a B+tree's root is and how tall the tree is, as its AG header records them.</summary>
/// <remarks>The kernel's <c>agf_roots[]</c>/<c>agf_levels[]</c>, <c>agi_root</c>/<c>agi_level</c> pairs read by <c>init_ptr_from_cur</c>.</remarks>
/// <param name="Block">AG block of the root.</param>
/// <param name="Levels">Height of the tree: 1 when the root is a leaf.</param>
public readonly record struct XfsBtreeRoot(uint Block, int Levels);
