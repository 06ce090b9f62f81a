using DaxStack.Device.Errors;
using DaxStack.Fs.Xfs.Btree;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Xfs.Alloc;

/// <summary>
/// The free-space allocator of the AGs. Free space is kept twice, by block number (bnobt) and by
/// size (cntbt), and every allocation and free changes both together. An allocation first fixes
/// the AG's free list up (<see cref="FixFreeList"/>): it checks that the AG can supply the
/// request while keeping the AGFL at its minimum and the caller's minleft, trims an AGFL that is
/// too long back into free space and refills one that is too short from free space. Then it
/// carves the extent out of a free extent: exactly at a block, nearest a target (longest extent
/// first, then closest, searching the bnobt both ways from the target), or anywhere (the
/// smallest extent that fits, by cntbt). A free merges the extent with free neighbours. The AGF
/// counters (agf_freeblks, agf_longest, the free list and B+tree block counts) stay exact, and
/// the superblock's free-block count moves by what the caller allocated or freed (blocks moving
/// between the AGFL and free space do not change it). Freed blocks are busy
/// (<see cref="XfsExtentBusy"/>) until the freeing transaction is durable in the log: every
/// allocation trims them out of its candidate extents, and when an AG can only satisfy a
/// request with busy blocks, the log is forced and the allocation tried once more. Discard is
/// not modelled.
/// </summary>
/// <remarks>Models the kernel's libxfs/xfs_alloc.c: <c>xfs_alloc_fix_freelist</c>, <c>xfs_alloc_space_available</c>, <c>xfs_alloc_longest_free_extent</c>, <c>xfs_alloc_min_freelist</c>, <c>xfs_alloc_ag_vextent_exact</c>, <c>xfs_alloc_ag_vextent_near</c>, <c>xfs_alloc_ag_vextent_size</c>, <c>xfs_alloc_compute_aligned</c>, <c>xfs_alloc_compute_diff</c>, <c>xfs_alloc_fixup_trees</c>, <c>xfs_free_ag_extent</c>, <c>xfs_free_extent</c>, <c>xfs_alloc_update_counters</c>, with <c>xfs_extent_busy_trim</c> and the <c>xfs_extent_busy_flush</c> retry of <c>xfs_alloc_ag_vextent_size</c> / <c>_near</c>.</remarks>
public static class XfsAlloc
{
    private const uint Null = XfsFormat.NullAgBlock;

    /// <summary>m_alloc_maxlevels: the tallest a free-space B+tree of this filesystem can grow (every other block free).</summary>
    public static int MaxLevels(XfsMount mp)
    {
        ArgumentNullException.ThrowIfNull(mp);
        int bs = mp.Geometry.BlockSize;
        return XfsBtreeGeometry.ComputeMaxLevels(
            XfsBtreeKind.Bno.MaxRecords(bs, leaf: true) / 2, XfsBtreeKind.Bno.MaxRecords(bs, leaf: false) / 2,
            (mp.Geometry.AgBlocks + 1UL) / 2);
    }

    /// <summary>
    /// xfs_alloc_min_freelist: the AGFL length an AG needs before an allocation. Each free-space
    /// tree may split at every level and grow a new root, and refilling the AGFL inserts into it
    /// again: (height + 1) * 2 − 2 blocks per tree, the height capped at <see cref="MaxLevels"/>.
    /// </summary>
    public static uint MinFreeList(XfsMount mp, XfsAgf agf)
    {
        ArgumentNullException.ThrowIfNull(mp);
        ArgumentNullException.ThrowIfNull(agf);
        int max = MaxLevels(mp);
        uint PerTree(uint levels) => (uint)Math.Min((int)levels + 1, max) * 2 - 2;
        return PerTree(agf.BnoLevel) + PerTree(agf.CntLevel);
    }

    /// <summary>Allocates as <paramref name="request"/> asks; ENOSPC (<see cref="XfsException"/>) when the AG cannot.</summary>
    public static XfsAgExtent Allocate(XfsTransaction tp, in XfsAllocRequest request) =>
        TryAllocate(tp, request, out var extent)
            ? extent
            : throw new XfsException(Errno.ENOSPC, $"AG {request.AgNo}: no free extent of {request.MinLen} to {request.MaxLen} blocks ({request.Type}, alignment {request.Alignment})");

    /// <summary>
    /// Allocates as <paramref name="request"/> asks and returns true, or returns false when the AG
    /// cannot satisfy it (the transaction may still have refilled the AGFL). The blocks come out
    /// of the transaction's reservation.
    /// </summary>
    public static bool TryAllocate(XfsTransaction tp, in XfsAllocRequest request, out XfsAgExtent extent)
    {
        ArgumentNullException.ThrowIfNull(tp);
        if (TryAllocateOnce(tp, request, out extent))
            return true;
        if (request.AgNo >= tp.Mount.Geometry.AgCount)
            return false;
        // Busy blocks may be all that stands in the way: make their frees durable and retry.
        long seq = tp.Mount.Busy.SequenceToForce(request.AgNo);
        if (seq == 0)
            return false;
        tp.Mount.ForceLog(seq);
        return TryAllocateOnce(tp, request, out extent);
    }

    private static bool TryAllocateOnce(XfsTransaction tp, in XfsAllocRequest request, out XfsAgExtent extent)
    {
        extent = default;
        var req = request;
        var geo = tp.Mount.Geometry;
        if (req.AgNo >= geo.AgCount)
            throw new ArgumentOutOfRangeException(nameof(request), req.AgNo, $"the filesystem has {geo.AgCount} AGs");
        uint agLength = geo.AgLength(req.AgNo);
        if (req.MinLen == 0 || req.MaxLen < req.MinLen || req.Alignment == 0)
            throw new ArgumentException($"bad allocation request: {req}", nameof(request));
        if (req.Type != XfsAllocType.ThisAg && req.AgBno >= agLength)
            throw new ArgumentOutOfRangeException(nameof(request), req.AgBno, $"target block outside AG {req.AgNo} (length {agLength})");
        uint left = tp.BlocksReserved - tp.BlocksUsed;
        if (req.MinLen > left)
            throw new InvalidOperationException($"allocating at least {req.MinLen} blocks with only {left} of the transaction's reservation left");
        uint maxlen = Math.Min(Math.Min(req.MaxLen, agLength), left);
        if (maxlen < req.MinLen)
            return false;
        if (!FixFreeList(tp, req.AgNo, req.MinLen, req.Alignment, req.MinAlignSlop, req.MinLeft, ref maxlen, freeing: false))
            return false;
        if (maxlen < req.MinLen)
            return false;
        (uint Bno, uint Len)? got = req.Type switch
        {
            XfsAllocType.ThisBno => AllocExact(tp, req.AgNo, req.AgBno, req.MinLen, maxlen),
            XfsAllocType.NearBno => AllocNear(tp, req.AgNo, req.AgBno, req.MinLen, maxlen, req.Alignment),
            _ => AllocSize(tp, req.AgNo, req.MinLen, maxlen, req.Alignment),
        };
        if (got is not (uint bno, uint len))
            return false;
        UpdateCounters(tp, req.AgNo, -(long)len);
        tp.ModifyFreeBlocks(-(long)len);
        extent = new XfsAgExtent(req.AgNo, bno, len);
        return true;
    }

    /// <summary>
    /// Allocates <paramref name="minLen"/>..<paramref name="maxLen"/> blocks anywhere, trying AG
    /// <paramref name="startAgno"/> first and then the others in turn (xfs_alloc_vextent_start_ag).
    /// </summary>
    public static bool TryAllocateAnyAg(XfsTransaction tp, uint startAgno, uint minLen, uint maxLen, uint alignment, out XfsAgExtent extent)
    {
        ArgumentNullException.ThrowIfNull(tp);
        uint count = tp.Mount.Geometry.AgCount;
        for (uint i = 0; i < count; i++)
        {
            if (TryAllocate(tp, XfsAllocRequest.Any((startAgno + i) % count, minLen, maxLen, alignment), out extent))
                return true;
        }
        extent = default;
        return false;
    }

    /// <summary>
    /// Frees <paramref name="length"/> blocks from <paramref name="agbno"/> of AG <paramref name="agno"/>
    /// (xfs_free_extent), merging them with free neighbours. Freeing blocks that are already free
    /// is corruption (<see cref="XfsCorruptionException"/>); the caller must also invalidate any
    /// metadata buffers of the blocks.
    /// </summary>
    public static void Free(XfsTransaction tp, uint agno, uint agbno, uint length)
    {
        ArgumentNullException.ThrowIfNull(tp);
        var geo = tp.Mount.Geometry;
        if (agno >= geo.AgCount)
            throw new ArgumentOutOfRangeException(nameof(agno), agno, $"the filesystem has {geo.AgCount} AGs");
        if (length == 0 || agbno == 0 || (ulong)agbno + length > geo.AgLength(agno))
            throw new ArgumentOutOfRangeException(nameof(agbno), $"cannot free {length} blocks at {agno}/{agbno}: outside the AG's free-able blocks (length {geo.AgLength(agno)})");
        uint maxlen = 0;
        FixFreeList(tp, agno, 1, 1, 0, 0, ref maxlen, freeing: true);
        FreeAgExtent(tp, agno, agbno, length, agflBlock: false);
    }

    /// <summary>
    /// Throws ENOSPC unless AG <paramref name="agno"/> has <paramref name="blocks"/> free blocks
    /// beyond what its free list needs: the up-front check for a transaction bound to one AG.
    /// </summary>
    public static void EnsureSpace(XfsTransaction tp, uint agno, uint blocks)
    {
        ArgumentNullException.ThrowIfNull(tp);
        var agf = XfsAgHeaders.ReadAgf(tp, agno);
        uint need = MinFreeList(tp.Mount, agf);
        long available = (long)agf.FreeBlks + Math.Min(agf.FlCount, need) - need;
        if (available < blocks)
            throw new XfsException(Errno.ENOSPC, $"AG {agno}: {Math.Max(0, available)} blocks available, {blocks} needed");
    }

    /// <summary>The longest free extent of AG <paramref name="agno"/>, from the cntbt.</summary>
    public static uint LongestFreeExtent(XfsTransaction tp, uint agno)
    {
        var cnt = new XfsBtreeCursor<XfsAllocRecord>(tp, agno, XfsAllocBtreeOps.Cnt);
        return cnt.MoveLast() ? cnt.GetRecord().BlockCount : 0;
    }

    // ------------------------------------------------------------ free list

    /// <summary>
    /// xfs_alloc_fix_freelist: makes sure the AG can take the allocation (unless freeing), then
    /// brings the AGFL to its minimum length, trimming surplus blocks back into free space and
    /// refilling from free space. Clamps <paramref name="maxlen"/> to what is available. False
    /// when the AG cannot take the allocation.
    /// </summary>
    private static bool FixFreeList(XfsTransaction tp, uint agno, uint minlen, uint alignment, uint minAlignSlop, uint minLeft, ref uint maxlen, bool freeing)
    {
        var agf = XfsAgHeaders.ReadAgf(tp, agno);
        uint need = MinFreeList(tp.Mount, agf);
        if (!freeing && !SpaceAvailable(agf, need, minlen, alignment, minAlignSlop, minLeft, ref maxlen))
            return false;

        while (agf.FlCount > need)
        {
            uint bno = XfsFreeList.Get(tp, agno, btreeBlock: false);
            FreeAgExtent(tp, agno, bno, 1, agflBlock: true);
            agf = XfsAgHeaders.ReadAgf(tp, agno);
        }
        while (agf.FlCount < need)
        {
            // Refilling the AGFL may split the free-space trees, which take blocks from the AGFL:
            // loop until it is long enough.
            var got = AllocSize(tp, agno, 1, need - agf.FlCount, 1);
            if (got is not (uint bno, uint len))
            {
                if (freeing)
                    break;
                return false;
            }
            UpdateCounters(tp, agno, -(long)len);
            for (uint b = bno; b < bno + len; b++)
                XfsFreeList.Put(tp, agno, b, btreeBlock: false);
            agf = XfsAgHeaders.ReadAgf(tp, agno);
        }
        return true;
    }

    /// <summary>xfs_alloc_space_available (no per-AG reservations): is there a long enough extent and enough blocks overall.</summary>
    private static bool SpaceAvailable(XfsAgf agf, uint need, uint minlen, uint alignment, uint minAlignSlop, uint minLeft, ref uint maxlen)
    {
        long allocLen = (long)minlen + (alignment - 1) + minAlignSlop;
        if (LongestUsable(agf, need) < allocLen)
            return false;
        long available = (long)agf.FreeBlks + Math.Min(agf.FlCount, need) - need - minLeft;
        if (available < allocLen)
            return false;
        if (available < maxlen)
            maxlen = (uint)available;
        return true;
    }

    /// <summary>xfs_alloc_longest_free_extent: the longest extent less what refilling the AGFL will take from it.</summary>
    private static long LongestUsable(XfsAgf agf, uint need)
    {
        long delta = need > agf.FlCount ? need - agf.FlCount : 0;
        if (agf.Longest > delta)
            return agf.Longest - delta;
        return agf.FlCount > 0 || agf.Longest > 0 ? 1 : 0;
    }

    // ------------------------------------------------------------ allocation

    /// <summary>xfs_alloc_ag_vextent_exact: the free extent holding <paramref name="bno"/> must hold at least minlen blocks from it.</summary>
    private static (uint, uint)? AllocExact(XfsTransaction tp, uint agno, uint bno, uint minlen, uint maxlen)
    {
        var cur = new XfsBtreeCursor<XfsAllocRecord>(tp, agno, XfsAllocBtreeOps.Bno);
        if (!cur.LookupLe(new XfsAllocRecord(bno, minlen)))
            return null;
        var rec = cur.GetRecord();
        ulong fend = (ulong)rec.StartBlock + rec.BlockCount;
        if (rec.StartBlock > bno || fend < (ulong)bno + minlen)
            return null;
        uint len = (uint)(Math.Min(fend, (ulong)bno + maxlen) - bno);
        len = tp.Mount.Busy.RunFrom(agno, bno, len);
        if (len < minlen)
            return null;
        FixupTrees(tp, agno, rec, bno, len);
        return (bno, len);
    }

    /// <summary>
    /// xfs_alloc_ag_vextent_size: the smallest free extent (lowest block among equals) that holds
    /// maxlen after alignment; failing that the largest, or a smaller one that aligns better.
    /// </summary>
    private static (uint, uint)? AllocSize(XfsTransaction tp, uint agno, uint minlen, uint maxlen, uint alignment)
    {
        if (tp.Mount.Busy.Count(agno) > 0)
            return AllocSizeAroundBusy(tp, agno, minlen, maxlen, alignment);
        var cnt = new XfsBtreeCursor<XfsAllocRecord>(tp, agno, XfsAllocBtreeOps.Cnt);
        XfsAllocRecord rec;
        uint rbno, rlen;
        if (cnt.LookupGe(new XfsAllocRecord(0, maxlen + alignment - 1)))
        {
            rec = cnt.GetRecord();
            (rbno, rlen) = Aligned(rec, alignment);
            rlen = Math.Min(rlen, maxlen);
        }
        else
        {
            if (!cnt.MoveLast())
                return null;
            rec = cnt.GetRecord();
            (rbno, rlen) = Aligned(rec, alignment);
            rlen = Math.Min(rlen, maxlen);
            // The largest extent may align badly: a slightly smaller one to its left may give more.
            while (rlen < maxlen && cnt.Decrement())
            {
                var r = cnt.GetRecord();
                if (r.BlockCount <= rlen)
                    break;
                var (b, l) = Aligned(r, alignment);
                l = Math.Min(l, maxlen);
                if (l > rlen)
                    (rec, rbno, rlen) = (r, b, l);
            }
        }
        if (rlen < minlen || rlen == 0)
            return null;
        FixupTrees(tp, agno, rec, rbno, rlen);
        return (rbno, rlen);
    }

    /// <summary>
    /// xfs_alloc_ag_vextent_size with busy extents in the AG: walks the cntbt from the smallest
    /// extent that could hold minlen, trimming busy blocks out of each; the first that still
    /// holds maxlen after alignment wins, else the one that gives the most.
    /// </summary>
    private static (uint, uint)? AllocSizeAroundBusy(XfsTransaction tp, uint agno, uint minlen, uint maxlen, uint alignment)
    {
        var cnt = new XfsBtreeCursor<XfsAllocRecord>(tp, agno, XfsAllocBtreeOps.Cnt);
        if (!cnt.LookupGe(new XfsAllocRecord(0, minlen)))
            return null;
        XfsAllocRecord best = default;
        uint bestBno = 0, bestLen = 0;
        do
        {
            var rec = cnt.GetRecord();
            var (bno, len) = Aligned(TrimBusy(tp, agno, rec), alignment);
            len = Math.Min(len, maxlen);
            if (len > bestLen)
                (best, bestBno, bestLen) = (rec, bno, len);
        }
        while (bestLen < maxlen && cnt.Increment());
        if (bestLen < minlen || bestLen == 0)
            return null;
        FixupTrees(tp, agno, best, bestBno, bestLen);
        return (bestBno, bestLen);
    }

    /// <summary>xfs_extent_busy_trim: the longest part of the free extent that is not busy.</summary>
    private static XfsAllocRecord TrimBusy(XfsTransaction tp, uint agno, XfsAllocRecord rec)
    {
        var (bno, len) = tp.Mount.Busy.Trim(agno, rec.StartBlock, rec.BlockCount);
        return new XfsAllocRecord(bno, len);
    }

    /// <summary>
    /// xfs_alloc_ag_vextent_near: searches the bnobt outwards from <paramref name="target"/> in both
    /// directions, keeping the candidate that gives the most blocks (up to maxlen) and, among
    /// those, starts closest to the target. A direction stops once its extents are farther away
    /// than the best candidate and no extent can give more.
    /// </summary>
    private static (uint, uint)? AllocNear(XfsTransaction tp, uint agno, uint target, uint minlen, uint maxlen, uint alignment)
    {
        var cnt = new XfsBtreeCursor<XfsAllocRecord>(tp, agno, XfsAllocBtreeOps.Cnt);
        // The most any candidate can give: maxlen if some extent holds it after alignment, else
        // at most the longest extent.
        uint cap = cnt.LookupGe(new XfsAllocRecord(0, maxlen + alignment - 1)) ? maxlen : Math.Min(maxlen, XfsAgHeaders.ReadAgf(tp, agno).Longest);

        var left = new XfsBtreeCursor<XfsAllocRecord>(tp, agno, XfsAllocBtreeOps.Bno);
        bool hasLeft = left.LookupLe(new XfsAllocRecord(target, 0));
        var right = left.Duplicate();
        bool hasRight = hasLeft ? right.Increment() : right.LookupGe(new XfsAllocRecord(target, 0));

        bool anyBusy = tp.Mount.Busy.Count(agno) > 0;
        XfsAllocRecord bestRec = default;
        uint bestBno = Null, bestLen = 0;
        ulong bestDiff = ulong.MaxValue;
        while (hasLeft || hasRight)
        {
            XfsAllocRecord lrec = default, rrec = default;
            ulong ldist = ulong.MaxValue, rdist = ulong.MaxValue;
            if (hasLeft)
            {
                lrec = left.GetRecord();
                ulong lend = (ulong)lrec.StartBlock + lrec.BlockCount;
                ldist = lend > target ? 0 : target - (lend - 1);
            }
            if (hasRight)
            {
                rrec = right.GetRecord();
                rdist = rrec.StartBlock > target ? rrec.StartBlock - (ulong)target : 0;
            }
            bool useLeft = hasLeft && ldist <= rdist;
            var rec = useLeft ? lrec : rrec;
            ulong dist = useLeft ? ldist : rdist;
            if (bestLen >= cap && dist > bestDiff)
            {
                // Nothing this way can beat the best candidate any more.
                if (useLeft)
                    hasLeft = false;
                else
                    hasRight = false;
                continue;
            }
            var usable = anyBusy ? TrimBusy(tp, agno, rec) : rec;
            if (usable.BlockCount >= minlen)
            {
                var (bnoa, lena) = Aligned(usable, alignment);
                if (lena >= minlen)
                {
                    uint len = Math.Min(lena, maxlen);
                    var (bnew, diff) = ComputeDiff(target, len, alignment, bnoa, lena);
                    if (bnew != Null && (len > bestLen || (len == bestLen && diff < bestDiff)))
                        (bestRec, bestBno, bestLen, bestDiff) = (rec, bnew, len, diff);
                }
            }
            if (useLeft)
                hasLeft = left.Decrement();
            else
                hasRight = right.Increment();
        }
        if (bestBno == Null || bestLen < minlen)
            return null;
        FixupTrees(tp, agno, bestRec, bestBno, bestLen);
        return (bestBno, bestLen);
    }

    /// <summary>xfs_alloc_compute_aligned: the first aligned block of the extent and what is left of it from there.</summary>
    private static (uint Bno, uint Len) Aligned(XfsAllocRecord rec, uint alignment)
    {
        ulong bno = RoundUp(rec.StartBlock, alignment);
        ulong skip = bno - rec.StartBlock;
        return skip >= rec.BlockCount ? (rec.StartBlock, 0) : ((uint)bno, (uint)(rec.BlockCount - skip));
    }

    /// <summary>
    /// xfs_alloc_compute_diff: where in the aligned free extent [<paramref name="freeBno"/>,
    /// +<paramref name="freeLen"/>) an extent of <paramref name="wantLen"/> blocks lands nearest
    /// <paramref name="want"/>, and how far from it. NULLAGBLOCK when it does not fit.
    /// </summary>
    private static (uint Bno, ulong Diff) ComputeDiff(uint want, uint wantLen, uint alignment, uint freeBno, uint freeLen)
    {
        ulong freeEnd = (ulong)freeBno + freeLen;
        ulong wantEnd = (ulong)want + wantLen;
        ulong bno;
        if (freeBno >= want)
        {
            // The extent is past the target: take its start.
            bno = RoundUp(freeBno, alignment);
        }
        else if (freeEnd >= wantEnd && alignment > 1)
        {
            // The target fits: the aligned block at or just below the target, whichever gives
            // more (then is closer).
            ulong above = RoundUp(want, alignment);
            ulong below = above - alignment;
            bool aboveOk = above < freeEnd;
            bool belowOk = above >= alignment && below >= freeBno;
            ulong aboveLen = aboveOk ? Math.Min(wantLen, freeEnd - above) : 0;
            ulong belowLen = belowOk ? Math.Min(wantLen, freeEnd - below) : 0;
            if (aboveOk && belowOk)
                bno = aboveLen < belowLen || (aboveLen == belowLen && above - want > want - below) ? below : above;
            else if (belowOk)
                bno = below;
            else if (aboveOk)
                bno = above;
            else
                return (Null, 0);
        }
        else if (freeEnd >= wantEnd)
        {
            bno = want;
        }
        else
        {
            // The extent ends before the target's end: take its tail.
            bno = freeEnd - wantLen;
            if (alignment > 1)
            {
                ulong aligned = RoundUp(bno, alignment);
                bno = aligned > bno && aligned >= alignment && aligned - alignment >= freeBno ? aligned - alignment : aligned;
            }
        }
        if (bno < freeBno || bno + wantLen > freeEnd)
            return (Null, 0);
        return ((uint)bno, bno > want ? bno - want : want - bno);
    }

    private static ulong RoundUp(ulong value, uint alignment) => alignment <= 1 ? value : (value + alignment - 1) / alignment * alignment;

    /// <summary>
    /// xfs_alloc_fixup_trees: takes [<paramref name="rbno"/>, +<paramref name="rlen"/>) out of the
    /// free extent <paramref name="free"/> in both trees, leaving up to two remainders.
    /// </summary>
    private static void FixupTrees(XfsTransaction tp, uint agno, XfsAllocRecord free, uint rbno, uint rlen)
    {
        ulong fend = (ulong)free.StartBlock + free.BlockCount;
        ulong rend = (ulong)rbno + rlen;
        if (rlen == 0 || rbno < free.StartBlock || rend > fend)
            throw new InvalidOperationException($"AG {agno}: allocating {rbno}+{rlen} from free extent {free.StartBlock}+{free.BlockCount}");
        XfsAllocRecord? first = null, second = null;
        if (rbno > free.StartBlock)
            first = new XfsAllocRecord(free.StartBlock, rbno - free.StartBlock);
        if (rend < fend)
        {
            var tail = new XfsAllocRecord((uint)rend, (uint)(fend - rend));
            if (first == null)
                first = tail;
            else
                second = tail;
        }

        var cnt = new XfsBtreeCursor<XfsAllocRecord>(tp, agno, XfsAllocBtreeOps.Cnt);
        if (!cnt.LookupEq(free))
            throw new XfsCorruptionException($"cntbt of AG {agno}", $"free extent {free.StartBlock}+{free.BlockCount} is missing");
        cnt.Delete();
        if (first is XfsAllocRecord f1)
            cnt.Insert(f1);
        if (second is XfsAllocRecord f2)
            cnt.Insert(f2);

        var bno = new XfsBtreeCursor<XfsAllocRecord>(tp, agno, XfsAllocBtreeOps.Bno);
        if (!bno.LookupEq(free) || bno.GetRecord() != free)
            throw new XfsCorruptionException($"bnobt of AG {agno}", $"free extent {free.StartBlock}+{free.BlockCount} is missing (the cntbt has it)");
        if (first is XfsAllocRecord b1)
            bno.Update(b1);
        else
            bno.Delete();
        if (second is XfsAllocRecord b2)
            bno.Insert(b2);
    }

    // ------------------------------------------------------------ freeing

    /// <summary>
    /// xfs_free_ag_extent: puts [<paramref name="bno"/>, +<paramref name="len"/>) back into both
    /// trees, merged with the free extents that touch it. AGFL blocks going back to free space do
    /// not change the superblock's free-block count (they were counted free already).
    /// </summary>
    private static void FreeAgExtent(XfsTransaction tp, uint agno, uint bno, uint len, bool agflBlock)
    {
        var bnoCur = new XfsBtreeCursor<XfsAllocRecord>(tp, agno, XfsAllocBtreeOps.Bno);
        XfsAllocRecord lt = default, gt = default;
        bool haveLeft = bnoCur.LookupLe(new XfsAllocRecord(bno, len));
        if (haveLeft)
        {
            lt = bnoCur.GetRecord();
            ulong ltEnd = (ulong)lt.StartBlock + lt.BlockCount;
            if (ltEnd > bno)
                throw new XfsCorruptionException($"bnobt of AG {agno}", $"freeing {bno}+{len}, which overlaps free extent {lt.StartBlock}+{lt.BlockCount}");
            haveLeft = ltEnd == bno;
        }
        bool haveRight = bnoCur.Increment();
        if (haveRight)
        {
            gt = bnoCur.GetRecord();
            if ((ulong)bno + len > gt.StartBlock)
                throw new XfsCorruptionException($"bnobt of AG {agno}", $"freeing {bno}+{len}, which overlaps free extent {gt.StartBlock}+{gt.BlockCount}");
            haveRight = (ulong)bno + len == gt.StartBlock;
        }

        var cnt = new XfsBtreeCursor<XfsAllocRecord>(tp, agno, XfsAllocBtreeOps.Cnt);
        XfsAllocRecord merged;
        if (haveLeft)
            DeleteExact(cnt, lt, "cntbt", agno);
        if (haveRight)
            DeleteExact(cnt, gt, "cntbt", agno);
        if (haveLeft && haveRight)
        {
            DeleteExact(bnoCur, gt, "bnobt", agno);
            merged = new XfsAllocRecord(lt.StartBlock, lt.BlockCount + len + gt.BlockCount);
            UpdateExact(bnoCur, lt, merged, agno);
        }
        else if (haveLeft)
        {
            merged = new XfsAllocRecord(lt.StartBlock, lt.BlockCount + len);
            UpdateExact(bnoCur, lt, merged, agno);
        }
        else if (haveRight)
        {
            merged = new XfsAllocRecord(bno, len + gt.BlockCount);
            UpdateExact(bnoCur, gt, merged, agno);
        }
        else
        {
            merged = new XfsAllocRecord(bno, len);
            bnoCur.Insert(merged);
        }
        cnt.Insert(merged);
        UpdateCounters(tp, agno, len);
        if (!agflBlock)
            tp.ModifyFreeBlocks(len);
        // Not reusable until this transaction is durable (AGFL blocks too: they may have been
        // free-space B+tree blocks a moment ago).
        tp.Mount.Busy.Insert(tp, agno, bno, len);
    }

    private static void DeleteExact(XfsBtreeCursor<XfsAllocRecord> cur, XfsAllocRecord rec, string tree, uint agno)
    {
        if (!cur.LookupEq(rec) || cur.GetRecord() != rec)
            throw new XfsCorruptionException($"{tree} of AG {agno}", $"free extent {rec.StartBlock}+{rec.BlockCount} is missing");
        cur.Delete();
    }

    private static void UpdateExact(XfsBtreeCursor<XfsAllocRecord> cur, XfsAllocRecord old, XfsAllocRecord updated, uint agno)
    {
        if (!cur.LookupEq(old) || cur.GetRecord() != old)
            throw new XfsCorruptionException($"bnobt of AG {agno}", $"free extent {old.StartBlock}+{old.BlockCount} is missing");
        cur.Update(updated);
    }

    /// <summary>xfs_alloc_update_counters plus the agf_longest fix-up: free blocks change by <paramref name="delta"/>, longest re-read from the cntbt.</summary>
    private static void UpdateCounters(XfsTransaction tp, uint agno, long delta)
    {
        var agf = XfsAgHeaders.ReadAgf(tp, agno);
        long free = agf.FreeBlks + delta;
        if (free < 0 || free > agf.Length)
            throw new XfsCorruptionException($"agf {agno}", $"free block count {agf.FreeBlks} {delta:+0;-0} leaves the AG's range");
        agf.FreeBlks = (uint)free;
        agf.Longest = LongestFreeExtent(tp, agno);
        XfsAgHeaders.WriteAgf(tp, agno, agf);
    }
}
