namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>How an inode fork stores its contents (<c>di_format</c>, <c>di_aformat</c>).</summary>
/// <remarks>The kernel's <c>enum xfs_dinode_fmt</c> (XFS_DINODE_FMT_*).</remarks>
public enum XfsDinodeFormat : byte
{
    /// <summary>XFS_DINODE_FMT_DEV: a device number (and the format of free inodes).</summary>
    Dev = 0,
    /// <summary>XFS_DINODE_FMT_LOCAL: the data lives in the inode (short-form directories, short symlinks).</summary>
    Local = 1,
    /// <summary>XFS_DINODE_FMT_EXTENTS: an array of packed extent records in the inode.</summary>
    Extents = 2,
    /// <summary>XFS_DINODE_FMT_BTREE: the root of a block-map B+tree in the inode.</summary>
    Btree = 3,
    /// <summary>XFS_DINODE_FMT_UUID: unused.</summary>
    Uuid = 4,
}
