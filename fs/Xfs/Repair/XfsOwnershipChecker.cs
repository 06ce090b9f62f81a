using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Repair;

/// <summary>
/// Phase 4: with every block claimed by its owners, checks that free and used space partition
/// each AG. A block outside every reference-count record must have exactly one owner; a block
/// inside a shared record must be owned by exactly that many file data forks and nothing else;
/// a block owned by nobody is leaked. Findings come as ranges of AG blocks with the same
/// condition and owners. Regular files without the reflink flag must not map shared blocks.
/// </summary>
/// <remarks>Models xfs_repair phase 4 (repair/phase4.c duplicate-block detection and <c>check_refcounts</c> in repair/rmap.c) and phase 5's lost-block accounting.</remarks>
internal static class XfsOwnershipChecker
{
    private enum Condition
    {
        Ok,
        Leaked,
        MultiplyOwned,
        RefcountMismatch,
    }

    public static void Check(XfsRepairContext ctx)
    {
        bool everythingRead = ctx.ForksComplete && ctx.BadInodes.Count == 0 && ctx.Ags.All(a => a.SpaceComplete && a.InodesComplete);
        for (uint agno = 0; agno < ctx.Geometry.AgCount; agno++)
        {
            var ag = ctx.Ags[agno];
            int length = ctx.Owners.AgLength(agno);
            var shared = new uint[length];
            foreach (var r in ag.RefcountRecords)
            {
                if ((r.StartBlock & XfsRefcountRecord.CowFlag) != 0)
                    continue;
                long end = Math.Min((long)r.StartBlock + r.BlockCount, length);
                for (long b = r.StartBlock; b < end; b++)
                    shared[b] = r.RefCount;
            }
            int cowOwner = ctx.Owners.Register($"CoW staging extents {agno}");
            foreach (var r in ag.RefcountRecords.Where(r => (r.StartBlock & XfsRefcountRecord.CowFlag) != 0))
                ctx.Owners.Mark(agno, r.StartBlock & ~XfsRefcountRecord.CowFlag, r.BlockCount, cowOwner);
            if (!everythingRead)
                ctx.Note($"ag {agno}", "leaked-block and short reference-count checks skipped: some metadata or inodes could not be read");
            ReportRanges(ctx, agno, length, shared, everythingRead);
            CheckReflinkFlags(ctx, agno, shared);
        }
    }

    private static void ReportRanges(XfsRepairContext ctx, uint agno, int length, uint[] shared, bool everythingRead)
    {
        var owners = ctx.Owners;
        (Condition Cond, int First, int Second, int Count, int Data, uint Shared) previous = default;
        int runStart = 0;
        for (int b = 0; b <= length; b++)
        {
            var current = b == length ? default : Classify(owners, agno, (uint)b, shared[b], everythingRead);
            if (b > 0 && current == previous)
                continue;
            if (b > 0 && previous.Cond != Condition.Ok)
                Report(ctx, agno, runStart, b - 1, previous);
            previous = current;
            runStart = b;
        }
    }

    private static (Condition, int, int, int, int, uint) Classify(XfsBlockOwnerMap owners, uint agno, uint agbno, uint refcount, bool everythingRead)
    {
        int count = owners.Count(agno, agbno);
        int data = owners.DataCount(agno, agbno);
        var (first, second) = owners.Owners(agno, agbno);
        if (refcount != 0)
        {
            bool ok = count == refcount && data == refcount;
            // Owners that could not be read make counts short, never long.
            if (!ok && (everythingRead || count > refcount))
                return (Condition.RefcountMismatch, first, second, count, data, refcount);
            return (Condition.Ok, 0, 0, 0, 0, 0u);
        }
        if (count == 0)
            return everythingRead ? (Condition.Leaked, -1, -1, 0, 0, 0u) : (Condition.Ok, 0, 0, 0, 0, 0u);
        if (count > 1)
            return (Condition.MultiplyOwned, first, second, count, data, 0u);
        return (Condition.Ok, 0, 0, 0, 0, 0u);
    }

    private static void Report(XfsRepairContext ctx, uint agno, int start, int end, (Condition Cond, int First, int Second, int Count, int Data, uint Shared) c)
    {
        string range = start == end ? $"block {start}" : $"blocks {start}-{end} ({end - start + 1} blocks)";
        var owners = ctx.Owners;
        string message = c.Cond switch
        {
            Condition.Leaked => $"{range} owned by nothing and not free (leaked)",
            Condition.MultiplyOwned => $"{range} owned {c.Count} times: by {owners.Name(c.First)} and {owners.Name(c.Second)}"
                                       + (c.Count > 2 ? " and others" : "") + (c.Data >= 2 ? " (shared data with no refcount record)" : ""),
            _ => $"{range} have refcount {c.Shared} but {c.Data} data fork owners and {c.Count - c.Data} other owners"
                 + (c.Count > 0 ? $" (first {owners.Name(c.First)})" : ""),
        };
        ctx.Error(c.Cond == Condition.RefcountMismatch ? $"refcountbt {agno}" : $"ag {agno}", message);
    }

    private static void CheckReflinkFlags(XfsRepairContext ctx, uint agno, uint[] shared)
    {
        var g = ctx.Geometry;
        foreach (var inode in ctx.Inodes.Values)
        {
            if (inode.UnsharedExtents is not { } extents)
                continue;
            foreach (var e in extents)
            {
                if (g.FsbToAgno(e.StartBlock) != agno)
                    continue;
                uint agbno = g.FsbToAgbno(e.StartBlock);
                long end = Math.Min((long)agbno + e.BlockCount, shared.Length);
                bool any = false;
                for (long b = agbno; b < end && !any; b++)
                    any = shared[b] != 0;
                if (any)
                {
                    ctx.Error($"inode {inode.Ino}", $"maps shared blocks at {agno}/{agbno} but has no reflink flag");
                    break;
                }
            }
        }
    }
}
