namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary><c>sb_features_ro_compat</c>: features a kernel without them may still mount read-only.</summary>
/// <remarks>The <c>XFS_SB_FEAT_RO_COMPAT_*</c> bits of the kernel's xfs_format.h.</remarks>
[Flags]
public enum XfsRoCompatFeatures : uint
{
    None = 0,
    /// <summary>XFS_SB_FEAT_RO_COMPAT_FINOBT: free-inode B+tree.</summary>
    FinoBt = 1 << 0,
    /// <summary>XFS_SB_FEAT_RO_COMPAT_RMAPBT: reverse-mapping B+tree.</summary>
    RmapBt = 1 << 1,
    /// <summary>XFS_SB_FEAT_RO_COMPAT_REFLINK: reference-count B+tree and shared extents.</summary>
    Reflink = 1 << 2,
    /// <summary>XFS_SB_FEAT_RO_COMPAT_INOBTCNT: the AGI counts its inode B+tree blocks.</summary>
    InoBtCount = 1 << 3,
}
