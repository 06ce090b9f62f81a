using System.Numerics;
using DaxStack.Device.Errors;
using DaxStack.Fs.Xfs.Alloc;
using DaxStack.Fs.Xfs.Btree;
using DaxStack.Fs.Xfs.Buffers;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Xfs.Ialloc;

/// <summary>
/// Inode allocation. Inodes live in 64-inode chunks; the inode B+tree records every chunk and
/// which of its inodes are free, the free-inode B+tree the chunks that have a free one, and the
/// AGI and superblock count them. Allocating takes the free inode nearest the parent (same AG),
/// or the newest chunk's, from the free-inode B+tree; an AG with no free inode first gets a new
/// chunk, placed right after the newest one if that space is free and otherwise near the inode
/// B+tree root on the chunk alignment mkfs chose (sb_inoalignmt), with every inode in it
/// initialised as a free v3 inode (magic, version, generation, its number, uuid, no unlinked
/// successor, CRC). Freeing an inode marks it free in both trees; when that frees the whole chunk
/// the chunk's records and blocks go, unless the filesystem keeps chunks (ikeep). The inode's
/// own core (mode, link count) belongs to the caller. Sparse inode chunks are not supported.
/// </summary>
/// <remarks>Models the kernel's libxfs/xfs_ialloc.c: <c>xfs_dialloc</c>, <c>xfs_dialloc_good_ag</c>, <c>xfs_ialloc_ag_alloc</c>, <c>xfs_ialloc_inode_init</c>, <c>xfs_dialloc_ag</c> (<c>xfs_dialloc_ag_finobt_near</c>, <c>xfs_dialloc_ag_finobt_newino</c>, <c>xfs_dialloc_ag_update_inobt</c>), <c>xfs_dialloc_ag_inobt</c> for filesystems without finobt, and <c>xfs_difree</c> (<c>xfs_difree_inobt</c>, <c>xfs_difree_finobt</c>, <c>xfs_difree_inode_chunk</c>).</remarks>
public static class XfsIalloc
{
    private const int ChunkInodes = XfsFormat.InodesPerChunk;
    private const ulong AllFree = ulong.MaxValue;

    /// <summary>inobt_maxlevels: the tallest an inode B+tree of this filesystem can grow (every possible chunk allocated).</summary>
    public static int InobtMaxLevels(XfsMount mp)
    {
        ArgumentNullException.ThrowIfNull(mp);
        int bs = mp.Geometry.BlockSize;
        ulong chunks = (1UL << mp.Geometry.AgInoBits) / ChunkInodes;
        return XfsBtreeGeometry.ComputeMaxLevels(
            XfsBtreeKind.Ino.MaxRecords(bs, leaf: true) / 2, XfsBtreeKind.Ino.MaxRecords(bs, leaf: false) / 2, chunks);
    }

    /// <summary>XFS_IALLOC_SPACE_RES: blocks a transaction that allocates an inode must reserve (a chunk and splits of both inode trees).</summary>
    public static uint AllocateReservation(XfsMount mp)
    {
        ArgumentNullException.ThrowIfNull(mp);
        return mp.InodeChunkBlocks + (uint)((mp.HasFinobt ? 2 : 1) * InobtMaxLevels(mp));
    }

    /// <summary>XFS_IFREE_SPACE_RES: blocks a transaction that frees an inode must reserve (a free-inode B+tree split).</summary>
    public static uint FreeReservation(XfsMount mp)
    {
        ArgumentNullException.ThrowIfNull(mp);
        return mp.HasFinobt ? (uint)InobtMaxLevels(mp) : 0;
    }

    /// <summary>
    /// Allocates an inode for a new file whose parent directory is <paramref name="parent"/>
    /// (NULLFSINO or 0 for none) and returns its number. A file's search starts in its parent's
    /// AG; a directory's (<paramref name="directory"/>) in the next AG of a rotor, spreading
    /// directories over the filesystem. A new chunk is made only when no AG has a free inode, the
    /// transaction reserved <see cref="AllocateReservation"/> blocks and sb_imax_pct allows more
    /// inodes. ENOSPC (<see cref="XfsException"/>) when no inode can be had.
    /// </summary>
    public static ulong Allocate(XfsTransaction tp, ulong parent, bool directory = false)
    {
        ArgumentNullException.ThrowIfNull(tp);
        var mp = tp.Mount;
        var geo = mp.Geometry;
        bool hasParent = parent != XfsFormat.NullFsIno && parent != 0 && geo.IsValidIno(parent);
        uint start = directory ? mp.NextDirectoryAg() : hasParent ? geo.InoToAgno(parent) : 0;
        ulong max = mp.MaxInodeCount;
        bool roomForMore = max == 0 || (ulong)((long)mp.Superblock.ICount + tp.InodeCountDelta) + ChunkInodes <= max;
        // A transaction that did not reserve for a chunk (as xfs_create retries with when the
        // filesystem is full) can only take inodes that are already free.
        bool reserved = tp.BlocksReserved - tp.BlocksUsed >= AllocateReservation(mp);
        bool okAlloc = roomForMore && reserved;
        for (uint i = 0; i < geo.AgCount; i++)
        {
            uint agno = (start + i) % geo.AgCount;
            var agi = XfsAgHeaders.ReadAgi(tp, agno);
            if (agi.FreeCount == 0)
            {
                if (!okAlloc || !GoodAgForChunk(tp, agno) || !AllocateChunk(tp, agno))
                    continue;
            }
            return AllocateInAg(tp, agno, hasParent ? parent : XfsFormat.NullFsIno);
        }
        throw new XfsException(Errno.ENOSPC,
            !roomForMore ? $"no free inode, and a new chunk would take the inode count past imaxpct's {max}"
            : !reserved ? "no free inode, and the transaction reserved no blocks for a new chunk"
            : "no free inode and no room for a new inode chunk");
    }

    /// <summary>
    /// Frees inode <paramref name="ino"/> (xfs_difree). EINVAL (<see cref="XfsException"/>) for a
    /// number that cannot name an inode here; <see cref="XfsCorruptionException"/> when the inode
    /// is not in an allocated chunk or is already free.
    /// </summary>
    public static void Free(XfsTransaction tp, ulong ino)
    {
        ArgumentNullException.ThrowIfNull(tp);
        var mp = tp.Mount;
        var geo = mp.Geometry;
        if (!geo.IsValidIno(ino))
            throw new XfsException(Errno.EINVAL, $"inode {ino}: not an inode number of this filesystem");
        uint agno = geo.InoToAgno(ino);
        uint agino = geo.InoToAgino(ino);

        var icur = new XfsBtreeCursor<XfsInobtRecord>(tp, agno, XfsInobtOps.Ino);
        if (!icur.LookupLe(new XfsInobtRecord(agino, 0, 0)))
            throw new XfsCorruptionException($"inobt of AG {agno}", $"freeing inode {ino}, which is in no allocated chunk");
        var rec = icur.GetRecord();
        if (agino - rec.StartIno >= ChunkInodes)
            throw new XfsCorruptionException($"inobt of AG {agno}", $"freeing inode {ino}, which is in no allocated chunk");
        int offset = (int)(agino - rec.StartIno);
        ulong bit = 1UL << offset;
        if ((rec.Free & bit) != 0)
            throw new XfsCorruptionException($"inobt of AG {agno}", $"freeing inode {ino}, which is already free");
        var freed = rec with { Free = rec.Free | bit, FreeCount = rec.FreeCount + 1 };
        bool deleteChunk = !mp.Options.Ikeep && freed.Free == AllFree;

        var agi = XfsAgHeaders.ReadAgi(tp, agno);
        if (deleteChunk)
        {
            // The other 63 free inodes were counted free already; this one was not.
            agi.Count -= freed.FreeCount;
            agi.FreeCount -= freed.FreeCount - 1;
            XfsAgHeaders.WriteAgi(tp, agno, agi);
            tp.ModifyInodeCount(-freed.FreeCount);
            tp.ModifyFreeInodes(-(freed.FreeCount - 1));
            icur.Delete();
        }
        else
        {
            agi.FreeCount++;
            XfsAgHeaders.WriteAgi(tp, agno, agi);
            tp.ModifyFreeInodes(+1);
            icur.Update(freed);
        }

        if (mp.HasFinobt)
            FreeInFinobt(tp, agno, freed, bit, deleteChunk);

        if (deleteChunk)
            FreeChunk(tp, agno, geo.AginoToAgbno(freed.StartIno));
    }

    /// <summary>Whether inode <paramref name="ino"/> is allocated according to its AG's inode B+tree.</summary>
    public static bool IsAllocated(XfsTransaction tp, ulong ino)
    {
        ArgumentNullException.ThrowIfNull(tp);
        var geo = tp.Mount.Geometry;
        if (!geo.IsValidIno(ino))
            return false;
        uint agino = geo.InoToAgino(ino);
        var cur = new XfsBtreeCursor<XfsInobtRecord>(tp, geo.InoToAgno(ino), XfsInobtOps.Ino);
        if (!cur.LookupLe(new XfsInobtRecord(agino, 0, 0)))
            return false;
        var rec = cur.GetRecord();
        return agino - rec.StartIno < ChunkInodes && (rec.Free & (1UL << (int)(agino - rec.StartIno))) == 0;
    }

    // ------------------------------------------------------------ chunks

    /// <summary>xfs_dialloc_good_ag for an AG without free inodes: is there room for a chunk (and a block more).</summary>
    private static bool GoodAgForChunk(XfsTransaction tp, uint agno)
    {
        var agf = XfsAgHeaders.ReadAgf(tp, agno);
        uint need = tp.Mount.InodeChunkBlocks;
        uint longest = agf.Longest != 0 ? agf.Longest : agf.FlCount > 0 ? 1u : 0u;
        return agf.FreeBlks >= need + 1 && longest >= need;
    }

    /// <summary>
    /// xfs_ialloc_ag_alloc: allocates and initialises a new chunk in AG <paramref name="agno"/>,
    /// adds it to both inode trees and counts its inodes. False when the AG has no room.
    /// </summary>
    private static bool AllocateChunk(XfsTransaction tp, uint agno)
    {
        var mp = tp.Mount;
        var geo = mp.Geometry;
        uint blocks = mp.InodeChunkBlocks;
        uint align = mp.InodeChunkAlignment;
        uint minLeft = (uint)InobtMaxLevels(mp);
        uint agLength = geo.AgLength(agno);
        var agi = XfsAgHeaders.ReadAgi(tp, agno);

        XfsAgExtent extent = default;
        bool got = false;
        if (agi.NewIno != XfsFormat.NullAgIno)
        {
            // First try the blocks right after the newest chunk, keeping chunks together.
            ulong next = (ulong)geo.AginoToAgbno(agi.NewIno) + blocks;
            if (next + blocks <= agLength)
            {
                got = XfsAlloc.TryAllocate(tp, new XfsAllocRequest(XfsAllocType.ThisBno, agno, (uint)next, blocks, blocks,
                    MinLeft: minLeft, MinAlignSlop: align - 1), out extent);
            }
        }
        if (!got)
        {
            got = XfsAlloc.TryAllocate(tp, new XfsAllocRequest(XfsAllocType.NearBno, agno, agi.Root, blocks, blocks,
                Alignment: align, MinLeft: minLeft), out extent);
        }
        if (!got)
            return false;
        if (extent.Length != blocks || extent.AgBno % align != 0)
            throw new InvalidOperationException($"AG {agno}: inode chunk allocation returned {extent}, not {blocks} blocks aligned to {align}");

        InitializeChunk(tp, agno, extent.AgBno);
        uint startIno = geo.AgBlockToAgino(extent.AgBno);
        var rec = new XfsInobtRecord(startIno, ChunkInodes, AllFree);
        new XfsBtreeCursor<XfsInobtRecord>(tp, agno, XfsInobtOps.Ino).Insert(rec);
        if (mp.HasFinobt)
            new XfsBtreeCursor<XfsInobtRecord>(tp, agno, XfsInobtOps.Fino).Insert(rec);

        agi = XfsAgHeaders.ReadAgi(tp, agno);
        agi.Count += ChunkInodes;
        agi.FreeCount += ChunkInodes;
        agi.NewIno = startIno;
        XfsAgHeaders.WriteAgi(tp, agno, agi);
        tp.ModifyInodeCount(ChunkInodes);
        tp.ModifyFreeInodes(ChunkInodes);
        return true;
    }

    /// <summary>xfs_ialloc_inode_init: writes every inode of the new chunk as a free v3 inode, one cluster buffer at a time.</summary>
    private static void InitializeChunk(XfsTransaction tp, uint agno, uint agbno)
    {
        var mp = tp.Mount;
        var geo = mp.Geometry;
        uint clusterBlocks = Math.Min(mp.InodeClusterBlocks, mp.InodeChunkBlocks);
        int clusterBytes = (int)clusterBlocks * geo.BlockSize;
        // One random generation for the whole chunk, so a chunk freed and reallocated does not
        // hand out the generations it had before.
        uint gen = mp.NextGeneration();
        int literal = geo.InodeSize - XfsDinode.CoreSize;
        for (uint c = 0; c < mp.InodeChunkBlocks; c += clusterBlocks)
        {
            var bp = tp.GetBuffer(geo.AgBlockToDaddr(agno, agbno + c), clusterBytes, XfsInodeBufferOps.Instance);
            ulong first = geo.MakeIno(agno, geo.AgBlockToAgino(agbno + c));
            for (int i = 0; i < clusterBytes / geo.InodeSize; i++)
            {
                new XfsDinode
                {
                    Gen = gen,
                    NextUnlinked = XfsFormat.NullAgIno,
                    Ino = first + (ulong)i,
                    Uuid = mp.MetadataUuid,
                    Literal = new byte[literal],
                }.WriteTo(bp.Data.AsSpan(i * geo.InodeSize, geo.InodeSize));
            }
            tp.LogBuffer(bp, 0, bp.Length);
        }
    }

    /// <summary>xfs_difree_inode_chunk: drops the chunk's cached inode buffers and frees its blocks.</summary>
    private static void FreeChunk(XfsTransaction tp, uint agno, uint agbno)
    {
        var mp = tp.Mount;
        var geo = mp.Geometry;
        uint clusterBlocks = Math.Min(mp.InodeClusterBlocks, mp.InodeChunkBlocks);
        for (uint c = 0; c < mp.InodeChunkBlocks; c += clusterBlocks)
        {
            var bp = mp.Buffers.Find(geo.AgBlockToDaddr(agno, agbno + c), (int)clusterBlocks * geo.BlockSize);
            if (bp != null)
                tp.Invalidate(bp);
        }
        XfsAlloc.Free(tp, agno, agbno, mp.InodeChunkBlocks);
    }

    // ------------------------------------------------------------ inodes

    /// <summary>xfs_dialloc_ag: takes a free inode of AG <paramref name="agno"/>, which has at least one.</summary>
    private static ulong AllocateInAg(XfsTransaction tp, uint agno, ulong parent)
    {
        var mp = tp.Mount;
        var geo = mp.Geometry;
        var agi = XfsAgHeaders.ReadAgi(tp, agno);
        bool sameAg = parent != XfsFormat.NullFsIno && geo.InoToAgno(parent) == agno;
        uint pagino = sameAg ? geo.InoToAgino(parent) : agi.NewIno;

        XfsInobtRecord rec;
        if (mp.HasFinobt)
        {
            var fcur = new XfsBtreeCursor<XfsInobtRecord>(tp, agno, XfsInobtOps.Fino);
            rec = sameAg && pagino != XfsFormat.NullAgIno ? FinobtNear(fcur, pagino) : FinobtNewIno(fcur, agi);
        }
        else
        {
            rec = InobtWithFree(tp, agno, pagino);
        }

        int offset = BitOperations.TrailingZeroCount(rec.Free);
        ulong bit = 1UL << offset;
        var taken = rec with { Free = rec.Free & ~bit, FreeCount = rec.FreeCount - 1 };

        if (mp.HasFinobt)
        {
            var fcur = new XfsBtreeCursor<XfsInobtRecord>(tp, agno, XfsInobtOps.Fino);
            if (!fcur.LookupEq(rec))
                throw new InvalidOperationException($"finobt of AG {agno}: chunk {rec.StartIno} vanished");
            if (taken.FreeCount > 0)
                fcur.Update(taken);
            else
                fcur.Delete();
        }

        // Change the inobt record on its own and compare, so the two trees check each other.
        var icur = new XfsBtreeCursor<XfsInobtRecord>(tp, agno, XfsInobtOps.Ino);
        if (!icur.LookupEq(rec))
            throw new XfsCorruptionException($"inobt of AG {agno}", $"chunk {rec.StartIno} is in the free-inode B+tree but not the inode B+tree");
        var irec = icur.GetRecord();
        if ((irec.Free & bit) == 0)
            throw new XfsCorruptionException($"inobt of AG {agno}", $"inode {rec.StartIno + offset} is free in the free-inode B+tree but not in the inode B+tree");
        irec = irec with { Free = irec.Free & ~bit, FreeCount = irec.FreeCount - 1 };
        if (irec != taken)
            throw new XfsCorruptionException($"inobt of AG {agno}", $"chunk {rec.StartIno}: inode B+tree record {irec} differs from the free-inode B+tree's {taken}");
        icur.Update(irec);

        agi = XfsAgHeaders.ReadAgi(tp, agno);
        if (agi.FreeCount == 0)
            throw new XfsCorruptionException($"agi {agno}", "allocating an inode when agi_freecount is 0");
        agi.FreeCount--;
        XfsAgHeaders.WriteAgi(tp, agno, agi);
        tp.ModifyFreeInodes(-1);
        return geo.MakeIno(agno, rec.StartIno + (uint)offset);
    }

    /// <summary>xfs_dialloc_ag_finobt_near: the chunk with a free inode nearest <paramref name="pagino"/>.</summary>
    private static XfsInobtRecord FinobtNear(XfsBtreeCursor<XfsInobtRecord> cur, uint pagino)
    {
        var search = new XfsInobtRecord(pagino, 0, 0);
        XfsInobtRecord left = default, right = default;
        bool haveLeft = cur.LookupLe(search);
        if (haveLeft)
        {
            left = cur.GetRecord();
            if (pagino - left.StartIno < ChunkInodes)
                return left;
        }
        bool haveRight = cur.LookupGe(search);
        if (haveRight)
            right = cur.GetRecord();
        if (haveLeft && haveRight)
            return (ulong)pagino - left.StartIno + ChunkInodes - 1 > (ulong)right.StartIno - pagino ? right : left;
        if (haveLeft)
            return left;
        if (haveRight)
            return right;
        throw new XfsCorruptionException($"finobt of AG {cur.AgNo}", "empty, though the AGI counts free inodes");
    }

    /// <summary>xfs_dialloc_ag_finobt_newino: the newest chunk if it has a free inode, else the first chunk that does.</summary>
    private static XfsInobtRecord FinobtNewIno(XfsBtreeCursor<XfsInobtRecord> cur, XfsAgi agi)
    {
        if (agi.NewIno != XfsFormat.NullAgIno && cur.LookupEq(new XfsInobtRecord(agi.NewIno, 0, 0)))
            return cur.GetRecord();
        if (!cur.LookupGe(new XfsInobtRecord(0, 0, 0)))
            throw new XfsCorruptionException($"finobt of AG {cur.AgNo}", "empty, though the AGI counts free inodes");
        return cur.GetRecord();
    }

    /// <summary>Without a free-inode B+tree: the first chunk with a free inode at or after <paramref name="pagino"/>'s, else from the start.</summary>
    private static XfsInobtRecord InobtWithFree(XfsTransaction tp, uint agno, uint pagino)
    {
        var cur = new XfsBtreeCursor<XfsInobtRecord>(tp, agno, XfsInobtOps.Ino);
        uint from = pagino == XfsFormat.NullAgIno ? 0 : pagino;
        for (bool ok = cur.LookupLe(new XfsInobtRecord(from, 0, 0)) || cur.LookupGe(new XfsInobtRecord(from, 0, 0)); ok; ok = cur.Increment())
        {
            var rec = cur.GetRecord();
            if (rec.FreeCount > 0)
                return rec;
        }
        for (bool ok = cur.MoveFirst(); ok; ok = cur.Increment())
        {
            var rec = cur.GetRecord();
            if (rec.FreeCount > 0)
                return rec;
        }
        throw new XfsCorruptionException($"inobt of AG {agno}", "no chunk with a free inode, though the AGI counts some");
    }

    /// <summary>xfs_difree_finobt: mirrors the freed inode into the free-inode B+tree.</summary>
    private static void FreeInFinobt(XfsTransaction tp, uint agno, XfsInobtRecord freed, ulong bit, bool deleteChunk)
    {
        var fcur = new XfsBtreeCursor<XfsInobtRecord>(tp, agno, XfsInobtOps.Fino);
        if (!fcur.LookupEq(freed))
        {
            // The chunk had no free inode, so it was not in the tree: this is its first.
            if (freed.FreeCount != 1 || deleteChunk)
                throw new XfsCorruptionException($"finobt of AG {agno}", $"chunk {freed.StartIno} with free inodes is missing");
            fcur.Insert(freed);
            return;
        }
        var frec = fcur.GetRecord();
        if ((frec.Free & bit) != 0)
            throw new XfsCorruptionException($"finobt of AG {agno}", $"chunk {freed.StartIno}: the inode being freed is already free here");
        frec = frec with { Free = frec.Free | bit, FreeCount = frec.FreeCount + 1 };
        if (frec != freed)
            throw new XfsCorruptionException($"finobt of AG {agno}", $"chunk {freed.StartIno}: free-inode B+tree record {frec} differs from the inode B+tree's {freed}");
        if (deleteChunk)
            fcur.Delete();
        else
            fcur.Update(frec);
    }
}
