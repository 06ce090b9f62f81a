namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>
/// Fixed sizes, sentinels and CRC offsets of the XFS v5 on-disk format, as this implementation
/// writes it: 4 KiB blocks, 512-byte sectors, 512-byte v3 inodes, 64-inode chunks.
/// </summary>
/// <remarks>Constants of the kernel's xfs_format.h (<c>NULLAGBLOCK</c>, <c>NULLAGINO</c>, <c>NULLFSINO</c>, <c>XFS_*_CRC_OFF</c>, <c>XFS_INODES_PER_CHUNK</c>, ...).</remarks>
public static class XfsFormat
{
    /// <summary>BBSIZE: the 512-byte basic block that disk addresses (daddrs) count.</summary>
    public const int BasicBlockSize = 512;

    /// <summary>BBSHIFT.</summary>
    public const int BasicBlockShift = 9;

    /// <summary>The one filesystem block size DAX allows here: the page size.</summary>
    public const int BlockSize = 4096;

    /// <summary>log2 of <see cref="BlockSize"/>.</summary>
    public const int BlockLog = 12;

    /// <summary>The sector size: one basic block.</summary>
    public const int SectorSize = 512;

    /// <summary>The v3 inode size (mkfs.xfs's default for v5).</summary>
    public const int InodeSize = 512;

    /// <summary>XFS_INODES_PER_CHUNK: inodes per inode B+tree record and per allocation.</summary>
    public const int InodesPerChunk = 64;

    /// <summary>XFS_MIN_AG_BLOCKS at 4 KiB blocks: an AG is at least 16 MiB (XFS_AG_MIN_BYTES).</summary>
    public const uint MinAgBlocks = 4096;

    /// <summary>XFS_AG_MAX_BLOCKS at 4 KiB blocks: an AG is under 1 TiB (XFS_AG_MAX_BYTES).</summary>
    public const uint MaxAgBlocks = (uint)((1L << 40) / BlockSize - 1);

    /// <summary>NULLAGBLOCK: no block.</summary>
    public const uint NullAgBlock = 0xFFFFFFFF;

    /// <summary>NULLAGINO: no AG-relative inode.</summary>
    public const uint NullAgIno = 0xFFFFFFFF;

    /// <summary>NULLFSINO: no inode.</summary>
    public const ulong NullFsIno = ulong.MaxValue;

    /// <summary>XFS_SB_CRC_OFF: offset of sb_crc.</summary>
    public const int SuperblockCrcOffset = 224;

    /// <summary>XFS_AGF_CRC_OFF: offset of agf_crc.</summary>
    public const int AgfCrcOffset = 216;

    /// <summary>XFS_AGI_CRC_OFF: offset of agi_crc.</summary>
    public const int AgiCrcOffset = 312;

    /// <summary>XFS_AGFL_CRC_OFF: offset of agfl_crc.</summary>
    public const int AgflCrcOffset = 32;

    /// <summary>XFS_BTREE_SBLOCK_CRC_OFF: offset of bb_crc in a short-form (AG) B+tree block.</summary>
    public const int ShortBtreeCrcOffset = 52;

    /// <summary>XFS_DINODE_CRC_OFF: offset of di_crc in a v3 inode.</summary>
    public const int DinodeCrcOffset = 100;

    /// <summary>XFS_AGI_UNLINKED_BUCKETS: hash buckets of the AGI's unlinked-inode lists.</summary>
    public const int AgiUnlinkedBuckets = 64;
}
