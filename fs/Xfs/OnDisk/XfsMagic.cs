namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>The magic numbers that open each XFS metadata structure (big-endian on disk).</summary>
/// <remarks>The <c>XFS_*_MAGIC</c> constants of the kernel's xfs_format.h, xfs_da_format.h and xfs_log_format.h.</remarks>
public static class XfsMagic
{
    /// <summary>XFS_SB_MAGIC, "XFSB".</summary>
    public const uint Superblock = 0x58465342;

    /// <summary>XFS_AGF_MAGIC, "XAGF".</summary>
    public const uint Agf = 0x58414746;

    /// <summary>XFS_AGI_MAGIC, "XAGI".</summary>
    public const uint Agi = 0x58414749;

    /// <summary>XFS_AGFL_MAGIC, "XAFL".</summary>
    public const uint Agfl = 0x5841464c;

    /// <summary>XFS_ABTB_CRC_MAGIC, "AB3B": free-space B+tree by block number.</summary>
    public const uint BnoBtree = 0x41423342;

    /// <summary>XFS_ABTC_CRC_MAGIC, "AB3C": free-space B+tree by extent size.</summary>
    public const uint CntBtree = 0x41423343;

    /// <summary>XFS_IBT_CRC_MAGIC, "IAB3": inode B+tree.</summary>
    public const uint InoBtree = 0x49414233;

    /// <summary>XFS_FIBT_CRC_MAGIC, "FIB3": free-inode B+tree.</summary>
    public const uint FinoBtree = 0x46494233;

    /// <summary>XFS_REFC_CRC_MAGIC, "R3FC": reference-count B+tree.</summary>
    public const uint RefcountBtree = 0x52334643;

    /// <summary>XFS_BMAP_CRC_MAGIC, "BMA3": block-map B+tree.</summary>
    public const uint BmapBtree = 0x424d4133;

    /// <summary>XFS_DINODE_MAGIC, "IN".</summary>
    public const ushort Dinode = 0x494e;

    /// <summary>XLOG_HEADER_MAGIC_NUM: the first word of every log record header.</summary>
    public const uint LogRecordHeader = 0xFEEDBABE;

    /// <summary>XLOG_UNMOUNT_TYPE: the payload of an unmount record (stored in host order, little-endian).</summary>
    public const ushort LogUnmount = 0x556e;
}
