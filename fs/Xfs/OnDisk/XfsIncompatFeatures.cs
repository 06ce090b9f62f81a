namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary><c>sb_features_incompat</c>: features a kernel must know to mount at all.</summary>
/// <remarks>The <c>XFS_SB_FEAT_INCOMPAT_*</c> bits of the kernel's xfs_format.h.</remarks>
[Flags]
public enum XfsIncompatFeatures : uint
{
    None = 0,
    /// <summary>XFS_SB_FEAT_INCOMPAT_FTYPE: file type in directory entries.</summary>
    FType = 1 << 0,
    /// <summary>XFS_SB_FEAT_INCOMPAT_SPINODES: sparse inode chunks.</summary>
    SparseInodes = 1 << 1,
    /// <summary>XFS_SB_FEAT_INCOMPAT_META_UUID: metadata carries sb_meta_uuid, not sb_uuid.</summary>
    MetaUuid = 1 << 2,
    /// <summary>XFS_SB_FEAT_INCOMPAT_BIGTIME: 64-bit nanosecond timestamps (years 1901-2486).</summary>
    BigTime = 1 << 3,
    /// <summary>XFS_SB_FEAT_INCOMPAT_NEEDSREPAIR: xfs_repair must run before mounting.</summary>
    NeedsRepair = 1 << 4,
    /// <summary>XFS_SB_FEAT_INCOMPAT_NREXT64: 64-bit extent counters.</summary>
    NRext64 = 1 << 5,
}
