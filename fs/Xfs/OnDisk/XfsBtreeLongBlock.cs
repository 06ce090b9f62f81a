namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>
/// The header of a block of an inode-rooted B+tree (the bmap B+tree of a data or attribute
/// fork): level, record count, 64-bit sibling pointers (filesystem block numbers), the block's
/// own disk address, the owning inode, uuid and the CRC over the whole block. Records (leaves)
/// or keys and pointers (nodes) follow at <see cref="HeaderSize"/>; write them before
/// <see cref="WriteTo"/>, which stamps the CRC.
/// </summary>
/// <remarks>Models the kernel's <c>struct xfs_btree_block</c> with its long-pointer v5 header (<c>xfs_btree_block_lhdr</c>, <c>XFS_BTREE_LBLOCK_CRC_LEN</c>) and the checks of <c>xfs_btree_lblock_v5hdr_verify</c> / <c>xfs_btree_lblock_verify</c>.</remarks>
public sealed class XfsBtreeLongBlock
{
    /// <summary>XFS_BTREE_LBLOCK_CRC_LEN: bytes before the first record.</summary>
    public const int HeaderSize = 72;

    /// <summary>Offset of bb_crc (XFS_BTREE_LBLOCK_CRC_OFF).</summary>
    public const int CrcOffset = 64;

    /// <summary>NULLFSBLOCK: no sibling.</summary>
    public const ulong NullFsBlock = ulong.MaxValue;

    /// <summary>Bytes of a node key (br_startoff).</summary>
    public const int KeySize = 8;

    /// <summary>Bytes of a node pointer (a filesystem block number).</summary>
    public const int PointerSize = 8;

    /// <summary>The deepest bmap B+tree this implementation accepts (root level at most 8).</summary>
    public const int MaxLevels = 9;

    /// <summary>bb_magic.</summary>
    public uint Magic { get; set; } = XfsMagic.BmapBtree;
    /// <summary>bb_level: 0 for a leaf.</summary>
    public ushort Level { get; set; }
    /// <summary>bb_numrecs: records (leaf) or keys (node) in the block.</summary>
    public ushort NumRecs { get; set; }
    /// <summary>bb_leftsib: left sibling filesystem block, or <see cref="NullFsBlock"/>.</summary>
    public ulong LeftSib { get; set; } = NullFsBlock;
    /// <summary>bb_rightsib: right sibling filesystem block, or <see cref="NullFsBlock"/>.</summary>
    public ulong RightSib { get; set; } = NullFsBlock;
    /// <summary>bb_blkno: the block's own disk address in 512-byte units.</summary>
    public ulong BlkNo { get; set; }
    /// <summary>bb_lsn.</summary>
    public ulong Lsn { get; set; }
    /// <summary>bb_uuid: the filesystem's metadata uuid.</summary>
    public Guid Uuid { get; set; }
    /// <summary>bb_owner: the inode whose fork the tree maps.</summary>
    public ulong Owner { get; set; }
    /// <summary>bb_crc as read or last written.</summary>
    public uint Crc { get; private set; }

    /// <summary>Keys (and records) per block: what fits after the header at 16 bytes each.</summary>
    public static int MaxRecords(int blockSize) => (blockSize - HeaderSize) / 16;

    /// <summary>The most records (leaf) or key/pointer pairs (node) a block of <paramref name="blockSize"/> bytes holds (xfs_bmbt_maxrecs).</summary>
    public static int MaxRecords(int blockSize, bool leaf) =>
        (blockSize - HeaderSize) / (leaf ? XfsBmbtRecord.Size : KeySize + PointerSize);

    /// <summary>
    /// Parses and verifies the header of <paramref name="block"/> (one whole filesystem block)
    /// named <paramref name="name"/> in messages, which should sit at disk address
    /// <paramref name="daddr"/>: magic, CRC, self address, level and record count. The owner and
    /// uuid are the caller's to compare (the checker reports them as its own findings). Throws
    /// <see cref="XfsCorruptionException"/>.
    /// </summary>
    public static XfsBtreeLongBlock ReadFrom(ReadOnlySpan<byte> block, ulong daddr, string name)
    {
        Be.Need(block, HeaderSize, name);
        uint magic = Be.U32(block, 0);
        if (magic != XfsMagic.BmapBtree)
            throw XfsCorruptionException.BadMagic(name, magic, XfsMagic.BmapBtree);
        if (!XfsCrc.Verify(block, CrcOffset))
            throw XfsCorruptionException.CrcMismatch(name);
        var b = Decode(block);
        if (b.BlkNo != daddr)
            throw XfsCorruptionException.BadField(name, "blkno", b.BlkNo, $"the block is at daddr {daddr}");
        if (b.Level >= XfsAgf.MaxLevels)
            throw XfsCorruptionException.BadField(name, "level", b.Level, $"at most {XfsAgf.MaxLevels - 1}");
        int max = MaxRecords(block.Length, b.Level == 0);
        if (b.NumRecs > max)
            throw XfsCorruptionException.BadField(name, "numrecs", b.NumRecs, $"a block holds at most {max}");
        return b;
    }

    /// <summary>Leaf record <paramref name="index"/> of <paramref name="block"/>.</summary>
    public static XfsBmbtRecord Record(ReadOnlySpan<byte> block, int index) =>
        XfsBmbtRecord.ReadFrom(block.Slice(RecordOffset(index), XfsBmbtRecord.Size));

    /// <summary>Node key <paramref name="index"/> of <paramref name="block"/>: the first file offset under pointer <paramref name="index"/>.</summary>
    public static ulong Key(ReadOnlySpan<byte> block, int index) => Be.U64(block, KeyOffset(index));

    /// <summary>Node pointer <paramref name="index"/> of <paramref name="block"/>: a filesystem block number.</summary>
    public static ulong Pointer(ReadOnlySpan<byte> block, int index) => Be.U64(block, PointerOffset(index, block.Length));

    /// <summary>
    /// Parses and verifies the header of bmap B+tree block <paramref name="block"/> (one whole
    /// filesystem block) at disk address <paramref name="daddr"/> of inode <paramref name="owner"/>
    /// (null when the caller does not know the owner): magic, CRC, self address, owner, uuid,
    /// level and record count. Throws <see cref="XfsCorruptionException"/> naming <c>bmbt block FSB</c>.
    /// </summary>
    public static XfsBtreeLongBlock ReadFrom(ReadOnlySpan<byte> block, ulong fsb, ulong daddr, ulong? owner, Guid uuid) =>
        ReadFrom(block, fsb, daddr, owner, uuid, verifyCrc: true);

    /// <summary>
    /// As <see cref="ReadFrom(ReadOnlySpan{byte}, ulong, ulong, ulong?, Guid)"/>, with
    /// <paramref name="verifyCrc"/> false for a block in a cached buffer (verified when it was
    /// read; logged changes restamp the CRC only when the buffer is written).
    /// </summary>
    public static XfsBtreeLongBlock ReadFrom(ReadOnlySpan<byte> block, ulong fsb, ulong daddr, ulong? owner, Guid uuid, bool verifyCrc)
    {
        string name = owner is ulong o ? $"bmbt block {fsb} of inode {o}" : $"bmbt block {fsb}";
        Be.Need(block, HeaderSize, name);
        uint magic = Be.U32(block, 0);
        if (magic != XfsMagic.BmapBtree)
            throw XfsCorruptionException.BadMagic(name, magic, XfsMagic.BmapBtree);
        if (verifyCrc && !XfsCrc.Verify(block, CrcOffset))
            throw XfsCorruptionException.CrcMismatch(name);
        var b = Decode(block);
        if (b.BlkNo != daddr)
            throw XfsCorruptionException.BadField(name, "blkno", b.BlkNo, $"the block is at daddr {daddr}");
        if (owner is ulong expected && b.Owner != expected)
            throw XfsCorruptionException.BadField(name, "owner", b.Owner, $"this is inode {expected}'s tree");
        if (b.Uuid != uuid)
            throw XfsCorruptionException.BadField(name, "uuid", b.Uuid, $"the filesystem's is {uuid}");
        if (b.Level >= MaxLevels)
            throw XfsCorruptionException.BadField(name, "level", b.Level, $"at most {MaxLevels - 1}");
        int max = MaxRecords(block.Length);
        if (b.NumRecs == 0 || b.NumRecs > max)
            throw XfsCorruptionException.BadField(name, "numrecs", b.NumRecs, $"a block holds 1 to {max}");
        if (b.LeftSib == fsb || b.RightSib == fsb)
            throw new XfsCorruptionException(name, "the block is its own sibling");
        return b;
    }

    /// <summary>The header fields of the block in <paramref name="block"/> with no checks at all: for inspecting damaged structures.</summary>
    public static XfsBtreeLongBlock Decode(ReadOnlySpan<byte> block)
    {
        Be.Need(block, HeaderSize, "bmbt block");
        return new XfsBtreeLongBlock
        {
            Magic = Be.U32(block, 0),
            Level = Be.U16(block, 4),
            NumRecs = Be.U16(block, 6),
            LeftSib = Be.U64(block, 8),
            RightSib = Be.U64(block, 16),
            BlkNo = Be.U64(block, 24),
            Lsn = Be.U64(block, 32),
            Uuid = Be.Uuid(block, 40),
            Owner = Be.U64(block, 56),
            Crc = XfsCrc.Stored(block, CrcOffset),
        };
    }

    /// <summary>Writes the header into the first <see cref="HeaderSize"/> bytes of <paramref name="block"/> and stamps the CRC over the whole block.</summary>
    public void WriteTo(Span<byte> block)
    {
        WriteHeader(block);
        XfsCrc.Stamp(block, CrcOffset);
        Crc = XfsCrc.Stored(block, CrcOffset);
    }

    /// <summary>Writes the header fields, leaving the CRC field as it is (for logged buffers, whose CRC is stamped at write).</summary>
    public void WriteHeader(Span<byte> block)
    {
        Be.NeedRoom(block, HeaderSize, "bmbt block");
        Be.Put32(block, 0, Magic);
        Be.Put16(block, 4, Level);
        Be.Put16(block, 6, NumRecs);
        Be.Put64(block, 8, LeftSib);
        Be.Put64(block, 16, RightSib);
        Be.Put64(block, 24, BlkNo);
        Be.Put64(block, 32, Lsn);
        Be.PutUuid(block, 40, Uuid);
        Be.Put64(block, 56, Owner);
        Be.Put32(block, 68, 0);
    }

    /// <summary>Offset of key <paramref name="index"/> of a node block.</summary>
    public static int KeyOffset(int index) => HeaderSize + index * 8;

    /// <summary>Offset of pointer <paramref name="index"/> of a node block of <paramref name="blockSize"/> bytes.</summary>
    public static int PointerOffset(int index, int blockSize) => HeaderSize + MaxRecords(blockSize) * 8 + index * 8;

    /// <summary>Offset of record <paramref name="index"/> of a leaf block.</summary>
    public static int RecordOffset(int index) => HeaderSize + index * 16;
}
