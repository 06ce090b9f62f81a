namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>
/// The AG free-space header (sector 1 of every AG): the roots and heights of the free-space
/// B+trees (by block, by size) and of the reference-count B+tree, the AGFL ring's first, last
/// and count, and the AG's free-space summary. Read from and written to one whole sector, whose
/// CRC covers the sector.
/// </summary>
/// <remarks>Models the kernel's <c>struct xfs_agf</c> (xfs_format.h) with the checks of <c>xfs_agf_verify</c>.</remarks>
public sealed class XfsAgf
{
    /// <summary>Bytes up to the end of <c>agf_spare2</c>.</summary>
    public const int Size = 224;

    /// <summary>XFS_AGF_VERSION.</summary>
    public const uint Version = 1;

    /// <summary>XFS_BTREE_MAXLEVELS-style bound on AG B+tree heights checked when reading.</summary>
    public const uint MaxLevels = 9;

    /// <summary>agf_versionnum.</summary>
    public uint VersionNum { get; set; } = Version;
    /// <summary>agf_seqno: the AG number.</summary>
    public uint SeqNo { get; set; }
    /// <summary>agf_length: blocks in this AG.</summary>
    public uint Length { get; set; }
    /// <summary>agf_roots[XFS_BTNUM_BNO]: root of the by-block free-space B+tree.</summary>
    public uint BnoRoot { get; set; }
    /// <summary>agf_roots[XFS_BTNUM_CNT]: root of the by-size free-space B+tree.</summary>
    public uint CntRoot { get; set; }
    /// <summary>agf_roots[XFS_BTNUM_RMAP]: root of the reverse-mapping B+tree (0 without rmapbt).</summary>
    public uint RmapRoot { get; set; }
    /// <summary>agf_levels[XFS_BTNUM_BNO].</summary>
    public uint BnoLevel { get; set; }
    /// <summary>agf_levels[XFS_BTNUM_CNT].</summary>
    public uint CntLevel { get; set; }
    /// <summary>agf_levels[XFS_BTNUM_RMAP].</summary>
    public uint RmapLevel { get; set; }
    /// <summary>agf_flfirst: index of the first AGFL entry in use.</summary>
    public uint FlFirst { get; set; }
    /// <summary>agf_fllast: index of the last AGFL entry in use.</summary>
    public uint FlLast { get; set; }
    /// <summary>agf_flcount: AGFL entries in use.</summary>
    public uint FlCount { get; set; }
    /// <summary>agf_freeblks: free blocks in the free-space B+trees (the AGFL's blocks not included).</summary>
    public uint FreeBlks { get; set; }
    /// <summary>agf_longest: the longest free extent.</summary>
    public uint Longest { get; set; }
    /// <summary>agf_btreeblks: free-space B+tree blocks beyond the roots.</summary>
    public uint BtreeBlks { get; set; }
    /// <summary>agf_uuid: the filesystem's metadata uuid.</summary>
    public Guid Uuid { get; set; }
    /// <summary>agf_rmap_blocks: reverse-mapping B+tree blocks.</summary>
    public uint RmapBlocks { get; set; }
    /// <summary>agf_refcount_blocks: reference-count B+tree blocks.</summary>
    public uint RefcountBlocks { get; set; }
    /// <summary>agf_refcount_root: root of the reference-count B+tree (0 without reflink).</summary>
    public uint RefcountRoot { get; set; }
    /// <summary>agf_refcount_level: height of the reference-count B+tree.</summary>
    public uint RefcountLevel { get; set; }
    /// <summary>agf_lsn: log sequence number of the last write.</summary>
    public ulong Lsn { get; set; }
    /// <summary>agf_crc as read or last written.</summary>
    public uint Crc { get; private set; }

    /// <summary>
    /// Parses and verifies the AGF of AG <paramref name="agno"/> from <paramref name="sector"/>
    /// (exactly one sector): magic, CRC, version, sequence number and the AGFL indices for an
    /// AGFL of <paramref name="agflSize"/> entries. Throws <see cref="XfsCorruptionException"/> naming <c>agf AGNO</c>.
    /// </summary>
    public static XfsAgf ReadFrom(ReadOnlySpan<byte> sector, uint agno, int agflSize)
    {
        string name = $"agf {agno}";
        Be.Need(sector, Size, name);
        uint magic = Be.U32(sector, 0);
        if (magic != XfsMagic.Agf)
            throw XfsCorruptionException.BadMagic(name, magic, XfsMagic.Agf);
        if (!XfsCrc.Verify(sector, XfsFormat.AgfCrcOffset))
            throw XfsCorruptionException.CrcMismatch(name);
        var agf = Decode(sector);
        agf.Validate(name, agno, agflSize);
        return agf;
    }

    /// <summary>The fields of the AGF in <paramref name="sector"/> with no checks at all: for inspecting damaged structures.</summary>
    public static XfsAgf Decode(ReadOnlySpan<byte> sector)
    {
        Be.Need(sector, Size, "agf");
        return new XfsAgf
        {
            VersionNum = Be.U32(sector, 4),
            SeqNo = Be.U32(sector, 8),
            Length = Be.U32(sector, 12),
            BnoRoot = Be.U32(sector, 16),
            CntRoot = Be.U32(sector, 20),
            RmapRoot = Be.U32(sector, 24),
            BnoLevel = Be.U32(sector, 28),
            CntLevel = Be.U32(sector, 32),
            RmapLevel = Be.U32(sector, 36),
            FlFirst = Be.U32(sector, 40),
            FlLast = Be.U32(sector, 44),
            FlCount = Be.U32(sector, 48),
            FreeBlks = Be.U32(sector, 52),
            Longest = Be.U32(sector, 56),
            BtreeBlks = Be.U32(sector, 60),
            Uuid = Be.Uuid(sector, 64),
            RmapBlocks = Be.U32(sector, 80),
            RefcountBlocks = Be.U32(sector, 84),
            RefcountRoot = Be.U32(sector, 88),
            RefcountLevel = Be.U32(sector, 92),
            Lsn = Be.U64(sector, 208),
            Crc = XfsCrc.Stored(sector, XfsFormat.AgfCrcOffset),
        };
    }

    private void Validate(string name, uint agno, int agflSize)
    {
        if (VersionNum != Version)
            throw XfsCorruptionException.BadField(name, "versionnum", VersionNum, $"expected {Version}");
        if (SeqNo != agno)
            throw XfsCorruptionException.BadField(name, "seqno", SeqNo, $"this is AG {agno}");
        if (FlFirst >= agflSize || FlLast >= agflSize || FlCount > agflSize)
            throw new XfsCorruptionException(name, $"bad AGFL indices first {FlFirst} last {FlLast} count {FlCount} for {agflSize} entries");
        if (FlCount != 0 && ((long)FlLast - FlFirst + agflSize) % agflSize + 1 != FlCount)
            throw new XfsCorruptionException(name, $"AGFL count {FlCount} does not span first {FlFirst} to last {FlLast}");
        if (FreeBlks > Length || Longest > FreeBlks)
            throw new XfsCorruptionException(name, $"free space freeblks {FreeBlks} longest {Longest} does not fit length {Length}");
        CheckTree(name, "bno", BnoRoot, BnoLevel, required: true);
        CheckTree(name, "cnt", CntRoot, CntLevel, required: true);
        CheckTree(name, "refcount", RefcountRoot, RefcountLevel, required: false);
    }

    private void CheckTree(string name, string tree, uint root, uint level, bool required)
    {
        if (!required && root == 0 && level == 0)
            return;
        if (level is 0 or > MaxLevels)
            throw XfsCorruptionException.BadField(name, $"{tree} level", level, $"not 1 to {MaxLevels}");
        if (root == 0 || root >= Length)
            throw XfsCorruptionException.BadField(name, $"{tree} root", root, $"outside the AG (length {Length})");
    }

    /// <summary>Writes the AGF into <paramref name="sector"/> (one whole sector, zeroed first) and stamps its CRC.</summary>
    public void WriteTo(Span<byte> sector)
    {
        Be.NeedRoom(sector, Size, "agf");
        sector.Clear();
        Be.Put32(sector, 0, XfsMagic.Agf);
        Be.Put32(sector, 4, VersionNum);
        Be.Put32(sector, 8, SeqNo);
        Be.Put32(sector, 12, Length);
        Be.Put32(sector, 16, BnoRoot);
        Be.Put32(sector, 20, CntRoot);
        Be.Put32(sector, 24, RmapRoot);
        Be.Put32(sector, 28, BnoLevel);
        Be.Put32(sector, 32, CntLevel);
        Be.Put32(sector, 36, RmapLevel);
        Be.Put32(sector, 40, FlFirst);
        Be.Put32(sector, 44, FlLast);
        Be.Put32(sector, 48, FlCount);
        Be.Put32(sector, 52, FreeBlks);
        Be.Put32(sector, 56, Longest);
        Be.Put32(sector, 60, BtreeBlks);
        Be.PutUuid(sector, 64, Uuid);
        Be.Put32(sector, 80, RmapBlocks);
        Be.Put32(sector, 84, RefcountBlocks);
        Be.Put32(sector, 88, RefcountRoot);
        Be.Put32(sector, 92, RefcountLevel);
        Be.Put64(sector, 208, Lsn);
        XfsCrc.Stamp(sector, XfsFormat.AgfCrcOffset);
        Crc = XfsCrc.Stored(sector, XfsFormat.AgfCrcOffset);
    }
}
