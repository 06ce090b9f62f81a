namespace DaxStack.Fs.Xfs.Repair;

/// <summary>What walking one AG B+tree gave: its leaf records in key order, the blocks it occupies, and whether every block could be read.</summary>
/// <remarks>The output of xfs_repair's <c>scan_sbtree</c> over one tree (records handed to the per-tree scan functions, blocks marked in the block map).</remarks>
internal sealed class XfsAgBtreeWalk
{
    /// <summary>The leaf records, each a copy of its on-disk bytes, in the order the leaves hold them.</summary>
    public List<byte[]> Records { get; } = [];

    /// <summary>The AG blocks of the tree, root first.</summary>
    public List<uint> Blocks { get; } = [];

    /// <summary>Whether every block verified and sat where it should, so <see cref="Records"/> is the whole tree.</summary>
    public bool Complete { get; set; } = true;
}
