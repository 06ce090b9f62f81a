namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>
/// The header of a block of an AG B+tree (free space, inodes, free inodes, reference counts):
/// level, record count, sibling pointers, the block's own disk address, owner AG, uuid and the
/// CRC over the whole block. Records (leaves) or keys and pointers (nodes) follow at
/// <see cref="HeaderSize"/>; write them before <see cref="WriteTo"/>, which stamps the CRC.
/// </summary>
/// <remarks>Models the kernel's <c>struct xfs_btree_block</c> with its short-pointer v5 header (<c>xfs_btree_block_shdr</c>) and the checks of <c>xfs_btree_sblock_v5hdr_verify</c> / <c>xfs_btree_sblock_verify</c>.</remarks>
public sealed class XfsBtreeShortBlock
{
    /// <summary>XFS_BTREE_SBLOCK_CRC_LEN: bytes before the first record.</summary>
    public const int HeaderSize = 56;

    /// <summary>Which tree the block belongs to (from its magic number).</summary>
    public XfsBtreeKind Kind { get; set; }
    /// <summary>bb_level: 0 for a leaf.</summary>
    public ushort Level { get; set; }
    /// <summary>bb_numrecs: records (leaf) or keys (node) in the block.</summary>
    public ushort NumRecs { get; set; }
    /// <summary>bb_leftsib: left sibling AG block, or NULLAGBLOCK.</summary>
    public uint LeftSib { get; set; } = XfsFormat.NullAgBlock;
    /// <summary>bb_rightsib: right sibling AG block, or NULLAGBLOCK.</summary>
    public uint RightSib { get; set; } = XfsFormat.NullAgBlock;
    /// <summary>bb_blkno: the block's own disk address in 512-byte units.</summary>
    public ulong BlkNo { get; set; }
    /// <summary>bb_lsn.</summary>
    public ulong Lsn { get; set; }
    /// <summary>bb_uuid: the filesystem's metadata uuid.</summary>
    public Guid Uuid { get; set; }
    /// <summary>bb_owner: the AG number.</summary>
    public uint Owner { get; set; }
    /// <summary>bb_crc as read or last written.</summary>
    public uint Crc { get; private set; }

    /// <summary>
    /// Parses and verifies the header of <paramref name="block"/> (one whole filesystem block),
    /// which should be a <paramref name="kind"/> block at AG block <paramref name="agbno"/> of AG
    /// <paramref name="agno"/>, disk address <paramref name="daddr"/>: magic, CRC, self address,
    /// owner, level and record count. Throws <see cref="XfsCorruptionException"/> naming
    /// <c>KIND block AGNO/AGBNO</c>.
    /// </summary>
    public static XfsBtreeShortBlock ReadFrom(ReadOnlySpan<byte> block, XfsBtreeKind kind, uint agno, uint agbno, ulong daddr)
    {
        string name = $"{kind.Name()} block {agno}/{agbno}";
        Be.Need(block, HeaderSize, name);
        uint magic = Be.U32(block, 0);
        if (magic != kind.Magic())
            throw XfsCorruptionException.BadMagic(name, magic, kind.Magic());
        if (!XfsCrc.Verify(block, XfsFormat.ShortBtreeCrcOffset))
            throw XfsCorruptionException.CrcMismatch(name);
        var b = Decode(block, kind);
        if (b.BlkNo != daddr)
            throw XfsCorruptionException.BadField(name, "blkno", b.BlkNo, $"the block is at daddr {daddr}");
        if (b.Owner != agno)
            throw XfsCorruptionException.BadField(name, "owner", b.Owner, $"this is AG {agno}");
        if (b.Level >= XfsAgf.MaxLevels)
            throw XfsCorruptionException.BadField(name, "level", b.Level, $"at most {XfsAgf.MaxLevels - 1}");
        int max = kind.MaxRecords(block.Length, b.Level == 0);
        if (b.NumRecs > max)
            throw XfsCorruptionException.BadField(name, "numrecs", b.NumRecs, $"a block holds at most {max}");
        if (b.LeftSib == agbno || b.RightSib == agbno)
            throw new XfsCorruptionException(name, "the block is its own sibling");
        return b;
    }

    /// <summary>The header fields of the <paramref name="kind"/> block in <paramref name="block"/> with no checks at all: for inspecting damaged structures.</summary>
    public static XfsBtreeShortBlock Decode(ReadOnlySpan<byte> block, XfsBtreeKind kind)
    {
        Be.Need(block, HeaderSize, kind.Name());
        return new XfsBtreeShortBlock
        {
            Kind = kind,
            Level = Be.U16(block, 4),
            NumRecs = Be.U16(block, 6),
            LeftSib = Be.U32(block, 8),
            RightSib = Be.U32(block, 12),
            BlkNo = Be.U64(block, 16),
            Lsn = Be.U64(block, 24),
            Uuid = Be.Uuid(block, 32),
            Owner = Be.U32(block, 48),
            Crc = XfsCrc.Stored(block, XfsFormat.ShortBtreeCrcOffset),
        };
    }

    /// <summary>
    /// Writes the header into the first <see cref="HeaderSize"/> bytes of <paramref name="block"/>
    /// (one whole filesystem block, records already in place) and stamps the CRC over the block.
    /// </summary>
    public void WriteTo(Span<byte> block)
    {
        Be.NeedRoom(block, HeaderSize, Kind.Name());
        if (NumRecs > Kind.MaxRecords(block.Length, Level == 0))
            throw new InvalidOperationException($"{NumRecs} records do not fit a {block.Length}-byte {Kind.Name()} block");
        Be.Put32(block, 0, Kind.Magic());
        Be.Put16(block, 4, Level);
        Be.Put16(block, 6, NumRecs);
        Be.Put32(block, 8, LeftSib);
        Be.Put32(block, 12, RightSib);
        Be.Put64(block, 16, BlkNo);
        Be.Put64(block, 24, Lsn);
        Be.PutUuid(block, 32, Uuid);
        Be.Put32(block, 48, Owner);
        XfsCrc.Stamp(block, XfsFormat.ShortBtreeCrcOffset);
        Crc = XfsCrc.Stored(block, XfsFormat.ShortBtreeCrcOffset);
    }

    /// <summary>Byte offset of leaf record <paramref name="index"/>.</summary>
    public int RecordOffset(int index) => HeaderSize + index * Kind.RecordSize();
}
