namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>
/// The address arithmetic a superblock implies: AG lengths, where each AG header sits, and the
/// conversions between AG block numbers, encoded filesystem block numbers (AG number shifted
/// above <c>sb_agblklog</c> bits), 512-byte disk addresses, byte offsets on the device, and
/// inode numbers (AG number, block in AG, inode in block).
/// </summary>
/// <remarks>Models the kernel's address macros: <c>XFS_AGB_TO_DADDR</c>, <c>XFS_AGB_TO_FSB</c>, <c>XFS_FSB_TO_AGNO</c>, <c>XFS_INO_TO_AGNO</c>, <c>XFS_AGINO_TO_INO</c>, <c>XFS_AG_DADDR</c>, ... (xfs_format.h, xfs_ag.h).</remarks>
public sealed class XfsGeometry
{
    public XfsGeometry(XfsSuperblock sb)
    {
        ArgumentNullException.ThrowIfNull(sb);
        BlockSize = (int)sb.BlockSize;
        BlockLog = sb.BlockLog;
        SectorSize = sb.SectSize;
        InodeSize = sb.InodeSize;
        InodesPerBlockLog = sb.InoPBLog;
        AgCount = sb.AgCount;
        AgBlocks = sb.AgBlocks;
        AgBlockLog = sb.AgBlkLog;
        DataBlocks = sb.DataBlocks;
        LogStart = sb.LogStart;
        LogBlocks = sb.LogBlocks;
    }

    /// <summary>sb_blocksize.</summary>
    public int BlockSize { get; }
    /// <summary>sb_blocklog.</summary>
    public int BlockLog { get; }
    /// <summary>sb_sectsize.</summary>
    public int SectorSize { get; }
    /// <summary>sb_inodesize.</summary>
    public int InodeSize { get; }
    /// <summary>sb_inopblog.</summary>
    public int InodesPerBlockLog { get; }
    /// <summary>sb_agcount.</summary>
    public uint AgCount { get; }
    /// <summary>sb_agblocks.</summary>
    public uint AgBlocks { get; }
    /// <summary>sb_agblklog.</summary>
    public int AgBlockLog { get; }
    /// <summary>sb_dblocks.</summary>
    public ulong DataBlocks { get; }
    /// <summary>sb_logstart (encoded fsblock).</summary>
    public ulong LogStart { get; }
    /// <summary>sb_logblocks.</summary>
    public uint LogBlocks { get; }

    /// <summary>Entries of the AGFL ring (xfs_agfl_size).</summary>
    public int AgflSize => XfsAgfl.EntriesFor(SectorSize);

    /// <summary>Blocks in AG <paramref name="agno"/>: sb_agblocks, except the last AG, which holds the rest.</summary>
    public uint AgLength(uint agno)
    {
        CheckAg(agno);
        return agno < AgCount - 1 ? AgBlocks : (uint)(DataBlocks - (ulong)(AgCount - 1) * AgBlocks);
    }

    /// <summary>Byte offset of AG block <paramref name="agbno"/> of AG <paramref name="agno"/> on the device.</summary>
    public long AgBlockOffset(uint agno, uint agbno) => ((long)agno * AgBlocks + agbno) << BlockLog;

    /// <summary>XFS_AGB_TO_DADDR: disk address (512-byte units) of an AG block.</summary>
    public ulong AgBlockToDaddr(uint agno, uint agbno) => (ulong)AgBlockOffset(agno, agbno) >> XfsFormat.BasicBlockShift;

    /// <summary>XFS_DADDR_TO_AGNO: the AG that disk address <paramref name="daddr"/> (512-byte units) lies in.</summary>
    public uint DaddrToAgno(ulong daddr) => (uint)((daddr >> (BlockLog - XfsFormat.BasicBlockShift)) / AgBlocks);

    /// <summary>XFS_DADDR_TO_AGBNO: the AG block that disk address <paramref name="daddr"/> lies in.</summary>
    public uint DaddrToAgbno(ulong daddr) => (uint)((daddr >> (BlockLog - XfsFormat.BasicBlockShift)) % AgBlocks);

    /// <summary>Byte offset of AG header sector <paramref name="sector"/> (0 sb, 1 AGF, 2 AGI, 3 AGFL) of AG <paramref name="agno"/>.</summary>
    public long AgHeaderOffset(uint agno, int sector) => AgBlockOffset(agno, 0) + (long)sector * SectorSize;

    /// <summary>XFS_AGB_TO_FSB: the encoded filesystem block number.</summary>
    public ulong AgBlockToFsb(uint agno, uint agbno) => ((ulong)agno << AgBlockLog) | agbno;

    /// <summary>XFS_FSB_TO_AGNO.</summary>
    public uint FsbToAgno(ulong fsb) => (uint)(fsb >> AgBlockLog);

    /// <summary>XFS_FSB_TO_AGBNO.</summary>
    public uint FsbToAgbno(ulong fsb) => (uint)(fsb & ((1UL << AgBlockLog) - 1));

    /// <summary>Whether <paramref name="fsb"/> names a block inside the filesystem.</summary>
    public bool IsValidFsb(ulong fsb) => FsbToAgno(fsb) < AgCount && FsbToAgbno(fsb) < AgLength(FsbToAgno(fsb));

    /// <summary>Byte offset of an encoded filesystem block on the device.</summary>
    public long FsbToOffset(ulong fsb) => AgBlockOffset(FsbToAgno(fsb), FsbToAgbno(fsb));

    /// <summary>Bits of an AG-relative inode number (XFS_INO_AGINO_BITS).</summary>
    public int AgInoBits => AgBlockLog + InodesPerBlockLog;

    /// <summary>XFS_AGINO_TO_INO.</summary>
    public ulong MakeIno(uint agno, uint agino) => ((ulong)agno << AgInoBits) | agino;

    /// <summary>XFS_AGB_TO_AGINO: the first inode of an AG block.</summary>
    public uint AgBlockToAgino(uint agbno) => agbno << InodesPerBlockLog;

    /// <summary>XFS_INO_TO_AGNO.</summary>
    public uint InoToAgno(ulong ino) => (uint)(ino >> AgInoBits);

    /// <summary>XFS_INO_TO_AGINO.</summary>
    public uint InoToAgino(ulong ino) => (uint)(ino & ((1UL << AgInoBits) - 1));

    /// <summary>XFS_AGINO_TO_AGBNO.</summary>
    public uint AginoToAgbno(uint agino) => agino >> InodesPerBlockLog;

    /// <summary>Whether <paramref name="ino"/> could name an inode of this filesystem (xfs_verify_ino).</summary>
    public bool IsValidIno(ulong ino)
    {
        uint agno = InoToAgno(ino);
        if (agno >= AgCount)
            return false;
        // Block 0 of every AG holds the headers, never inodes.
        uint agbno = AginoToAgbno(InoToAgino(ino));
        return agbno > 0 && agbno < AgLength(agno);
    }

    /// <summary>Byte offset of inode <paramref name="ino"/> on the device.</summary>
    public long InodeOffset(ulong ino)
    {
        uint agno = InoToAgno(ino), agino = InoToAgino(ino);
        return AgBlockOffset(agno, AginoToAgbno(agino)) + (long)(agino & ((1u << InodesPerBlockLog) - 1)) * InodeSize;
    }

    /// <summary>Byte offset of the internal log on the device.</summary>
    public long LogOffset => FsbToOffset(LogStart);

    /// <summary>Bytes of the data device the filesystem spans.</summary>
    public long DataBytes => (long)DataBlocks << BlockLog;

    private void CheckAg(uint agno)
    {
        if (agno >= AgCount)
            throw new ArgumentOutOfRangeException(nameof(agno), agno, $"the filesystem has {AgCount} AGs");
    }
}
