using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Repair;

/// <summary>What scanning one inode fork gave: its extents in file-offset order, the block-map B+tree blocks, and whether it could be read whole.</summary>
/// <remarks>The output of xfs_repair's <c>process_bmbt_reclist</c> / <c>process_btinode</c> for one fork (the extent list and block count it accumulates).</remarks>
internal sealed class XfsForkScan
{
    /// <summary>The extents mapped by the fork.</summary>
    public List<XfsBmbtRecord> Extents { get; } = [];

    /// <summary>Block-map B+tree blocks (not counting the root in the inode).</summary>
    public long BtreeBlocks { get; set; }

    /// <summary>Whether every block of the fork's tree verified.</summary>
    public bool Complete { get; set; } = true;

    /// <summary>Blocks the extents map.</summary>
    public long DataBlocks => Extents.Sum(e => (long)e.BlockCount);
}
