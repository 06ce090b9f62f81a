namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>
/// The AG inode header (sector 2 of every AG): inode counts, the roots and heights of the inode
/// and free-inode B+trees, their block counts (inobtcount), the most recently allocated chunk
/// and the 64 heads of the unlinked-inode hash lists. Read from and written to one whole
/// sector, whose CRC covers the sector.
/// </summary>
/// <remarks>Models the kernel's <c>struct xfs_agi</c> (xfs_format.h) with the checks of <c>xfs_agi_verify</c>.</remarks>
public sealed class XfsAgi
{
    /// <summary>Bytes up to the end of <c>agi_fblocks</c>.</summary>
    public const int Size = 344;

    /// <summary>XFS_AGI_VERSION.</summary>
    public const uint Version = 1;

    /// <summary>agi_versionnum.</summary>
    public uint VersionNum { get; set; } = Version;
    /// <summary>agi_seqno: the AG number.</summary>
    public uint SeqNo { get; set; }
    /// <summary>agi_length: blocks in this AG.</summary>
    public uint Length { get; set; }
    /// <summary>agi_count: allocated inodes (in allocated chunks).</summary>
    public uint Count { get; set; }
    /// <summary>agi_root: root of the inode B+tree.</summary>
    public uint Root { get; set; }
    /// <summary>agi_level: height of the inode B+tree.</summary>
    public uint Level { get; set; }
    /// <summary>agi_freecount: free inodes in allocated chunks.</summary>
    public uint FreeCount { get; set; }
    /// <summary>agi_newino: first inode of the most recently allocated chunk (AG-relative).</summary>
    public uint NewIno { get; set; } = XfsFormat.NullAgIno;
    /// <summary>agi_dirino: unused, always NULLAGINO.</summary>
    public uint DirIno { get; set; } = XfsFormat.NullAgIno;
    /// <summary>agi_unlinked: heads of the unlinked-but-open inode lists, hashed by inode number.</summary>
    public uint[] Unlinked { get; set; } = NewUnlinked();
    /// <summary>agi_uuid: the filesystem's metadata uuid.</summary>
    public Guid Uuid { get; set; }
    /// <summary>agi_crc as read or last written.</summary>
    public uint Crc { get; private set; }
    /// <summary>agi_lsn: log sequence number of the last write.</summary>
    public ulong Lsn { get; set; }
    /// <summary>agi_free_root: root of the free-inode B+tree.</summary>
    public uint FreeRoot { get; set; }
    /// <summary>agi_free_level: height of the free-inode B+tree.</summary>
    public uint FreeLevel { get; set; }
    /// <summary>agi_iblocks: inode B+tree blocks (inobtcount).</summary>
    public uint IBlocks { get; set; }
    /// <summary>agi_fblocks: free-inode B+tree blocks (inobtcount).</summary>
    public uint FBlocks { get; set; }

    private static uint[] NewUnlinked()
    {
        var u = new uint[XfsFormat.AgiUnlinkedBuckets];
        Array.Fill(u, XfsFormat.NullAgIno);
        return u;
    }

    /// <summary>
    /// Parses and verifies the AGI of AG <paramref name="agno"/> from <paramref name="sector"/>
    /// (exactly one sector): magic, CRC, version, sequence number, counts and tree heights.
    /// Throws <see cref="XfsCorruptionException"/> naming <c>agi AGNO</c>.
    /// </summary>
    public static XfsAgi ReadFrom(ReadOnlySpan<byte> sector, uint agno)
    {
        string name = $"agi {agno}";
        Be.Need(sector, Size, name);
        uint magic = Be.U32(sector, 0);
        if (magic != XfsMagic.Agi)
            throw XfsCorruptionException.BadMagic(name, magic, XfsMagic.Agi);
        if (!XfsCrc.Verify(sector, XfsFormat.AgiCrcOffset))
            throw XfsCorruptionException.CrcMismatch(name);
        var agi = Decode(sector);
        agi.Validate(name, agno);
        return agi;
    }

    /// <summary>The fields of the AGI in <paramref name="sector"/> with no checks at all: for inspecting damaged structures.</summary>
    public static XfsAgi Decode(ReadOnlySpan<byte> sector)
    {
        Be.Need(sector, Size, "agi");
        var agi = new XfsAgi
        {
            VersionNum = Be.U32(sector, 4),
            SeqNo = Be.U32(sector, 8),
            Length = Be.U32(sector, 12),
            Count = Be.U32(sector, 16),
            Root = Be.U32(sector, 20),
            Level = Be.U32(sector, 24),
            FreeCount = Be.U32(sector, 28),
            NewIno = Be.U32(sector, 32),
            DirIno = Be.U32(sector, 36),
            Uuid = Be.Uuid(sector, 296),
            Crc = XfsCrc.Stored(sector, XfsFormat.AgiCrcOffset),
            Lsn = Be.U64(sector, 320),
            FreeRoot = Be.U32(sector, 328),
            FreeLevel = Be.U32(sector, 332),
            IBlocks = Be.U32(sector, 336),
            FBlocks = Be.U32(sector, 340),
        };
        for (int i = 0; i < XfsFormat.AgiUnlinkedBuckets; i++)
            agi.Unlinked[i] = Be.U32(sector, 40 + 4 * i);
        return agi;
    }

    private void Validate(string name, uint agno)
    {
        if (VersionNum != Version)
            throw XfsCorruptionException.BadField(name, "versionnum", VersionNum, $"expected {Version}");
        if (SeqNo != agno)
            throw XfsCorruptionException.BadField(name, "seqno", SeqNo, $"this is AG {agno}");
        if (FreeCount > Count)
            throw XfsCorruptionException.BadField(name, "freecount", FreeCount, $"more than the {Count} allocated inodes");
        if (Level is 0 or > XfsAgf.MaxLevels)
            throw XfsCorruptionException.BadField(name, "level", Level, $"not 1 to {XfsAgf.MaxLevels}");
        if (Root == 0 || Root >= Length)
            throw XfsCorruptionException.BadField(name, "root", Root, $"outside the AG (length {Length})");
        if (FreeRoot != 0 || FreeLevel != 0)
        {
            if (FreeLevel is 0 or > XfsAgf.MaxLevels)
                throw XfsCorruptionException.BadField(name, "free_level", FreeLevel, $"not 1 to {XfsAgf.MaxLevels}");
            if (FreeRoot == 0 || FreeRoot >= Length)
                throw XfsCorruptionException.BadField(name, "free_root", FreeRoot, $"outside the AG (length {Length})");
        }
    }

    /// <summary>Writes the AGI into <paramref name="sector"/> (one whole sector, zeroed first) and stamps its CRC.</summary>
    public void WriteTo(Span<byte> sector)
    {
        Be.NeedRoom(sector, Size, "agi");
        if (Unlinked.Length != XfsFormat.AgiUnlinkedBuckets)
            throw new InvalidOperationException($"agi_unlinked has {Unlinked.Length} buckets, not {XfsFormat.AgiUnlinkedBuckets}");
        sector.Clear();
        Be.Put32(sector, 0, XfsMagic.Agi);
        Be.Put32(sector, 4, VersionNum);
        Be.Put32(sector, 8, SeqNo);
        Be.Put32(sector, 12, Length);
        Be.Put32(sector, 16, Count);
        Be.Put32(sector, 20, Root);
        Be.Put32(sector, 24, Level);
        Be.Put32(sector, 28, FreeCount);
        Be.Put32(sector, 32, NewIno);
        Be.Put32(sector, 36, DirIno);
        for (int i = 0; i < XfsFormat.AgiUnlinkedBuckets; i++)
            Be.Put32(sector, 40 + 4 * i, Unlinked[i]);
        Be.PutUuid(sector, 296, Uuid);
        Be.Put64(sector, 320, Lsn);
        Be.Put32(sector, 328, FreeRoot);
        Be.Put32(sector, 332, FreeLevel);
        Be.Put32(sector, 336, IBlocks);
        Be.Put32(sector, 340, FBlocks);
        XfsCrc.Stamp(sector, XfsFormat.AgiCrcOffset);
        Crc = XfsCrc.Stored(sector, XfsFormat.AgiCrcOffset);
    }
}
