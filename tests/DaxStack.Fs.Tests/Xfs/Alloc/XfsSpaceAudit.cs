using System.Numerics;
using DaxStack.Driver.Block;
using DaxStack.Fs.Xfs;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Tests.Xfs.Alloc;

/// <summary>
/// An independent check of what is on the media, read with <see cref="XfsMetadataReader"/> (not
/// through the metadata core's cache): every AG B+tree walked level by level (levels, record
/// counts within the minimum and maximum, siblings linking each level in order, node keys equal
/// to the first key of the block below, records strictly in key order), bnobt and cntbt holding
/// the same extents, finobt holding exactly the inobt records with free inodes, the AGF, AGI and
/// superblock counters equal to what the trees hold, and every block of every AG owned exactly
/// once (headers, log, tree blocks, AGFL, free extents, inode chunks, extents the test owns).
/// </summary>
internal static class XfsSpaceAudit
{
    /// <summary>What one AG holds, as the audit read it.</summary>
    internal sealed class AgContents
    {
        public required XfsAgf Agf { get; init; }
        public required XfsAgi Agi { get; init; }
        public List<XfsAllocRecord> Free { get; } = [];
        public List<uint> Agfl { get; } = [];
        public List<XfsInobtRecord> Inodes { get; } = [];
        public List<XfsRefcountRecord> Refcounts { get; } = [];
        public Dictionary<XfsBtreeKind, List<uint>> TreeBlocks { get; } = [];

        public uint FreeBlocks => (uint)Free.Sum(e => (long)e.BlockCount);
    }

    /// <summary>Audits every AG of the filesystem on <paramref name="device"/>; fails the test listing every problem.</summary>
    /// <param name="device">The device holding the filesystem.</param>
    /// <param name="ownedByTest">Per AG, the extents the test allocated and still owns.</param>
    /// <param name="refcountLimits">Entries per refcount B+tree leaf and node when a test runs that tree with a smaller fan-out.</param>
    public static List<AgContents> Run(IBlockDeviceOperations device, Func<uint, IEnumerable<(uint Start, uint Length)>>? ownedByTest = null,
        (int Leaf, int Node)? refcountLimits = null)
    {
        var problems = new List<string>();
        var reader = XfsMetadataReader.Open(device);
        var geo = reader.Geometry;
        var ags = new List<AgContents>();
        ulong fdblocks = 0, icount = 0, ifree = 0;
        for (uint agno = 0; agno < geo.AgCount; agno++)
        {
            var ag = AuditAg(reader, agno, ownedByTest?.Invoke(agno) ?? [], refcountLimits, problems);
            ags.Add(ag);
            fdblocks += ag.Agf.FreeBlks + ag.Agf.FlCount + ag.Agf.BtreeBlks;
            icount += ag.Agi.Count;
            ifree += ag.Agi.FreeCount;
        }
        var sb = reader.Superblock;
        Check(problems, sb.FdBlocks == fdblocks, $"sb_fdblocks {sb.FdBlocks}, counted {fdblocks}");
        Check(problems, sb.ICount == icount, $"sb_icount {sb.ICount}, counted {icount}");
        Check(problems, sb.IFree == ifree, $"sb_ifree {sb.IFree}, counted {ifree}");
        Assert.That(problems, Is.Empty, "on-media audit found problems");
        return ags;
    }

    private static AgContents AuditAg(XfsMetadataReader reader, uint agno, IEnumerable<(uint Start, uint Length)> owned,
        (int Leaf, int Node)? refcountLimits, List<string> problems)
    {
        var geo = reader.Geometry;
        var sb = reader.Superblock;
        uint length = geo.AgLength(agno);
        var agf = reader.ReadAgf(agno);
        var agi = reader.ReadAgi(agno);
        var agfl = reader.ReadAgfl(agno);
        var ag = new AgContents { Agf = agf, Agi = agi };
        string at = $"AG {agno}";

        var bno = WalkTree(reader, XfsBtreeKind.Bno, agno, agf.BnoRoot, (int)agf.BnoLevel, problems);
        var cnt = WalkTree(reader, XfsBtreeKind.Cnt, agno, agf.CntRoot, (int)agf.CntLevel, problems);
        ag.TreeBlocks[XfsBtreeKind.Bno] = bno.Blocks;
        ag.TreeBlocks[XfsBtreeKind.Cnt] = cnt.Blocks;
        ag.Free.AddRange(bno.Records.Select(r => XfsAllocRecord.ReadFrom(r)));
        var bySize = cnt.Records.Select(r => XfsAllocRecord.ReadFrom(r)).ToList();
        for (int i = 1; i < ag.Free.Count; i++)
        {
            var prev = ag.Free[i - 1];
            Check(problems, (ulong)prev.StartBlock + prev.BlockCount < ag.Free[i].StartBlock,
                $"{at}: bnobt extents {prev} and {ag.Free[i]} overlap or touch (should have been merged)");
        }
        Check(problems, ag.Free.OrderBy(e => e.StartBlock).SequenceEqual(bySize.OrderBy(e => e.StartBlock)),
            $"{at}: bnobt and cntbt hold different extents ({ag.Free.Count} vs {bySize.Count})");
        Check(problems, agf.FreeBlks == ag.FreeBlocks, $"{at}: agf_freeblks {agf.FreeBlks}, counted {ag.FreeBlocks}");
        uint longest = ag.Free.Count == 0 ? 0 : ag.Free.Max(e => e.BlockCount);
        Check(problems, agf.Longest == longest, $"{at}: agf_longest {agf.Longest}, counted {longest}");
        uint btreeBlocks = (uint)(bno.Blocks.Count + cnt.Blocks.Count - 2);
        Check(problems, agf.BtreeBlks == btreeBlocks, $"{at}: agf_btreeblks {agf.BtreeBlks}, counted {btreeBlocks}");

        for (uint i = 0, slot = agf.FlFirst; i < agf.FlCount; i++, slot = (slot + 1) % (uint)geo.AgflSize)
            ag.Agfl.Add(agfl.Bno[slot]);

        var ino = WalkTree(reader, XfsBtreeKind.Ino, agno, agi.Root, (int)agi.Level, problems);
        ag.TreeBlocks[XfsBtreeKind.Ino] = ino.Blocks;
        ag.Inodes.AddRange(ino.Records.Select(r => XfsInobtRecord.ReadFrom(r)));
        uint inodes = (uint)(ag.Inodes.Count * XfsFormat.InodesPerChunk);
        uint freeInodes = (uint)ag.Inodes.Sum(r => (long)r.FreeCount);
        Check(problems, agi.Count == inodes, $"{at}: agi_count {agi.Count}, counted {inodes}");
        Check(problems, agi.FreeCount == freeInodes, $"{at}: agi_freecount {agi.FreeCount}, counted {freeInodes}");
        foreach (var r in ag.Inodes)
        {
            Check(problems, BitOperations.PopCount(r.Free) == r.FreeCount, $"{at}: inobt record {r}: free count does not match the mask");
            Check(problems, geo.AginoToAgbno(r.StartIno) % sb.InoAlignMt == 0 && r.StartIno % (1u << geo.InodesPerBlockLog) == 0,
                $"{at}: inode chunk {r.StartIno} is not aligned to {sb.InoAlignMt} blocks");
        }
        bool inobtCount = (sb.FeaturesRoCompat & XfsRoCompatFeatures.InoBtCount) != 0;
        if (inobtCount)
            Check(problems, agi.IBlocks == ino.Blocks.Count, $"{at}: agi_iblocks {agi.IBlocks}, counted {ino.Blocks.Count}");
        if ((sb.FeaturesRoCompat & XfsRoCompatFeatures.FinoBt) != 0)
        {
            var fino = WalkTree(reader, XfsBtreeKind.Fino, agno, agi.FreeRoot, (int)agi.FreeLevel, problems);
            ag.TreeBlocks[XfsBtreeKind.Fino] = fino.Blocks;
            var free = fino.Records.Select(r => XfsInobtRecord.ReadFrom(r)).ToList();
            Check(problems, free.SequenceEqual(ag.Inodes.Where(r => r.FreeCount > 0)),
                $"{at}: finobt ({free.Count} records) is not the inobt records with free inodes ({ag.Inodes.Count(r => r.FreeCount > 0)})");
            if (inobtCount)
                Check(problems, agi.FBlocks == fino.Blocks.Count, $"{at}: agi_fblocks {agi.FBlocks}, counted {fino.Blocks.Count}");
        }
        if (agf.RefcountRoot != 0)
        {
            var refc = WalkTree(reader, XfsBtreeKind.Refcount, agno, agf.RefcountRoot, (int)agf.RefcountLevel, problems,
                refcountLimits?.Leaf ?? 0, refcountLimits?.Node ?? 0);
            ag.TreeBlocks[XfsBtreeKind.Refcount] = refc.Blocks;
            ag.Refcounts.AddRange(refc.Records.Select(r => XfsRefcountRecord.ReadFrom(r)));
            Check(problems, agf.RefcountBlocks == refc.Blocks.Count, $"{at}: agf_refcount_blocks {agf.RefcountBlocks}, counted {refc.Blocks.Count}");
        }

        // Ownership: every block of the AG exactly once.
        var owner = new string?[length];
        void Claim(uint start, uint count, string what)
        {
            for (ulong b = start; b < (ulong)start + count; b++)
            {
                if (b >= length)
                {
                    problems.Add($"{at}: {what} claims block {b} beyond the AG's {length}");
                    return;
                }
                if (owner[b] != null)
                    problems.Add($"{at}: block {b} claimed by {owner[b]} and by {what}");
                else
                    owner[b] = what;
            }
        }
        Claim(0, 1, "AG headers");
        if (geo.FsbToAgno(sb.LogStart) == agno)
            Claim(geo.FsbToAgbno(sb.LogStart), sb.LogBlocks, "log");
        foreach (var (kind, blocks) in ag.TreeBlocks)
        {
            foreach (uint b in blocks)
                Claim(b, 1, kind.Name());
        }
        foreach (uint b in ag.Agfl)
            Claim(b, 1, "agfl");
        foreach (var e in ag.Free)
            Claim(e.StartBlock, e.BlockCount, "free space");
        uint chunkBlocks = (uint)(XfsFormat.InodesPerChunk * geo.InodeSize / geo.BlockSize);
        foreach (var r in ag.Inodes)
            Claim(geo.AginoToAgbno(r.StartIno), chunkBlocks, $"inode chunk {r.StartIno}");
        foreach (var (start, count) in owned)
            Claim(start, count, $"test extent {start}+{count}");
        for (uint b = 0; b < length; b++)
        {
            if (owner[b] == null)
            {
                uint end = b;
                while (end + 1 < length && owner[end + 1] == null)
                    end++;
                problems.Add($"{at}: blocks {b}-{end} are owned by nothing");
                b = end;
            }
        }
        return ag;
    }

    /// <summary>The records (raw) and blocks of one tree, checked level by level.</summary>
    internal sealed record Walk(List<byte[]> Records, List<uint> Blocks);

    internal static Walk WalkTree(XfsMetadataReader reader, XfsBtreeKind kind, uint agno, uint root, int levels, List<string> problems,
        int leafMax = 0, int nodeMax = 0)
    {
        const int header = XfsBtreeShortBlock.HeaderSize;
        int bs = reader.Geometry.BlockSize;
        int recSize = kind.RecordSize(), keySize = kind.KeySize();
        int nodeSlots = kind.MaxRecords(bs, leaf: false);
        if (leafMax == 0)
            leafMax = kind.MaxRecords(bs, leaf: true);
        if (nodeMax == 0)
            nodeMax = nodeSlots;
        string tree = $"{kind.Name()} of AG {agno}";
        var records = new List<byte[]>();
        var blocks = new List<uint>();
        var block = new byte[bs];
        var level = new List<uint> { root };
        var expectedKey = new Dictionary<uint, byte[]>();
        for (int lev = levels - 1; lev >= 0; lev--)
        {
            var next = new List<uint>();
            for (int i = 0; i < level.Count; i++)
            {
                uint agbno = level[i];
                string at = $"{tree} block {agbno}";
                XfsBtreeShortBlock hdr;
                try
                {
                    hdr = reader.ReadBtreeBlock(kind, agno, agbno, block);
                }
                catch (XfsException e)
                {
                    problems.Add($"{at}: {e.Message}");
                    continue;
                }
                blocks.Add(agbno);
                Check(problems, hdr.Level == lev, $"{at}: level {hdr.Level}, expected {lev}");
                Check(problems, hdr.LeftSib == (i > 0 ? level[i - 1] : XfsFormat.NullAgBlock), $"{at}: left sibling {hdr.LeftSib}");
                Check(problems, hdr.RightSib == (i + 1 < level.Count ? level[i + 1] : XfsFormat.NullAgBlock), $"{at}: right sibling {hdr.RightSib}");
                int max = lev == 0 ? leafMax : nodeMax;
                bool isRoot = lev == levels - 1;
                Check(problems, hdr.NumRecs <= max, $"{at}: {hdr.NumRecs} entries, maximum {max}");
                if (!isRoot)
                    Check(problems, hdr.NumRecs >= max / 2, $"{at}: {hdr.NumRecs} entries, minimum {max / 2}");
                else if (lev > 0)
                    Check(problems, hdr.NumRecs >= 2, $"{at}: a root node with {hdr.NumRecs} entries");
                // A leaf record starts with its key, and a node's first key sits in the same place.
                byte[] first = block.AsSpan(header, keySize).ToArray();
                if (hdr.NumRecs > 0 && expectedKey.TryGetValue(agbno, out var parentKey))
                    Check(problems, parentKey.AsSpan().SequenceEqual(first), $"{at}: parent key {Convert.ToHexString(parentKey)} is not its first key {Convert.ToHexString(first)}");
                if (lev == 0)
                {
                    for (int r = 0; r < hdr.NumRecs; r++)
                        records.Add(block.AsSpan(header + r * recSize, recSize).ToArray());
                }
                else
                {
                    byte[]? prev = null;
                    for (int k = 0; k < hdr.NumRecs; k++)
                    {
                        byte[] key = block.AsSpan(header + k * keySize, keySize).ToArray();
                        uint ptr = Be32(block, header + nodeSlots * keySize + k * 4);
                        if (prev != null)
                            Check(problems, Compare(kind, prev, key) < 0, $"{at}: keys {k - 1} and {k} out of order");
                        prev = key;
                        expectedKey[ptr] = key;
                        next.Add(ptr);
                    }
                }
            }
            level = next;
        }
        for (int i = 1; i < records.Count; i++)
            Check(problems, Compare(kind, records[i - 1], records[i]) < 0, $"{tree}: records {i - 1} and {i} out of order");
        Check(problems, blocks.Distinct().Count() == blocks.Count, $"{tree}: a block appears twice");
        return new Walk(records, blocks);
    }

    /// <summary>Orders two keys (or records, whose leading bytes are the key) the way the tree does.</summary>
    private static int Compare(XfsBtreeKind kind, byte[] a, byte[] b)
    {
        (ulong, ulong) SortKey(byte[] k) => kind == XfsBtreeKind.Cnt ? (Be32(k, 4), Be32(k, 0)) : (Be32(k, 0), 0UL);
        return SortKey(a).CompareTo(SortKey(b));
    }

    private static uint Be32(byte[] s, int offset) => System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(s.AsSpan(offset));

    private static void Check(List<string> problems, bool ok, string problem)
    {
        if (!ok)
            problems.Add(problem);
    }
}
