namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>
/// Constants and address arithmetic of v5 directories with one-block directory blocks: the
/// magic numbers, header sizes and CRC offsets of the block kinds, the three 32 GiB address
/// spaces of a directory's file (data blocks, then the leaf/dabtree blocks, then the free-index
/// blocks) and the 32-bit dataptr that leaf entries and readdir cookies use (a byte address in
/// the data space divided by 8).
/// </summary>
/// <remarks>Constants and macros of the kernel's xfs_da_format.h: <c>XFS_DIR3_BLOCK_MAGIC</c>, <c>XFS_DIR3_DATA_MAGIC</c>, <c>XFS_DIR3_LEAF1_MAGIC</c>, <c>XFS_DIR3_LEAFN_MAGIC</c>, <c>XFS_DA3_NODE_MAGIC</c>, <c>XFS_DIR3_FREE_MAGIC</c>, <c>XFS_DIR2_LEAF_OFFSET</c>, <c>XFS_DIR2_FREE_OFFSET</c>, <c>xfs_dir2_db_off_to_dataptr</c>, <c>xfs_dir2_data_entsize</c>, <c>XFS_DIR2_DATA_FREE_TAG</c>, <c>NULLDATAOFF</c>.</remarks>
public static class XfsDir2Format
{
    /// <summary>XFS_DIR3_BLOCK_MAGIC, "XDB3": a single-block directory (data, leaf and tail in one block).</summary>
    public const uint BlockMagic = 0x58444233;

    /// <summary>XFS_DIR3_DATA_MAGIC, "XDD3": a data block of a leaf or node directory.</summary>
    public const uint DataMagic = 0x58444433;

    /// <summary>XFS_DIR3_FREE_MAGIC, "XDF3": a free-index block of a node directory.</summary>
    public const uint FreeMagic = 0x58444633;

    /// <summary>XFS_DIR3_LEAF1_MAGIC: the single leaf block of a leaf directory.</summary>
    public const ushort Leaf1Magic = 0x3df1;

    /// <summary>XFS_DIR3_LEAFN_MAGIC: a leaf block of a node directory.</summary>
    public const ushort LeafNMagic = 0x3dff;

    /// <summary>XFS_DA3_NODE_MAGIC: an interior dabtree node.</summary>
    public const ushort NodeMagic = 0x3ebe;

    /// <summary>XFS_DIR3_DATA_CRC_OFF / XFS_DIR3_FREE_CRC_OFF: the CRC of data, block and free blocks.</summary>
    public const int DataCrcOffset = 4;

    /// <summary>XFS_DIR3_LEAF_CRC_OFF / XFS_DA3_NODE_CRC_OFF: the CRC inside xfs_da3_blkinfo.</summary>
    public const int DaCrcOffset = 12;

    /// <summary>sizeof(struct xfs_dir3_data_hdr): the header of data and block blocks (data_entry_offset).</summary>
    public const int DataHeaderSize = 64;

    /// <summary>sizeof(struct xfs_dir3_leaf_hdr), sizeof(struct xfs_da3_node_hdr) and sizeof(struct xfs_dir3_free_hdr).</summary>
    public const int DaHeaderSize = 64;

    /// <summary>Offset of the "." entry in data block 0.</summary>
    public const int DotOffset = DataHeaderSize;

    /// <summary>Offset of the ".." entry in data block 0.</summary>
    public const int DotDotOffset = DataHeaderSize + 16;

    /// <summary>Offset of the first real entry in data block 0 (data_first_offset).</summary>
    public const int FirstOffset = DataHeaderSize + 32;

    /// <summary>XFS_DIR2_DATA_FD_COUNT: entries of a data block's bestfree table.</summary>
    public const int BestFreeCount = 3;

    /// <summary>XFS_DIR2_DATA_FREE_TAG: the first two bytes of an unused region.</summary>
    public const ushort FreeTag = 0xffff;

    /// <summary>NULLDATAOFF: a hole in a bests table (no data block).</summary>
    public const ushort NullDataOff = 0xffff;

    /// <summary>XFS_DIR2_NULL_DATAPTR: the address of a stale leaf entry.</summary>
    public const uint NullDataptr = 0;

    /// <summary>sizeof(xfs_dir2_leaf_entry_t): hashval and address.</summary>
    public const int LeafEntrySize = 8;

    /// <summary>sizeof(xfs_dir2_block_tail_t): count and stale.</summary>
    public const int BlockTailSize = 8;

    /// <summary>sizeof(xfs_dir2_leaf_tail_t): bestcount.</summary>
    public const int LeafTailSize = 4;

    /// <summary>XFS_DA_NODE_MAXDEPTH: the deepest a dabtree may be.</summary>
    public const int MaxDepth = 5;

    /// <summary>MAXNAMELEN - 1: the longest name.</summary>
    public const int MaxNameLength = 255;

    /// <summary>XFS_DIR2_DATA_ALIGN_LOG: dataptrs count 8-byte units.</summary>
    public const int DataAlignLog = 3;

    /// <summary>XFS_DIR2_LEAF_OFFSET: byte offset of the leaf space (32 GiB).</summary>
    public const ulong LeafSpaceOffset = 1UL << 35;

    /// <summary>XFS_DIR2_FREE_OFFSET: byte offset of the free-index space (64 GiB).</summary>
    public const ulong FreeSpaceOffset = 2UL << 35;

    /// <summary>xfs_dir2_data_entsize: bytes of a data entry with an <paramref name="nameLength"/>-byte name (ftype on, 8-byte aligned).</summary>
    public static int DataEntrySize(int nameLength) => (8 + 1 + nameLength + 1 + 2 + 7) & ~7;

    /// <summary>geo->leafblk: the directory block where the leaf / dabtree root lives.</summary>
    public static ulong LeafBlock(int blockSize) => LeafSpaceOffset / (ulong)blockSize;

    /// <summary>geo->freeblk: the first free-index block.</summary>
    public static ulong FreeBlock(int blockSize) => FreeSpaceOffset / (ulong)blockSize;

    /// <summary>xfs_dir2_db_off_to_dataptr.</summary>
    public static uint Dataptr(ulong db, int offset, int blockSize) => (uint)(((db * (ulong)blockSize) + (ulong)offset) >> DataAlignLog);

    /// <summary>xfs_dir2_dataptr_to_db.</summary>
    public static ulong DataptrToDb(uint dataptr, int blockSize) => ((ulong)dataptr << DataAlignLog) / (ulong)blockSize;

    /// <summary>xfs_dir2_dataptr_to_off.</summary>
    public static int DataptrToOffset(uint dataptr, int blockSize) => (int)(((ulong)dataptr << DataAlignLog) % (ulong)blockSize);

    /// <summary>xfs_dir3_free_max_bests: bests one free-index block holds.</summary>
    public static int FreeMaxBests(int blockSize) => (blockSize - DaHeaderSize) / 2;

    /// <summary>Leaf entries one leafn block holds (xfs_dir3_max_leaf_ents).</summary>
    public static int LeafNMaxEntries(int blockSize) => (blockSize - DaHeaderSize) / LeafEntrySize;

    /// <summary>Entries one dabtree node holds (geo->node_ents).</summary>
    public static int NodeMaxEntries(int blockSize) => (blockSize - DaHeaderSize) / 8;

    /// <summary>Whether <paramref name="name"/> is "." or "..".</summary>
    public static bool IsDotOrDotDot(ReadOnlySpan<byte> name) =>
        name.Length is 1 or 2 && name[0] == (byte)'.' && (name.Length == 1 || name[1] == (byte)'.');
}
