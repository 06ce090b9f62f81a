namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>The file type byte of a directory entry (the ftype feature).</summary>
/// <remarks>The kernel's <c>XFS_DIR3_FT_*</c> values (xfs_da_format.h).</remarks>
public enum XfsDirFileType : byte
{
    /// <summary>XFS_DIR3_FT_UNKNOWN.</summary>
    Unknown = 0,
    /// <summary>XFS_DIR3_FT_REG_FILE.</summary>
    RegularFile = 1,
    /// <summary>XFS_DIR3_FT_DIR.</summary>
    Directory = 2,
    /// <summary>XFS_DIR3_FT_CHRDEV.</summary>
    CharDevice = 3,
    /// <summary>XFS_DIR3_FT_BLKDEV.</summary>
    BlockDevice = 4,
    /// <summary>XFS_DIR3_FT_FIFO.</summary>
    Fifo = 5,
    /// <summary>XFS_DIR3_FT_SOCK.</summary>
    Socket = 6,
    /// <summary>XFS_DIR3_FT_SYMLINK.</summary>
    Symlink = 7,
    /// <summary>XFS_DIR3_FT_WHT: whiteout.</summary>
    Whiteout = 8,
}
