using System.Numerics;

namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>
/// The superblock: sector 0 of every AG (the primary in AG 0, secondaries elsewhere). Holds the
/// geometry, feature bits, the root and realtime inode numbers, and the summary counters. Only
/// the v5 (CRC) format is read or written; <see cref="WriteTo"/> fills one whole sector (the
/// bytes after the last field are zero, as xfs_repair requires) and stamps <c>sb_crc</c>.
/// </summary>
/// <remarks>Models the kernel's <c>struct xfs_dsb</c> (xfs_format.h) with the checks of <c>xfs_validate_sb_common</c> and <c>xfs_sb_read_verify</c>.</remarks>
public sealed class XfsSuperblock
{
    /// <summary>Bytes up to the end of <c>sb_meta_uuid</c>, the last v5 field.</summary>
    public const int Size = 264;

    /// <summary>sb_blocksize: filesystem block size in bytes.</summary>
    public uint BlockSize { get; set; }
    /// <summary>sb_dblocks: blocks in the data device.</summary>
    public ulong DataBlocks { get; set; }
    /// <summary>sb_rblocks: realtime blocks.</summary>
    public ulong RtBlocks { get; set; }
    /// <summary>sb_rextents: realtime extents.</summary>
    public ulong RtExtents { get; set; }
    /// <summary>sb_uuid: the filesystem's uuid.</summary>
    public Guid Uuid { get; set; }
    /// <summary>sb_logstart: first block of the internal log (an encoded fsblock number).</summary>
    public ulong LogStart { get; set; }
    /// <summary>sb_rootino: the root directory's inode number.</summary>
    public ulong RootIno { get; set; } = XfsFormat.NullFsIno;
    /// <summary>sb_rbmino: the realtime bitmap inode.</summary>
    public ulong RbmIno { get; set; } = XfsFormat.NullFsIno;
    /// <summary>sb_rsumino: the realtime summary inode.</summary>
    public ulong RsumIno { get; set; } = XfsFormat.NullFsIno;
    /// <summary>sb_rextsize: realtime extent size in blocks.</summary>
    public uint RtExtSize { get; set; }
    /// <summary>sb_agblocks: blocks per AG (the last AG may be shorter).</summary>
    public uint AgBlocks { get; set; }
    /// <summary>sb_agcount: number of AGs.</summary>
    public uint AgCount { get; set; }
    /// <summary>sb_rbmblocks: realtime bitmap blocks.</summary>
    public uint RbmBlocks { get; set; }
    /// <summary>sb_logblocks: internal log length in blocks.</summary>
    public uint LogBlocks { get; set; }
    /// <summary>sb_versionnum: version and original feature bits.</summary>
    public XfsSbVersion VersionNum { get; set; }
    /// <summary>sb_sectsize: sector size in bytes.</summary>
    public ushort SectSize { get; set; }
    /// <summary>sb_inodesize: inode size in bytes.</summary>
    public ushort InodeSize { get; set; }
    /// <summary>sb_inopblock: inodes per block.</summary>
    public ushort InoPBlock { get; set; }
    /// <summary>sb_fname: the label, up to 12 bytes, zero padded.</summary>
    public byte[] FName { get; set; } = new byte[12];
    /// <summary>sb_blocklog: log2 of sb_blocksize.</summary>
    public byte BlockLog { get; set; }
    /// <summary>sb_sectlog: log2 of sb_sectsize.</summary>
    public byte SectLog { get; set; }
    /// <summary>sb_inodelog: log2 of sb_inodesize.</summary>
    public byte InodeLog { get; set; }
    /// <summary>sb_inopblog: log2 of sb_inopblock.</summary>
    public byte InoPBLog { get; set; }
    /// <summary>sb_agblklog: log2 of sb_agblocks, rounded up (the width of the AG block field in fsblock numbers).</summary>
    public byte AgBlkLog { get; set; }
    /// <summary>sb_rextslog: log2 of sb_rextents.</summary>
    public byte RExtsLog { get; set; }
    /// <summary>sb_inprogress: mkfs has not finished (set in secondaries by mkfs.xfs).</summary>
    public byte InProgress { get; set; }
    /// <summary>sb_imax_pct: maximum percentage of space for inodes.</summary>
    public byte IMaxPct { get; set; }
    /// <summary>sb_icount: allocated inodes (a lazy counter).</summary>
    public ulong ICount { get; set; }
    /// <summary>sb_ifree: free inodes among the allocated ones.</summary>
    public ulong IFree { get; set; }
    /// <summary>sb_fdblocks: free data blocks.</summary>
    public ulong FdBlocks { get; set; }
    /// <summary>sb_frextents: free realtime extents.</summary>
    public ulong FrExtents { get; set; }
    /// <summary>sb_uquotino: user quota inode (0 = none on v5).</summary>
    public ulong UQuotIno { get; set; }
    /// <summary>sb_gquotino: group quota inode.</summary>
    public ulong GQuotIno { get; set; }
    /// <summary>sb_qflags: quota flags.</summary>
    public ushort QFlags { get; set; }
    /// <summary>sb_flags: misc flags.</summary>
    public byte Flags { get; set; }
    /// <summary>sb_shared_vn: shared version number (unused).</summary>
    public byte SharedVn { get; set; }
    /// <summary>sb_inoalignmt: inode chunk alignment in blocks.</summary>
    public uint InoAlignMt { get; set; }
    /// <summary>sb_unit: stripe unit in blocks.</summary>
    public uint Unit { get; set; }
    /// <summary>sb_width: stripe width in blocks.</summary>
    public uint Width { get; set; }
    /// <summary>sb_dirblklog: log2 of directory block size in filesystem blocks.</summary>
    public byte DirBlkLog { get; set; }
    /// <summary>sb_logsectlog: log2 of the log sector size (0 = the data sector size).</summary>
    public byte LogSectLog { get; set; }
    /// <summary>sb_logsectsize: log sector size (0 = the data sector size).</summary>
    public ushort LogSectSize { get; set; }
    /// <summary>sb_logsunit: log stripe unit in bytes.</summary>
    public uint LogSUnit { get; set; }
    /// <summary>sb_features2.</summary>
    public XfsSbFeatures2 Features2 { get; set; }
    /// <summary>sb_bad_features2: a copy of sb_features2 (an old alignment bug put it here).</summary>
    public XfsSbFeatures2 BadFeatures2 { get; set; }
    /// <summary>sb_features_compat.</summary>
    public uint FeaturesCompat { get; set; }
    /// <summary>sb_features_ro_compat.</summary>
    public XfsRoCompatFeatures FeaturesRoCompat { get; set; }
    /// <summary>sb_features_incompat.</summary>
    public XfsIncompatFeatures FeaturesIncompat { get; set; }
    /// <summary>sb_features_log_incompat.</summary>
    public uint FeaturesLogIncompat { get; set; }
    /// <summary>sb_crc as read (written by <see cref="WriteTo"/>).</summary>
    public uint Crc { get; private set; }
    /// <summary>sb_spino_align: sparse inode chunk alignment.</summary>
    public uint SpinoAlign { get; set; }
    /// <summary>sb_pquotino: project quota inode.</summary>
    public ulong PQuotIno { get; set; }
    /// <summary>sb_lsn: log sequence number of the last superblock update.</summary>
    public ulong Lsn { get; set; }
    /// <summary>sb_meta_uuid: the uuid metadata carries when META_UUID is set.</summary>
    public Guid MetaUuid { get; set; }

    /// <summary>The uuid stamped in every metadata block: sb_meta_uuid with META_UUID, else sb_uuid.</summary>
    public Guid MetadataUuid => (FeaturesIncompat & XfsIncompatFeatures.MetaUuid) != 0 ? MetaUuid : Uuid;

    /// <summary>The label: sb_fname up to its first zero byte.</summary>
    public string Label
    {
        get
        {
            int n = Array.IndexOf(FName, (byte)0);
            return System.Text.Encoding.UTF8.GetString(FName, 0, n < 0 ? FName.Length : n);
        }
    }

    /// <summary>A shallow copy (the label bytes copied too).</summary>
    public XfsSuperblock Clone()
    {
        var copy = (XfsSuperblock)MemberwiseClone();
        copy.FName = (byte[])FName.Clone();
        return copy;
    }

    /// <summary>
    /// Parses and verifies the superblock at the start of <paramref name="source"/> (at least
    /// one sector), the copy in AG <paramref name="agno"/>: magic, v5 version, CRC over the
    /// sector, and the geometry rules the kernel checks. Throws <see cref="XfsCorruptionException"/>
    /// naming <c>sb AGNO</c>.
    /// </summary>
    public static XfsSuperblock ReadFrom(ReadOnlySpan<byte> source, uint agno = 0)
    {
        string name = $"sb {agno}";
        Be.Need(source, XfsFormat.BasicBlockSize, name);
        uint magic = Be.U32(source, 0);
        if (magic != XfsMagic.Superblock)
            throw XfsCorruptionException.BadMagic(name, magic, XfsMagic.Superblock);
        var sb = Decode(source);
        if ((sb.VersionNum & XfsSbVersion.NumBits) != XfsSbVersion.Version5)
            throw new XfsCorruptionException(name, $"version {(int)(sb.VersionNum & XfsSbVersion.NumBits)} superblock: only v5 (crc=1) filesystems are supported");
        if (sb.SectSize is < 512 or > 32768 || !BitOperations.IsPow2((uint)sb.SectSize) || sb.SectSize != 1 << sb.SectLog)
            throw XfsCorruptionException.BadField(name, "sectsize", sb.SectSize, "not a power of two from 512 to 32768 matching sectlog");
        Be.Need(source, sb.SectSize, name);
        if (!XfsCrc.Verify(source[..sb.SectSize], XfsFormat.SuperblockCrcOffset))
            throw XfsCorruptionException.CrcMismatch(name);
        sb.Validate(name);
        return sb;
    }

    /// <summary>The fields of the superblock in <paramref name="s"/> (at least <see cref="Size"/> bytes) with no checks at all: for inspecting damaged structures.</summary>
    public static XfsSuperblock Decode(ReadOnlySpan<byte> s) => new()
    {
        BlockSize = Be.U32(s, 4),
        DataBlocks = Be.U64(s, 8),
        RtBlocks = Be.U64(s, 16),
        RtExtents = Be.U64(s, 24),
        Uuid = Be.Uuid(s, 32),
        LogStart = Be.U64(s, 48),
        RootIno = Be.U64(s, 56),
        RbmIno = Be.U64(s, 64),
        RsumIno = Be.U64(s, 72),
        RtExtSize = Be.U32(s, 80),
        AgBlocks = Be.U32(s, 84),
        AgCount = Be.U32(s, 88),
        RbmBlocks = Be.U32(s, 92),
        LogBlocks = Be.U32(s, 96),
        VersionNum = (XfsSbVersion)Be.U16(s, 100),
        SectSize = Be.U16(s, 102),
        InodeSize = Be.U16(s, 104),
        InoPBlock = Be.U16(s, 106),
        FName = s.Slice(108, 12).ToArray(),
        BlockLog = s[120],
        SectLog = s[121],
        InodeLog = s[122],
        InoPBLog = s[123],
        AgBlkLog = s[124],
        RExtsLog = s[125],
        InProgress = s[126],
        IMaxPct = s[127],
        ICount = Be.U64(s, 128),
        IFree = Be.U64(s, 136),
        FdBlocks = Be.U64(s, 144),
        FrExtents = Be.U64(s, 152),
        UQuotIno = Be.U64(s, 160),
        GQuotIno = Be.U64(s, 168),
        QFlags = Be.U16(s, 176),
        Flags = s[178],
        SharedVn = s[179],
        InoAlignMt = Be.U32(s, 180),
        Unit = Be.U32(s, 184),
        Width = Be.U32(s, 188),
        DirBlkLog = s[192],
        LogSectLog = s[193],
        LogSectSize = Be.U16(s, 194),
        LogSUnit = Be.U32(s, 196),
        Features2 = (XfsSbFeatures2)Be.U32(s, 200),
        BadFeatures2 = (XfsSbFeatures2)Be.U32(s, 204),
        FeaturesCompat = Be.U32(s, 208),
        FeaturesRoCompat = (XfsRoCompatFeatures)Be.U32(s, 212),
        FeaturesIncompat = (XfsIncompatFeatures)Be.U32(s, 216),
        FeaturesLogIncompat = Be.U32(s, 220),
        Crc = XfsCrc.Stored(s, XfsFormat.SuperblockCrcOffset),
        SpinoAlign = Be.U32(s, 228),
        PQuotIno = Be.U64(s, 232),
        Lsn = Be.U64(s, 240),
        MetaUuid = Be.Uuid(s, 248),
    };

    // XFS_MIN_AG_BLOCKS and XFS_MAX_AG_BYTES: the kernel's hard limits (mkfs.xfs is stricter).
    private const uint MinAgBlocks = 64;
    private const ulong MaxAgBytes = 1UL << 40;

    private void Validate(string name)
    {
        if (BlockSize is < 512 or > 65536 || !BitOperations.IsPow2(BlockSize) || BlockSize != 1u << BlockLog)
            throw XfsCorruptionException.BadField(name, "blocksize", BlockSize, "not a power of two from 512 to 65536 matching blocklog");
        if (BlockSize < SectSize)
            throw XfsCorruptionException.BadField(name, "blocksize", BlockSize, $"smaller than the sector size {SectSize}");
        if (InodeSize is < 256 or > 2048 || !BitOperations.IsPow2((uint)InodeSize) || InodeSize != 1 << InodeLog)
            throw XfsCorruptionException.BadField(name, "inodesize", InodeSize, "not a power of two from 256 to 2048 matching inodelog");
        if (InodeSize > BlockSize || InoPBlock != BlockSize / InodeSize || InoPBlock != 1 << InoPBLog)
            throw XfsCorruptionException.BadField(name, "inopblock", InoPBlock, $"not blocksize / inodesize ({BlockSize}/{InodeSize})");
        if (AgCount == 0)
            throw XfsCorruptionException.BadField(name, "agcount", AgCount, "no allocation groups");
        if (AgBlocks < MinAgBlocks || (ulong)AgBlocks * BlockSize > MaxAgBytes)
            throw XfsCorruptionException.BadField(name, "agblocks", AgBlocks, $"outside the AG size limits ({MinAgBlocks} blocks to 1 TiB)");
        if (AgBlkLog != (byte)BitOperations.Log2(BitOperations.RoundUpToPowerOf2(AgBlocks)))
            throw XfsCorruptionException.BadField(name, "agblklog", AgBlkLog, $"not log2 of agblocks {AgBlocks} rounded up");
        if (DataBlocks < (ulong)(AgCount - 1) * AgBlocks + MinAgBlocks || DataBlocks > (ulong)AgCount * AgBlocks)
            throw XfsCorruptionException.BadField(name, "dblocks", DataBlocks, $"does not fit {AgCount} AGs of {AgBlocks} blocks");
        if (LogBlocks == 0 || (LogStart != 0 && LogBlocks > AgBlocks))
            throw XfsCorruptionException.BadField(name, "logblocks", LogBlocks, "empty, or an internal log larger than an AG");
        if (IMaxPct > 100)
            throw XfsCorruptionException.BadField(name, "imax_pct", IMaxPct, "more than 100 percent");
        if (ICount < IFree)
            throw XfsCorruptionException.BadField(name, "ifree", IFree, $"more free inodes than allocated ({ICount})");
        if (FdBlocks > DataBlocks)
            throw XfsCorruptionException.BadField(name, "fdblocks", FdBlocks, $"more free blocks than blocks ({DataBlocks})");
        if ((Features2 & XfsSbFeatures2.Crc) == 0)
            throw new XfsCorruptionException(name, "v5 superblock without the CRC feature bit");
    }

    /// <summary>
    /// Writes the superblock into the first <see cref="SectSize"/> bytes of
    /// <paramref name="destination"/> (zeroing the rest of that sector) and stamps its CRC.
    /// </summary>
    public void WriteTo(Span<byte> destination)
    {
        int sector = SectSize == 0 ? XfsFormat.SectorSize : SectSize;
        Be.NeedRoom(destination, sector, "superblock");
        var d = destination[..sector];
        d.Clear();
        if (FName.Length > 12)
            throw new InvalidOperationException($"sb_fname is {FName.Length} bytes, at most 12");
        Be.Put32(d, 0, XfsMagic.Superblock);
        Be.Put32(d, 4, BlockSize);
        Be.Put64(d, 8, DataBlocks);
        Be.Put64(d, 16, RtBlocks);
        Be.Put64(d, 24, RtExtents);
        Be.PutUuid(d, 32, Uuid);
        Be.Put64(d, 48, LogStart);
        Be.Put64(d, 56, RootIno);
        Be.Put64(d, 64, RbmIno);
        Be.Put64(d, 72, RsumIno);
        Be.Put32(d, 80, RtExtSize);
        Be.Put32(d, 84, AgBlocks);
        Be.Put32(d, 88, AgCount);
        Be.Put32(d, 92, RbmBlocks);
        Be.Put32(d, 96, LogBlocks);
        Be.Put16(d, 100, (ushort)VersionNum);
        Be.Put16(d, 102, SectSize);
        Be.Put16(d, 104, InodeSize);
        Be.Put16(d, 106, InoPBlock);
        FName.CopyTo(d[108..120]);
        d[120] = BlockLog;
        d[121] = SectLog;
        d[122] = InodeLog;
        d[123] = InoPBLog;
        d[124] = AgBlkLog;
        d[125] = RExtsLog;
        d[126] = InProgress;
        d[127] = IMaxPct;
        Be.Put64(d, 128, ICount);
        Be.Put64(d, 136, IFree);
        Be.Put64(d, 144, FdBlocks);
        Be.Put64(d, 152, FrExtents);
        Be.Put64(d, 160, UQuotIno);
        Be.Put64(d, 168, GQuotIno);
        Be.Put16(d, 176, QFlags);
        d[178] = Flags;
        d[179] = SharedVn;
        Be.Put32(d, 180, InoAlignMt);
        Be.Put32(d, 184, Unit);
        Be.Put32(d, 188, Width);
        d[192] = DirBlkLog;
        d[193] = LogSectLog;
        Be.Put16(d, 194, LogSectSize);
        Be.Put32(d, 196, LogSUnit);
        Be.Put32(d, 200, (uint)Features2);
        Be.Put32(d, 204, (uint)BadFeatures2);
        Be.Put32(d, 208, FeaturesCompat);
        Be.Put32(d, 212, (uint)FeaturesRoCompat);
        Be.Put32(d, 216, (uint)FeaturesIncompat);
        Be.Put32(d, 220, FeaturesLogIncompat);
        Be.Put32(d, 228, SpinoAlign);
        Be.Put64(d, 232, PQuotIno);
        Be.Put64(d, 240, Lsn);
        Be.PutUuid(d, 248, MetaUuid);
        XfsCrc.Stamp(d, XfsFormat.SuperblockCrcOffset);
        Crc = XfsCrc.Stored(d, XfsFormat.SuperblockCrcOffset);
    }
}
