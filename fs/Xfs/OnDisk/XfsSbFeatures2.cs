namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary><c>sb_features2</c> (mirrored in <c>sb_bad_features2</c>): the second set of feature bits.</summary>
/// <remarks>The <c>XFS_SB_VERSION2_*</c> bits of the kernel's xfs_format.h.</remarks>
[Flags]
public enum XfsSbFeatures2 : uint
{
    None = 0,
    /// <summary>XFS_SB_VERSION2_LAZYSBCOUNTBIT: superblock counters are summed from the AGs at mount.</summary>
    LazySbCount = 0x00000002,
    /// <summary>XFS_SB_VERSION2_ATTR2BIT: inline attribute fork offset may move.</summary>
    Attr2 = 0x00000008,
    /// <summary>XFS_SB_VERSION2_PARENTBIT: parent pointers (unused).</summary>
    Parent = 0x00000010,
    /// <summary>XFS_SB_VERSION2_PROJID32BIT: 32-bit project ids.</summary>
    ProjId32 = 0x00000080,
    /// <summary>XFS_SB_VERSION2_CRCBIT: metadata checksums (v5).</summary>
    Crc = 0x00000100,
    /// <summary>XFS_SB_VERSION2_FTYPE: file type in directory entries (pre-v5 only; v5 uses the incompat bit).</summary>
    FType = 0x00000200,
}
