using System.Numerics;
using DaxStack.Device.Errors;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Mkfs;

/// <summary>
/// The geometry and placement mkfs chooses for a device, computed before anything is written:
/// AG count and size, internal log size and place, the root inode chunk, every AG's AGFL and
/// free extents, and the superblocks (the primary, and the secondary copy written to the other
/// AGs). The rules are mkfs.xfs 6.1's for this feature set (with <c>--unsupported</c>, so small
/// and many-AG filesystems are allowed), so a device gets the same layout from both tools.
/// </summary>
/// <remarks>Models mkfs.xfs's geometry calculation (<c>calc_default_ag_geometry</c>, <c>align_ag_geometry</c>, <c>calculate_log_size</c>, <c>setup_superblock</c>) and libxfs's <c>xfs_ialloc_calc_rootino</c> (mkfs/xfs_mkfs.c, libxfs/xfs_ialloc.c).</remarks>
public sealed class XfsMkfsLayout
{
    /// <summary>The fewest AGs DaxStack formats (DESIGN 5.6).</summary>
    public const uint MinAgCount = 2;

    /// <summary>
    /// Inode chunk alignment in blocks (sb_inoalignmt): XFS_INODE_BIG_CLUSTER_SIZE (8 KiB) scaled
    /// by the inode size over 256 bytes, as v5 filesystems do, in 4 KiB blocks.
    /// </summary>
    public const uint InodeAlignBlocks = 8192 * (XfsFormat.InodeSize / 256) / XfsFormat.BlockSize;

    /// <summary>Blocks of one 64-inode chunk.</summary>
    public const uint InodeChunkBlocks = XfsFormat.InodesPerChunk * XfsFormat.InodeSize / XfsFormat.BlockSize;

    /// <summary>
    /// Blocks put on each AGFL: xfs_alloc_min_freelist for one-level free-space trees (each tree
    /// may need its height plus one new block to split).
    /// </summary>
    public const uint AgflFillBlocks = 4;

    /// <summary>agf_flfirst of a fresh AG: libxfs starts the ring at index 1 (fllast 0 = empty), so the first blocks fill entries 1 to 4.</summary>
    public const uint AgflFirst = 1;

    /// <summary>Below 300 MiB mkfs.xfs uses the smallest log the kernel accepts.</summary>
    public const ulong SmallFilesystemBlocks = 300UL * 1024 * 1024 / XfsFormat.BlockSize;

    /// <summary>XFS_MIN_REALISTIC_LOG_BLOCKS: the default log is at least 64 MiB (when the AG holds it).</summary>
    public const uint RealisticLogBlocks = 64 * 1024 * 1024 / XfsFormat.BlockSize;

    /// <summary>XFS_MAX_LOG_BYTES (2 GiB − 10 MiB) in blocks.</summary>
    public const uint MaxLogBlocks = (uint)(((2L << 30) - (10L << 20)) / XfsFormat.BlockSize);

    /// <summary>Bytes mkfs.xfs zeroes at the start and end of the device to wipe other signatures (WHACK_SIZE).</summary>
    public const int WhackBytes = 128 * 1024;

    private XfsMkfsLayout(XfsSuperblock primary, XfsSuperblock secondary, XfsAgLayout[] ags, uint prealloc, uint logAgno)
    {
        Superblock = primary;
        SecondarySuperblock = secondary;
        Ags = ags;
        PreallocBlocks = prealloc;
        LogAgNo = logAgno;
        Geometry = new XfsGeometry(primary);
    }

    /// <summary>The primary superblock (AG 0) as it stands when mkfs finishes.</summary>
    public XfsSuperblock Superblock { get; }

    /// <summary>
    /// The superblock written to AGs 1 and up, as mkfs.xfs writes them: the superblock before the
    /// first inodes were allocated (sb_inprogress set, no inode counts, the free-block estimate
    /// before the AGFLs and inode chunk, no root or realtime inodes). xfs_repair compares only
    /// their geometry. See <see cref="SecondarySuperblockFor"/> for the two that name the root.
    /// </summary>
    public XfsSuperblock SecondarySuperblock { get; }

    /// <summary>
    /// The superblock for AG <paramref name="agno"/> (1 and up): <see cref="SecondarySuperblock"/>,
    /// except that the last AG's and (with more than two AGs) the middle one's also record the
    /// root inode, which mkfs.xfs writes there afterwards so xfs_repair can find the root from a
    /// backup superblock.
    /// </summary>
    public XfsSuperblock SecondarySuperblockFor(uint agno)
    {
        if (agno == 0 || agno >= Superblock.AgCount)
            throw new ArgumentOutOfRangeException(nameof(agno), agno, "secondary superblocks live in AGs 1 and up");
        uint count = Superblock.AgCount;
        bool namesRoot = agno == count - 1 || (count > 2 && agno == (count - 1) / 2);
        if (!namesRoot)
            return SecondarySuperblock;
        var sb = SecondarySuperblock.Clone();
        sb.RootIno = Superblock.RootIno;
        return sb;
    }

    /// <summary>Per-AG placement.</summary>
    public IReadOnlyList<XfsAgLayout> Ags { get; }

    /// <summary>The address arithmetic of the new filesystem.</summary>
    public XfsGeometry Geometry { get; }

    /// <summary>
    /// libxfs_prealloc_blocks: blocks at the start of every AG before free space: the header
    /// block, then the bno, cnt, inode, free-inode and (with reflink) refcount B+tree roots.
    /// </summary>
    public uint PreallocBlocks { get; }

    /// <summary>The AG holding the internal log (the middle one, as mkfs.xfs places it).</summary>
    public uint LogAgNo { get; }

    /// <summary>AG block of the bno B+tree root.</summary>
    public const uint BnoRootBlock = 1;
    /// <summary>AG block of the cnt B+tree root.</summary>
    public const uint CntRootBlock = 2;
    /// <summary>AG block of the inode B+tree root.</summary>
    public const uint InoRootBlock = 3;
    /// <summary>AG block of the free-inode B+tree root.</summary>
    public const uint FinoRootBlock = 4;
    /// <summary>AG block of the refcount B+tree root (with reflink).</summary>
    public const uint RefcountRootBlock = 5;

    /// <summary>
    /// The smallest log xfs_repair and the kernel accept for this format at 4 KiB blocks and
    /// 512-byte inodes, for AGs of up to 38 400 blocks (all AGs of a filesystem under 300 MiB
    /// with at least two AGs): what <c>xfs_log_calc_minimum_size</c> gives, as mkfs.xfs 6.1
    /// reports it. Larger filesystems get logs of at least 4 085 blocks, above the minimum for
    /// any AG size (2 580 blocks with reflink for 1 TiB AGs).
    /// </summary>
    public static uint MinLogBlocks(bool reflink) => reflink ? 1368u : 857u;

    /// <summary>
    /// Chooses the layout for a device of <paramref name="deviceBytes"/> bytes. Throws
    /// <see cref="XfsMkfsException"/> (EINVAL) naming the option or limit when it cannot.
    /// </summary>
    public static XfsMkfsLayout Plan(long deviceBytes, XfsMkfsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.BlockSize != XfsFormat.BlockSize)
            throw Invalid($"-b size={options.BlockSize}: block size must be {XfsFormat.BlockSize}: DAX maps filesystem blocks straight into page tables, so the block size must equal the page size");
        byte[] label = LabelBytes(options.Label);

        ulong dblocks = (ulong)Math.Max(0, deviceBytes) / XfsFormat.BlockSize;
        ulong minBlocks = MinAgCount * (ulong)XfsFormat.MinAgBlocks;
        if (dblocks < minBlocks)
            throw Invalid($"size {dblocks} of data subvolume is too small, minimum {minBlocks} blocks ({MinAgCount} allocation groups of {XfsFormat.MinAgBlocks} blocks)");

        var (agsize, agcount) = AgGeometry(ref dblocks, options.AgCount);
        bool reflink = options.Reflink;
        uint prealloc = reflink ? 6u : 5u;
        uint logAgno = agcount / 2;
        uint LengthOf(uint agno) => agno < agcount - 1 ? agsize : (uint)(dblocks - (ulong)(agcount - 1) * agsize);

        uint logBlocks = LogSize(dblocks, reflink, Math.Min(agsize, LengthOf(logAgno)), prealloc);
        uint rootChunk = RoundUp(prealloc + AgflFillBlocks, InodeAlignBlocks);

        var ags = new XfsAgLayout[agcount];
        for (uint agno = 0; agno < agcount; agno++)
            ags[agno] = AgPlan(agno, LengthOf(agno), prealloc, agno == logAgno ? logBlocks : 0, agno == 0 ? rootChunk : null);

        byte agblklog = (byte)BitOperations.Log2(BitOperations.RoundUpToPowerOf2(agsize));
        const int inopblog = XfsFormat.BlockLog - 9;
        ulong rootIno = (ulong)rootChunk << inopblog;
        var uuid = options.Uuid ?? Guid.NewGuid();
        ulong free = 0;
        foreach (var ag in ags)
            free += ag.FreeBlocks + (uint)ag.AgflBlocks.Length;

        var primary = new XfsSuperblock
        {
            BlockSize = XfsFormat.BlockSize,
            DataBlocks = dblocks,
            Uuid = uuid,
            LogStart = ((ulong)logAgno << agblklog) | prealloc,
            RootIno = rootIno,
            RbmIno = rootIno + 1,
            RsumIno = rootIno + 2,
            // The realtime extent size defaults to 4 KiB even with no realtime device.
            RtExtSize = 1,
            AgBlocks = agsize,
            AgCount = agcount,
            LogBlocks = logBlocks,
            VersionNum = XfsSbVersion.Version5 | XfsSbVersion.Nlink | XfsSbVersion.Align | XfsSbVersion.LogV2
                         | XfsSbVersion.ExtFlg | XfsSbVersion.DirV2 | XfsSbVersion.MoreBits,
            SectSize = XfsFormat.SectorSize,
            InodeSize = XfsFormat.InodeSize,
            InoPBlock = XfsFormat.BlockSize / XfsFormat.InodeSize,
            FName = label,
            BlockLog = XfsFormat.BlockLog,
            SectLog = 9,
            InodeLog = 9,
            InoPBLog = inopblog,
            AgBlkLog = agblklog,
            IMaxPct = DefaultIMaxPct(dblocks),
            ICount = XfsFormat.InodesPerChunk,
            IFree = XfsFormat.InodesPerChunk - 3,
            FdBlocks = free,
            InoAlignMt = InodeAlignBlocks,
            LogSUnit = 1,
            Features2 = XfsSbFeatures2.LazySbCount | XfsSbFeatures2.Attr2 | XfsSbFeatures2.ProjId32 | XfsSbFeatures2.Crc,
            BadFeatures2 = XfsSbFeatures2.LazySbCount | XfsSbFeatures2.Attr2 | XfsSbFeatures2.ProjId32 | XfsSbFeatures2.Crc,
            FeaturesRoCompat = XfsRoCompatFeatures.FinoBt | XfsRoCompatFeatures.InoBtCount | (reflink ? XfsRoCompatFeatures.Reflink : 0),
            FeaturesIncompat = XfsIncompatFeatures.FType | XfsIncompatFeatures.BigTime,
        };
        var secondary = primary.Clone();
        secondary.InProgress = 1;
        secondary.ICount = 0;
        secondary.IFree = 0;
        secondary.FdBlocks = dblocks - (ulong)agcount * prealloc - logBlocks;
        secondary.RootIno = XfsFormat.NullFsIno;
        secondary.RbmIno = XfsFormat.NullFsIno;
        secondary.RsumIno = XfsFormat.NullFsIno;
        return new XfsMkfsLayout(primary, secondary, ags, prealloc, logAgno);
    }

    private static (uint AgSize, uint AgCount) AgGeometry(ref ulong dblocks, uint? requested)
    {
        ulong agsize;
        if (requested is uint n)
        {
            if (n < MinAgCount)
                throw Invalid($"-d agcount={n}: at least {MinAgCount} allocation groups are required");
            agsize = (dblocks + n - 1) / n;
            if (agsize < XfsFormat.MinAgBlocks)
                throw Invalid($"agsize ({agsize} blocks) too small, need at least {XfsFormat.MinAgBlocks} blocks: -d agcount={n} is too many for {dblocks} blocks (at most {dblocks / XfsFormat.MinAgBlocks})");
            if (agsize > XfsFormat.MaxAgBlocks)
                throw Invalid($"agsize ({agsize} blocks) too big, maximum is {XfsFormat.MaxAgBlocks} blocks: -d agcount={n} is too few for {dblocks} blocks (at least {(dblocks + XfsFormat.MaxAgBlocks - 1) / XfsFormat.MaxAgBlocks})");
        }
        else if (dblocks >= (4UL << 40) / XfsFormat.BlockSize)
        {
            agsize = XfsFormat.MaxAgBlocks;
        }
        else
        {
            // A single device: four AGs, halved while an AG would be under the 16 MiB minimum,
            // and rounded up so no block is left over for a sliver of a last AG.
            int shift = 2;
            while (shift > 0 && dblocks >> shift < XfsFormat.MinAgBlocks)
                shift--;
            agsize = dblocks >> shift;
            if ((dblocks & ((1UL << shift) - 1)) != 0)
                agsize++;
        }
        ulong agcount = (dblocks + agsize - 1) / agsize;
        ulong last = dblocks - (agcount - 1) * agsize;
        if (last < XfsFormat.MinAgBlocks)
        {
            // mkfs.xfs drops a last AG below the minimum size rather than fail.
            agcount--;
            dblocks = agcount * agsize;
        }
        if (agcount < MinAgCount)
            throw Invalid($"{agcount} allocation group of {agsize} blocks: at least {MinAgCount} allocation groups are required");
        if (agcount > uint.MaxValue)
            throw Invalid($"{agcount} allocation groups is too many, maximum is {uint.MaxValue}");
        return ((uint)agsize, (uint)agcount);
    }

    private static uint LogSize(ulong dblocks, bool reflink, uint logAgLength, uint prealloc)
    {
        uint min = MinLogBlocks(reflink);
        ulong blocks = dblocks < SmallFilesystemBlocks ? min : Math.Max(dblocks / 2048, RealisticLogBlocks);
        blocks = Math.Max(blocks, min);
        // libxfs_alloc_ag_max_usable less one: the log leaves room in its AG for the headers,
        // the tree roots, the AGFL reserve and one block.
        ulong maxInAg = logAgLength - prealloc - AgflFillBlocks - 1;
        blocks = Math.Min(Math.Min(blocks, maxInAg), MaxLogBlocks);
        if (blocks < min)
            throw Invalid($"log size {blocks} blocks too small, minimum size is {min} blocks");
        if (dblocks >= SmallFilesystemBlocks && blocks < 2600)
            throw new InvalidOperationException($"a {blocks}-block log may be under the kernel's minimum for {logAgLength}-block AGs");
        return (uint)blocks;
    }

    private static XfsAgLayout AgPlan(uint agno, uint length, uint prealloc, uint logBlocks, uint? inodeChunk)
    {
        var used = new List<(uint Start, uint Count)> { (0, prealloc) };
        uint next = prealloc;
        (uint, uint)? log = null;
        if (logBlocks > 0)
        {
            log = (next, logBlocks);
            used.Add((next, logBlocks));
            next += logBlocks;
        }
        var agfl = new uint[AgflFillBlocks];
        for (uint i = 0; i < AgflFillBlocks; i++)
            agfl[i] = next + i;
        used.Add((next, AgflFillBlocks));
        next += AgflFillBlocks;
        if (inodeChunk is uint chunk)
        {
            if (chunk < next)
                throw new InvalidOperationException($"AG {agno}: inode chunk at {chunk} overlaps the AGFL blocks ending at {next}");
            used.Add((chunk, InodeChunkBlocks));
        }
        uint end = used.Max(u => u.Start + u.Count);
        if (end > length)
            throw Invalid($"AG {agno} of {length} blocks is too small for its metadata ({end} blocks)");
        used.Sort((a, b) => a.Start.CompareTo(b.Start));
        var free = new List<XfsAllocRecord>();
        uint cursor = 0;
        foreach (var (start, count) in used)
        {
            if (start > cursor)
                free.Add(new XfsAllocRecord(cursor, start - cursor));
            cursor = Math.Max(cursor, start + count);
        }
        if (cursor < length)
            free.Add(new XfsAllocRecord(cursor, length - cursor));
        return new XfsAgLayout
        {
            AgNo = agno,
            Length = length,
            Log = log,
            AgflBlocks = agfl,
            InodeChunk = inodeChunk,
            FreeExtents = [.. free],
        };
    }

    /// <summary>calc_default_imaxpct: 25% of space may hold inodes below 1 TiB, 5% below 50 TiB, 1% above.</summary>
    private static byte DefaultIMaxPct(ulong dblocks)
    {
        ulong tib = (1UL << 40) / XfsFormat.BlockSize;
        return dblocks < tib ? (byte)25 : dblocks < 50 * tib ? (byte)5 : (byte)1;
    }

    private static byte[] LabelBytes(string? label)
    {
        var bytes = new byte[12];
        if (string.IsNullOrEmpty(label))
            return bytes;
        byte[] encoded = System.Text.Encoding.UTF8.GetBytes(label);
        if (encoded.Length > bytes.Length)
            throw Invalid($"-L {label}: a label is at most {bytes.Length} bytes, this one is {encoded.Length}");
        if (Array.IndexOf(encoded, (byte)0) >= 0)
            throw Invalid("-L: a label cannot contain a NUL character");
        encoded.CopyTo(bytes, 0);
        return bytes;
    }

    private static uint RoundUp(uint value, uint unit) => (value + unit - 1) / unit * unit;

    private static XfsMkfsException Invalid(string message) => new(Errno.EINVAL, message);
}
