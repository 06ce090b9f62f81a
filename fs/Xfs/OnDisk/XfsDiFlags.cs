namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary><c>di_flags</c>: per-inode flags.</summary>
/// <remarks>The kernel's <c>XFS_DIFLAG_*</c> bits (xfs_format.h).</remarks>
[Flags]
public enum XfsDiFlags : ushort
{
    None = 0,
    /// <summary>XFS_DIFLAG_REALTIME: data on the realtime device.</summary>
    Realtime = 1 << 0,
    /// <summary>XFS_DIFLAG_PREALLOC: has preallocated space.</summary>
    Prealloc = 1 << 1,
    /// <summary>XFS_DIFLAG_NEWRTBM: realtime bitmap inode uses the new format (atime is the rotor).</summary>
    NewRtBm = 1 << 2,
    /// <summary>XFS_DIFLAG_IMMUTABLE.</summary>
    Immutable = 1 << 3,
    /// <summary>XFS_DIFLAG_APPEND: append only.</summary>
    Append = 1 << 4,
    /// <summary>XFS_DIFLAG_SYNC: synchronous writes.</summary>
    Sync = 1 << 5,
    /// <summary>XFS_DIFLAG_NOATIME.</summary>
    NoAtime = 1 << 6,
    /// <summary>XFS_DIFLAG_NODUMP.</summary>
    NoDump = 1 << 7,
    /// <summary>XFS_DIFLAG_RTINHERIT: new files in this directory are realtime.</summary>
    RtInherit = 1 << 8,
    /// <summary>XFS_DIFLAG_PROJINHERIT: new files inherit the project id.</summary>
    ProjInherit = 1 << 9,
    /// <summary>XFS_DIFLAG_NOSYMLINKS: no symlinks may be created here.</summary>
    NoSymlinks = 1 << 10,
    /// <summary>XFS_DIFLAG_EXTSIZE: di_extsize is the allocation hint.</summary>
    ExtSize = 1 << 11,
    /// <summary>XFS_DIFLAG_EXTSZINHERIT: new files inherit di_extsize.</summary>
    ExtSzInherit = 1 << 12,
    /// <summary>XFS_DIFLAG_NODEFRAG.</summary>
    NoDefrag = 1 << 13,
    /// <summary>XFS_DIFLAG_FILESTREAM.</summary>
    Filestream = 1 << 14,
}
