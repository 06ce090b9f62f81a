namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>
/// <c>sb_versionnum</c>: the version number in the low four bits and the original feature bits
/// above it. A v5 superblock carries version 5 with NLINK, ALIGN, LOGV2, EXTFLG, DIRV2 and
/// MOREBITS (0xb4a5, what mkfs.xfs writes).
/// </summary>
/// <remarks>The <c>XFS_SB_VERSION_*</c> bits of the kernel's xfs_format.h.</remarks>
[Flags]
public enum XfsSbVersion : ushort
{
    /// <summary>XFS_SB_VERSION_NUMBITS: the version number field.</summary>
    NumBits = 0x000f,
    /// <summary>XFS_SB_VERSION_5: the v5 (CRC) format.</summary>
    Version5 = 0x0005,
    /// <summary>XFS_SB_VERSION_ATTRBIT: attributes exist.</summary>
    Attr = 0x0010,
    /// <summary>XFS_SB_VERSION_NLINKBIT: 32-bit link counts.</summary>
    Nlink = 0x0020,
    /// <summary>XFS_SB_VERSION_QUOTABIT: quota inodes are valid.</summary>
    Quota = 0x0040,
    /// <summary>XFS_SB_VERSION_ALIGNBIT: inode chunks are aligned to sb_inoalignmt.</summary>
    Align = 0x0080,
    /// <summary>XFS_SB_VERSION_DALIGNBIT: data is aligned to the stripe unit.</summary>
    DAlign = 0x0100,
    /// <summary>XFS_SB_VERSION_SHAREDBIT: shared filesystem (never set).</summary>
    Shared = 0x0200,
    /// <summary>XFS_SB_VERSION_LOGV2BIT: version 2 log.</summary>
    LogV2 = 0x0400,
    /// <summary>XFS_SB_VERSION_SECTORBIT: sector size is not 512 bytes.</summary>
    Sector = 0x0800,
    /// <summary>XFS_SB_VERSION_EXTFLGBIT: unwritten-extent flag in extent records.</summary>
    ExtFlg = 0x1000,
    /// <summary>XFS_SB_VERSION_DIRV2BIT: version 2 directories.</summary>
    DirV2 = 0x2000,
    /// <summary>XFS_SB_VERSION_BORGBIT: ASCII case-insensitive names.</summary>
    Borg = 0x4000,
    /// <summary>XFS_SB_VERSION_MOREBITSBIT: sb_features2 is valid.</summary>
    MoreBits = 0x8000,
}
