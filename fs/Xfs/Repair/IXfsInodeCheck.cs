using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Repair;

/// <summary>
/// An invariant of one allocated inode that XFS itself does not define, checked by
/// <see cref="XfsChecker"/> in phase 3 for every inode in use. This is where DaxStack's own
/// rules plug in: a sealed or immutable block map has no shared extents and no holes, and at
/// rest no inode still counts MAP_DIRECT mappings (i_mapdcount is zero).
/// </summary>
/// <remarks>The extension point xfs_repair does not have: DESIGN 5.6 asks the checker to verify invariants xfs_repair does not know (seals, i_mapdcount at rest).</remarks>
public interface IXfsInodeCheck
{
    /// <summary>
    /// The problems of <paramref name="inode"/> (verified, in use), read through
    /// <paramref name="reader"/>; empty when it holds. Each is one message about the inode.
    /// </summary>
    IEnumerable<string> Check(XfsMetadataReader reader, XfsDinode inode);
}
