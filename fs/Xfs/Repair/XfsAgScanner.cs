using System.Numerics;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Repair;

/// <summary>
/// Phase 2 for one AG: verifies the AGF, AGI and AGFL, walks the free-space, inode, free-inode
/// and reference-count B+trees, checks their records (in range, ordered, not overlapping; both
/// free-space trees holding the same extents; the free-inode tree holding exactly the inode
/// records with free inodes; reference counts of at least two, or one for copy-on-write
/// staging), the AGF and AGI summary fields against what the trees hold, and claims the AG
/// headers, AGFL blocks, tree blocks, free extents and inode chunks in the owner map.
/// </summary>
/// <remarks>Models xfs_repair phase 2 (repair/phase2.c, repair/scan.c: <c>scan_ag</c>, <c>validate_agf</c>, <c>validate_agi</c>, <c>scan_freelist</c>, <c>scan_allocbt</c>, <c>scan_inobt</c>, <c>scan_refcbt</c>) and the AGF/AGI counter checks of phase 5.</remarks>
internal static class XfsAgScanner
{
    public static void Scan(XfsRepairContext ctx, uint agno)
    {
        var g = ctx.Geometry;
        var ag = ctx.Ags[agno];
        uint agLength = g.AgLength(agno);
        // Block 0 holds the four header sectors at 4 KiB blocks; larger sectors or smaller blocks need more.
        uint headerBlocks = (uint)((4L * g.SectorSize + g.BlockSize - 1) / g.BlockSize);
        ctx.Owners.Mark(agno, 0, headerBlocks, ctx.Owners.Register($"ag {agno} headers"));

        try
        {
            ag.Agf = ctx.Reader.ReadAgf(agno);
        }
        catch (XfsException e)
        {
            ctx.Error(e);
            ag.SpaceComplete = false;
            ag.RefcountComplete = false;
        }
        try
        {
            ag.Agi = ctx.Reader.ReadAgi(agno);
        }
        catch (XfsException e)
        {
            ctx.Error(e);
            ag.SpaceComplete = false;
            ag.InodesComplete = false;
        }
        if (ag.Agf is { } rmapAgf && (ctx.Superblock.FeaturesRoCompat & XfsRoCompatFeatures.RmapBt) == 0
            && (rmapAgf.RmapRoot != 0 || rmapAgf.RmapLevel != 0 || rmapAgf.RmapBlocks != 0))
            ctx.Error($"agf {agno}", $"rmap root {rmapAgf.RmapRoot} level {rmapAgf.RmapLevel} blocks {rmapAgf.RmapBlocks} on a filesystem without rmapbt");
        ScanAgfl(ctx, agno, ag.Agf);
        if (ag.Agf is { } agf)
            ScanFreeSpace(ctx, agno, agLength, agf);
        if (ag.Agi is { } agi)
            ScanInodeTrees(ctx, agno, agLength, agi);
        if (ctx.HasReflink && ag.Agf is { } agf2)
            ScanRefcount(ctx, agno, agLength, agf2);
        else if (!ctx.HasReflink && ag.Agf is { RefcountRoot: not 0 } agf3)
            ctx.Error($"agf {agno}", $"refcount root {agf3.RefcountRoot} on a filesystem without reflink");
    }

    private static void ScanAgfl(XfsRepairContext ctx, uint agno, XfsAgf? agf)
    {
        XfsAgfl agfl;
        try
        {
            agfl = ctx.Reader.ReadAgfl(agno);
        }
        catch (XfsException e)
        {
            ctx.Error(e);
            ctx.Ags[agno].SpaceComplete = false;
            return;
        }
        if (agf == null)
            return;
        int owner = ctx.Owners.Register($"agfl {agno}");
        int size = agfl.Bno.Length;
        for (uint n = 0; n < agf.FlCount; n++)
        {
            int index = (int)((agf.FlFirst + n) % (uint)size);
            uint bno = agfl.Bno[index];
            if (bno == XfsFormat.NullAgBlock || bno == 0)
            {
                ctx.Error($"agfl {agno}", $"entry {index} is in use (first {agf.FlFirst}, count {agf.FlCount}) but holds {(bno == 0 ? "0" : "NULLAGBLOCK")}");
                ctx.Ags[agno].SpaceComplete = false;
                continue;
            }
            ctx.Owners.Mark(agno, bno, 1, owner);
        }
    }

    private static void ScanFreeSpace(XfsRepairContext ctx, uint agno, uint agLength, XfsAgf agf)
    {
        string agfName = $"agf {agno}";
        var ag = ctx.Ags[agno];
        var bno = XfsAgBtreeWalker.Walk(ctx, XfsBtreeKind.Bno, agno, agf.BnoRoot, agf.BnoLevel, ctx.Owners.Register($"bnobt {agno}"));
        var cnt = XfsAgBtreeWalker.Walk(ctx, XfsBtreeKind.Cnt, agno, agf.CntRoot, agf.CntLevel, ctx.Owners.Register($"cntbt {agno}"));
        if (!bno.Complete || !cnt.Complete)
            ag.SpaceComplete = false;
        int freeOwner = ctx.Owners.Register($"free space {agno}");
        var byBlock = CheckFreeRecords(ctx, XfsBtreeKind.Bno, agno, agLength, bno);
        var bySize = CheckFreeRecords(ctx, XfsBtreeKind.Cnt, agno, agLength, cnt);
        for (int i = 1; i < byBlock.Count; i++)
        {
            var (prev, cur) = (byBlock[i - 1], byBlock[i]);
            if ((ulong)prev.StartBlock + prev.BlockCount > cur.StartBlock)
                ctx.Error($"bnobt {agno}", $"free extents [{prev.StartBlock},{prev.BlockCount}] and [{cur.StartBlock},{cur.BlockCount}] overlap");
        }
        foreach (var r in byBlock)
            ctx.Owners.Mark(agno, r.StartBlock, r.BlockCount, freeOwner);
        if (bno.Complete && cnt.Complete)
        {
            var a = byBlock.ToHashSet();
            var b = bySize.ToHashSet();
            foreach (var r in a.Except(b).Take(10))
                ctx.Error($"cntbt {agno}", $"free extent [{r.StartBlock},{r.BlockCount}] of the bnobt is missing");
            foreach (var r in b.Except(a).Take(10))
                ctx.Error($"bnobt {agno}", $"free extent [{r.StartBlock},{r.BlockCount}] of the cntbt is missing");
        }
        if (bno.Complete)
        {
            long free = byBlock.Sum(r => (long)r.BlockCount);
            uint longest = byBlock.Count == 0 ? 0 : byBlock.Max(r => r.BlockCount);
            if (agf.FreeBlks != free)
                ctx.Error(agfName, $"freeblks {agf.FreeBlks} but the free-space B+trees hold {free}");
            if (agf.Longest != longest)
                ctx.Error(agfName, $"longest {agf.Longest} but the longest free extent is {longest}");
        }
        if (bno.Complete && cnt.Complete)
        {
            long btreeBlocks = bno.Blocks.Count - 1 + cnt.Blocks.Count - 1;
            if (agf.BtreeBlks != btreeBlocks)
                ctx.Error(agfName, $"btreeblks {agf.BtreeBlks} but the free-space B+trees have {btreeBlocks} blocks beyond their roots");
        }
    }

    private static List<XfsAllocRecord> CheckFreeRecords(XfsRepairContext ctx, XfsBtreeKind kind, uint agno, uint agLength, XfsAgBtreeWalk walk)
    {
        var records = new List<XfsAllocRecord>();
        foreach (var raw in walk.Records)
        {
            var r = XfsAllocRecord.ReadFrom(raw);
            if (r.BlockCount == 0 || r.StartBlock == 0 || (ulong)r.StartBlock + r.BlockCount > agLength)
            {
                ctx.Error($"{kind.Name()} {agno}", $"free extent [{r.StartBlock},{r.BlockCount}] is empty or outside the AG (length {agLength})");
                continue;
            }
            records.Add(r);
        }
        return records;
    }

    private static void ScanInodeTrees(XfsRepairContext ctx, uint agno, uint agLength, XfsAgi agi)
    {
        var g = ctx.Geometry;
        var ag = ctx.Ags[agno];
        string agiName = $"agi {agno}";
        var ino = XfsAgBtreeWalker.Walk(ctx, XfsBtreeKind.Ino, agno, agi.Root, agi.Level, ctx.Owners.Register($"inobt {agno}"));
        if (!ino.Complete)
        {
            ag.InodesComplete = false;
            ag.SpaceComplete = false;
        }
        int chunkOwner = ctx.Owners.Register($"inode chunks {agno}");
        uint chunkBlocks = (uint)Math.Max(1, XfsFormat.InodesPerChunk * g.InodeSize / g.BlockSize);
        long count = 0, freeCount = 0;
        uint nextIno = 0;
        foreach (var raw in ino.Records)
        {
            var r = XfsInobtRecord.ReadFrom(raw);
            string what = $"inode chunk at agino {r.StartIno}";
            uint agbno = g.AginoToAgbno(r.StartIno);
            if (r.StartIno % (1u << g.InodesPerBlockLog) != 0 || agbno == 0 || (ulong)agbno + chunkBlocks > agLength)
            {
                ctx.Error($"inobt {agno}", $"{what} does not start a block or lies outside the AG");
                ag.InodesComplete = false;
                continue;
            }
            if (r.StartIno < nextIno)
                ctx.Error($"inobt {agno}", $"{what} overlaps the previous chunk");
            nextIno = r.StartIno + XfsFormat.InodesPerChunk;
            int bits = BitOperations.PopCount(r.Free);
            if (r.FreeCount != bits)
                ctx.Error($"inobt {agno}", $"{what} freecount {r.FreeCount} but its free mask 0x{r.Free:x16} has {bits} free inodes");
            ctx.Owners.Mark(agno, agbno, chunkBlocks, chunkOwner);
            ag.InodeChunks.Add(r);
            count += XfsFormat.InodesPerChunk;
            freeCount += bits;
        }
        if (ino.Complete)
        {
            if (agi.Count != count)
                ctx.Error(agiName, $"count {agi.Count} but the inobt holds {count} inodes");
            if (agi.FreeCount != freeCount)
                ctx.Error(agiName, $"freecount {agi.FreeCount} but the inobt holds {freeCount} free inodes");
            if (ctx.HasInobtCount && agi.IBlocks != ino.Blocks.Count)
                ctx.Error(agiName, $"iblocks {agi.IBlocks} but the inobt has {ino.Blocks.Count} blocks");
        }
        if (!ctx.HasFinobt)
        {
            if (agi.FreeRoot != 0)
                ctx.Error(agiName, $"free_root {agi.FreeRoot} on a filesystem without finobt");
            return;
        }
        if (agi.FreeRoot == 0)
        {
            ctx.Error(agiName, "no finobt root on a filesystem with finobt");
            return;
        }
        var fino = XfsAgBtreeWalker.Walk(ctx, XfsBtreeKind.Fino, agno, agi.FreeRoot, agi.FreeLevel, ctx.Owners.Register($"finobt {agno}"));
        if (!fino.Complete)
            ag.SpaceComplete = false;
        if (ctx.HasInobtCount && fino.Complete && agi.FBlocks != fino.Blocks.Count)
            ctx.Error(agiName, $"fblocks {agi.FBlocks} but the finobt has {fino.Blocks.Count} blocks");
        if (ino.Complete && fino.Complete)
        {
            var expected = ag.InodeChunks.Where(r => r.FreeCount > 0).ToHashSet();
            var found = fino.Records.Select(r => XfsInobtRecord.ReadFrom(r)).ToHashSet();
            foreach (var r in expected.Except(found).Take(10))
                ctx.Error($"finobt {agno}", $"inode chunk at agino {r.StartIno} with {r.FreeCount} free inodes (mask 0x{r.Free:x16}) is missing or differs");
            foreach (var r in found.Except(expected).Take(10))
                ctx.Error($"finobt {agno}", $"record for agino {r.StartIno} (freecount {r.FreeCount}, mask 0x{r.Free:x16}) is not an inobt chunk with free inodes");
        }
    }

    private static void ScanRefcount(XfsRepairContext ctx, uint agno, uint agLength, XfsAgf agf)
    {
        var ag = ctx.Ags[agno];
        string agfName = $"agf {agno}";
        if (agf.RefcountRoot == 0)
        {
            ctx.Error(agfName, "no refcount root on a filesystem with reflink");
            ag.RefcountComplete = false;
            return;
        }
        var walk = XfsAgBtreeWalker.Walk(ctx, XfsBtreeKind.Refcount, agno, agf.RefcountRoot, agf.RefcountLevel, ctx.Owners.Register($"refcountbt {agno}"));
        if (!walk.Complete)
        {
            ag.RefcountComplete = false;
            ag.SpaceComplete = false;
        }
        else if (agf.RefcountBlocks != walk.Blocks.Count)
            ctx.Error(agfName, $"refcount_blocks {agf.RefcountBlocks} but the refcountbt has {walk.Blocks.Count} blocks");
        ulong sharedEnd = 0, cowEnd = 0;
        foreach (var raw in walk.Records)
        {
            var r = XfsRefcountRecord.ReadFrom(raw);
            bool cow = (r.StartBlock & XfsRefcountRecord.CowFlag) != 0;
            uint start = r.StartBlock & ~XfsRefcountRecord.CowFlag;
            string what = $"{(cow ? "CoW staging " : "")}record [{start},{r.BlockCount},{r.RefCount}]";
            if (r.BlockCount == 0 || start == 0 || (ulong)start + r.BlockCount > agLength)
            {
                ctx.Error($"refcountbt {agno}", $"{what} is empty or outside the AG (length {agLength})");
                ag.RefcountComplete = false;
                continue;
            }
            if (cow ? r.RefCount != 1 : r.RefCount < 2)
                ctx.Error($"refcountbt {agno}", $"{what}: refcount {r.RefCount} {(cow ? "is not 1 on a CoW staging extent" : "is below 2 (unshared extents have no record)")}");
            ref ulong end = ref cow ? ref cowEnd : ref sharedEnd;
            if (start < end)
                ctx.Error($"refcountbt {agno}", $"{what} overlaps the previous record");
            end = (ulong)start + r.BlockCount;
            ag.RefcountRecords.Add(r with { StartBlock = start | (cow ? XfsRefcountRecord.CowFlag : 0) });
        }
    }
}
