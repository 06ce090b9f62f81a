using DaxStack.Device.Errors;
using DaxStack.Fs.Xfs.Alloc;
using DaxStack.Fs.Xfs.Buffers;
using DaxStack.Fs.Xfs.Inode;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Xfs.Bmap;

/// <summary>
/// The block map of an inode's data fork: which filesystem blocks hold which file blocks.
/// <see cref="Read"/> reports mappings and holes; <see cref="Allocate"/> fills holes with newly
/// allocated blocks (written or unwritten); <see cref="Unmap"/> removes mappings and frees their
/// blocks; <see cref="Convert"/> turns unwritten mappings into written ones and back. Records
/// merge with their neighbours when they are contiguous in the file and on disk and in the same
/// state, as XFS merges them. Each changing operation ends by restoring the fork's format
/// (extents in the inode while they fit, a bmap B+tree beyond), writing the changed B+tree
/// blocks and logging the inode. The caller's transaction must have reserved the blocks
/// (<see cref="WriteReservation"/>); one call maps at most <see cref="MaxNewExtents"/> new
/// extents, so a caller filling a large fragmented range loops over transactions, as callers
/// of xfs_bmapi_write do.
/// </summary>
/// <remarks>Models the kernel's xfs_bmap.c: <c>xfs_bmapi_read</c>, <c>xfs_bmapi_write</c> (<c>xfs_bmap_add_extent_hole_real</c>, <c>xfs_bmap_add_extent_unwritten_real</c>, <c>xfs_bmap_btalloc</c>), <c>__xfs_bunmapi</c> (<c>xfs_bmap_del_extent_real</c>), <c>xfs_bmap_extents_to_btree</c> and <c>xfs_bmap_btree_to_extents</c>.</remarks>
public static class XfsBmap
{
    /// <summary>New extents one <see cref="Allocate"/> call may create (XFS_BMAP_MAX_NMAP).</summary>
    public const int MaxNewExtents = 4;

    /// <summary>The largest file block offset a mapping may reach (XFS_MAX_FILEOFF).</summary>
    public const ulong MaxFileOffset = XfsBmbtRecord.MaxStartOff;

    /// <summary>XFS_BM_MAXLEVELS: the deepest bmap B+tree (with its inode root) a fork of this filesystem can need.</summary>
    public static int MaxLevels(XfsMount mp, int forkSize)
    {
        ArgumentNullException.ThrowIfNull(mp);
        int blockMin = XfsBtreeLongBlock.MaxRecords(mp.Geometry.BlockSize) / 2;
        int rootMax = XfsBmbtTree.RootMaxFor(forkSize);
        // Enough levels for 2^32 extents (the 32-bit di_nextents limit).
        double records = Math.Pow(2, 32);
        int levels = 1;
        double covered = rootMax;
        double leafRecords = blockMin;
        while (covered * leafRecords < records)
        {
            covered *= blockMin;
            levels++;
        }
        return levels + 1;
    }

    /// <summary>
    /// Blocks a transaction mapping up to <paramref name="dataBlocks"/> new data blocks (in at
    /// most <see cref="MaxNewExtents"/> extents) must reserve: the data plus a split of every
    /// B+tree level per new record (XFS_DIOSTRAT_SPACE_RES / XFS_EXTENTADD_SPACE_RES).
    /// </summary>
    public static uint WriteReservation(XfsMount mp, uint dataBlocks) =>
        dataBlocks + (uint)(MaxNewExtents * MaxLevels(mp, XfsFormat.InodeSize - XfsDinode.CoreSize));

    /// <summary>Blocks a transaction removing mappings must reserve: a punch can split one record (XFS_BUNMAPI worst case), and in a reflinked file one record's reference-count update can split the refcount B+tree.</summary>
    public static uint UnmapReservation(XfsMount mp) => (uint)MaxLevels(mp, XfsFormat.InodeSize - XfsDinode.CoreSize) + Reflink.XfsRefcount.AdjustReservation;

    // ------------------------------------------------------------ read

    /// <summary>
    /// xfs_bmapi_read: the mappings covering file blocks <paramref name="offset"/>..+<paramref name="count"/>,
    /// holes included, in order, appended to <paramref name="result"/>.
    /// </summary>
    public static void Read(XfsInode ip, ulong offset, ulong count, List<XfsBmapMapping> result)
    {
        ArgumentNullException.ThrowIfNull(ip);
        ArgumentNullException.ThrowIfNull(result);
        if (count == 0)
            return;
        ulong end = offset + count;
        var fork = ip.DataFork;
        if (fork.Format == XfsDinodeFormat.Local)
            throw new XfsException(Errno.EINVAL, $"inode {ip.Ino}: a local fork has no block map");
        int i = fork.Find(offset);
        if (i < 0)
            i = ~i;
        ulong pos = offset;
        for (; i < fork.Count && pos < end; i++)
        {
            var e = fork.Extents[i];
            if (e.StartOff >= end)
                break;
            if (e.StartOff > pos)
            {
                result.Add(new XfsBmapMapping(pos, 0, e.StartOff - pos, XfsBmapState.Hole));
                pos = e.StartOff;
            }
            ulong skip = pos - e.StartOff;
            ulong len = Math.Min(e.StartOff + e.BlockCount, end) - pos;
            result.Add(new XfsBmapMapping(pos, e.StartBlock + skip, len, e.Unwritten ? XfsBmapState.Unwritten : XfsBmapState.Written));
            pos += len;
        }
        if (pos < end)
            result.Add(new XfsBmapMapping(pos, 0, end - pos, XfsBmapState.Hole));
    }

    /// <summary>The mapping that contains file block <paramref name="offset"/> (a hole up to the next extent, or to <see cref="MaxFileOffset"/>).</summary>
    public static XfsBmapMapping Lookup(XfsInode ip, ulong offset)
    {
        ArgumentNullException.ThrowIfNull(ip);
        var fork = ip.DataFork;
        int i = fork.Find(offset);
        if (i >= 0)
        {
            var e = fork.Extents[i];
            ulong skip = offset - e.StartOff;
            return new XfsBmapMapping(offset, e.StartBlock + skip, e.BlockCount - skip, e.Unwritten ? XfsBmapState.Unwritten : XfsBmapState.Written);
        }
        i = ~i;
        ulong next = i < fork.Count ? fork.Extents[i].StartOff : MaxFileOffset + 1;
        return new XfsBmapMapping(offset, 0, next - offset, XfsBmapState.Hole);
    }

    /// <summary>xfs_bmap_last_offset: one past the last mapped file block (0 when nothing is mapped).</summary>
    public static ulong LastOffset(XfsInode ip)
    {
        ArgumentNullException.ThrowIfNull(ip);
        var fork = ip.DataFork;
        return fork.Count == 0 ? 0 : fork.Extents[^1].StartOff + fork.Extents[^1].BlockCount;
    }

    // ------------------------------------------------------------ allocate

    /// <summary>
    /// xfs_bmapi_write: allocates blocks for the holes in file blocks
    /// <paramref name="offset"/>..+<paramref name="count"/>, as <paramref name="unwritten"/>
    /// (preallocated, reading as zeroes) or written extents, placing each new extent right
    /// after the blocks of the file block before it when it can, else near the inode. Stops
    /// after <see cref="MaxNewExtents"/> new extents or when the range is mapped and returns the
    /// number of file blocks from <paramref name="offset"/> that are now mapped (the caller
    /// continues from there in a new transaction). ENOSPC (<see cref="XfsException"/>) when not
    /// even one block can be had; EFBIG past <see cref="MaxFileOffset"/>.
    /// </summary>
    public static ulong Allocate(XfsTransaction tp, XfsInode ip, ulong offset, ulong count, bool unwritten)
    {
        ArgumentNullException.ThrowIfNull(tp);
        ArgumentNullException.ThrowIfNull(ip);
        CheckRange(ip, offset, count);
        ip.Join(tp);
        var fork = ip.DataFork;
        if (fork.Format == XfsDinodeFormat.Local)
            throw new XfsException(Errno.EINVAL, $"inode {ip.Ino}: a local fork has no block map");
        var geo = tp.Mount.Geometry;
        ulong end = offset + count;
        ulong pos = offset;
        int made = 0;
        while (pos < end)
        {
            var map = Lookup(ip, pos);
            if (!map.IsHole)
            {
                pos += Math.Min(map.BlockCount, end - pos);
                continue;
            }
            if (made == MaxNewExtents)
                break;
            ulong want = Math.Min(Math.Min(map.BlockCount, end - pos), XfsBmbtRecord.MaxBlockCount);
            uint left = tp.BlocksReserved - tp.BlocksUsed;
            // Keep what the B+tree may need to take this record (a split on every level).
            uint keep = (uint)MaxLevels(tp.Mount, ip.DataForkSize);
            if (left <= keep)
            {
                if (made > 0)
                    break;
                throw new InvalidOperationException($"inode {ip.Ino}: the transaction reserved {tp.BlocksReserved} blocks, too few to map any");
            }
            want = Math.Min(want, left - keep);
            ulong target = AllocationTarget(ip, pos);
            uint tagno = geo.FsbToAgno(target);
            if (!XfsAlloc.TryAllocate(tp, XfsAllocRequest.Near(tagno, geo.FsbToAgbno(target), 1, (uint)want), out var got)
                && !XfsAlloc.TryAllocateAnyAg(tp, (tagno + 1) % geo.AgCount, 1, (uint)want, 1, out got))
            {
                if (made > 0)
                    break;
                Finish(tp, ip);
                throw new XfsException(Errno.ENOSPC, $"inode {ip.Ino}: no free block for file block {pos}");
            }
            var rec = new XfsBmbtRecord(pos, geo.AgBlockToFsb(got.AgNo, got.AgBno), got.Length, unwritten);
            AddMapping(ip, rec);
            ip.Core.NBlocks += got.Length;
            pos += got.Length;
            made++;
        }
        Finish(tp, ip);
        return pos - offset;
    }

    /// <summary>
    /// Maps file blocks <paramref name="record"/>.StartOff..+BlockCount, which must be a hole,
    /// to the given blocks, which the caller already owns (allocated in this transaction, or
    /// shared through a reference count): the remap step of reflink and of collapsing ranges.
    /// </summary>
    public static void MapExisting(XfsTransaction tp, XfsInode ip, XfsBmbtRecord record)
    {
        ArgumentNullException.ThrowIfNull(tp);
        ArgumentNullException.ThrowIfNull(ip);
        CheckRange(ip, record.StartOff, record.BlockCount);
        ip.Join(tp);
        var map = Lookup(ip, record.StartOff);
        if (!map.IsHole || map.BlockCount < record.BlockCount)
            throw new InvalidOperationException($"inode {ip.Ino}: file blocks {record.StartOff}+{record.BlockCount} are not a hole");
        AddMapping(ip, record);
        ip.Core.NBlocks += record.BlockCount;
        Finish(tp, ip);
    }

    private static void CheckRange(XfsInode ip, ulong offset, ulong count)
    {
        if (count == 0)
            throw new ArgumentOutOfRangeException(nameof(count), "mapping zero blocks");
        if (offset > MaxFileOffset || count > MaxFileOffset + 1 - offset)
            throw new XfsException(Errno.EFBIG, $"inode {ip.Ino}: file blocks {offset}+{count} pass the largest file offset {MaxFileOffset}");
    }

    // The block a new extent at file block pos should start at: right after the blocks of the
    // extent before it in the file (so sequential writes stay contiguous), else near the inode.
    private static ulong AllocationTarget(XfsInode ip, ulong pos)
    {
        var geo = ip.Mount.Geometry;
        var fork = ip.DataFork;
        int i = ~fork.Find(pos);
        if (i > 0)
        {
            var prev = fork.Extents[i - 1];
            ulong candidate = prev.StartBlock + prev.BlockCount + (pos - (prev.StartOff + prev.BlockCount));
            if (geo.IsValidFsb(candidate) && geo.FsbToAgno(candidate) == geo.FsbToAgno(prev.StartBlock))
                return candidate;
            return prev.StartBlock + prev.BlockCount - 1;
        }
        uint agno = geo.InoToAgno(ip.Ino);
        return geo.AgBlockToFsb(agno, geo.AginoToAgbno(geo.InoToAgino(ip.Ino)));
    }

    // Inserts a record into a hole, merging it with neighbours that continue it.
    private static void AddMapping(XfsInode ip, XfsBmbtRecord rec)
    {
        var fork = ip.DataFork;
        int i = fork.Find(rec.StartOff);
        if (i >= 0)
            throw new InvalidOperationException($"inode {ip.Ino}: file block {rec.StartOff} is already mapped");
        i = ~i;
        bool left = i > 0 && Continues(fork.Extents[i - 1], rec);
        bool right = i < fork.Count && Continues(rec, fork.Extents[i]);
        if (left && right && (ulong)fork.Extents[i - 1].BlockCount + rec.BlockCount + fork.Extents[i].BlockCount > XfsBmbtRecord.MaxBlockCount)
            right = false;
        if (left && right)
        {
            var l = fork.Extents[i - 1];
            fork.Set(i - 1, l with { BlockCount = l.BlockCount + rec.BlockCount + fork.Extents[i].BlockCount });
            fork.RemoveAt(i);
        }
        else if (left)
        {
            var l = fork.Extents[i - 1];
            fork.Set(i - 1, l with { BlockCount = l.BlockCount + rec.BlockCount });
        }
        else if (right)
        {
            var r = fork.Extents[i];
            fork.Set(i, rec with { BlockCount = rec.BlockCount + r.BlockCount });
        }
        else
        {
            fork.Insert(i, rec);
        }
    }

    // Whether b directly continues a (adjacent in the file and on disk, same state, and the
    // merged record still fits).
    private static bool Continues(XfsBmbtRecord a, XfsBmbtRecord b) =>
        a.StartOff + a.BlockCount == b.StartOff
        && a.StartBlock + a.BlockCount == b.StartBlock
        && a.Unwritten == b.Unwritten
        && (ulong)a.BlockCount + b.BlockCount <= XfsBmbtRecord.MaxBlockCount;

    // ------------------------------------------------------------ unmap

    /// <summary>
    /// __xfs_bunmapi: removes the mappings of file blocks <paramref name="offset"/>..+<paramref name="count"/>
    /// (splitting records that straddle the range) and hands each removed physical range to
    /// <paramref name="release"/>; by default the blocks are freed, or for a reflinked file one
    /// reference is dropped (<see cref="Reflink.XfsReflink.Release"/>). Returns the number of
    /// blocks unmapped.
    /// </summary>
    public static ulong Unmap(XfsTransaction tp, XfsInode ip, ulong offset, ulong count, Action<XfsTransaction, ulong, uint>? release = null)
    {
        ArgumentNullException.ThrowIfNull(tp);
        ArgumentNullException.ThrowIfNull(ip);
        if (count == 0)
            return 0;
        ip.Join(tp);
        var fork = ip.DataFork;
        if (fork.Format == XfsDinodeFormat.Local)
            throw new XfsException(Errno.EINVAL, $"inode {ip.Ino}: a local fork has no block map");
        release ??= (ip.Core.Flags2 & XfsDiFlags2.Reflink) != 0 ? Reflink.XfsReflink.Release(ip) : FreeBlocks;
        ulong end = offset > MaxFileOffset ? offset : Math.Min(offset + count, MaxFileOffset + 1);
        ulong removed = 0;
        int i = fork.Find(offset);
        if (i < 0)
            i = ~i;
        while (i < fork.Count)
        {
            var e = fork.Extents[i];
            if (e.StartOff >= end)
                break;
            ulong eEnd = e.StartOff + e.BlockCount;
            ulong from = Math.Max(e.StartOff, offset);
            ulong to = Math.Min(eEnd, end);
            uint len = (uint)(to - from);
            ulong physical = e.StartBlock + (from - e.StartOff);
            if (from == e.StartOff && to == eEnd)
            {
                fork.RemoveAt(i);
            }
            else if (from == e.StartOff)
            {
                fork.Set(i, new XfsBmbtRecord(to, e.StartBlock + (to - e.StartOff), (uint)(eEnd - to), e.Unwritten));
                i++;
            }
            else if (to == eEnd)
            {
                fork.Set(i, e with { BlockCount = (uint)(from - e.StartOff) });
                i++;
            }
            else
            {
                fork.Set(i, e with { BlockCount = (uint)(from - e.StartOff) });
                fork.Insert(i + 1, new XfsBmbtRecord(to, e.StartBlock + (to - e.StartOff), (uint)(eEnd - to), e.Unwritten));
                i += 2;
            }
            release(tp, physical, len);
            ip.Core.NBlocks -= len;
            removed += len;
        }
        Finish(tp, ip);
        return removed;
    }

    /// <summary>Records one <see cref="UnmapRange"/> transaction removes from a plain file.</summary>
    public const int RecordsPerTransaction = 64;

    /// <summary>Records one <see cref="UnmapRange"/> transaction removes from a reflinked file, each with a reference-count update.</summary>
    public const int SharedRecordsPerTransaction = 8;

    /// <summary>
    /// Removes every mapping of file blocks <paramref name="from"/>..+<paramref name="count"/> in
    /// as many transactions of its own as it takes, the last records first and a bounded number
    /// per transaction (fewer in a reflinked file, whose reference-count updates need their share
    /// of the reservation), as xfs_itruncate_extents and xfs_free_file_space roll their
    /// transactions around __xfs_bunmapi.
    /// </summary>
    public static void UnmapRange(XfsInode ip, ulong from, ulong count)
    {
        ArgumentNullException.ThrowIfNull(ip);
        var mp = ip.Mount;
        ulong end = count > MaxFileOffset + 1 - Math.Min(from, MaxFileOffset + 1) ? MaxFileOffset + 1 : from + count;
        bool shared = (ip.Core.Flags2 & XfsDiFlags2.Reflink) != 0;
        int batch = shared ? SharedRecordsPerTransaction : RecordsPerTransaction;
        uint reservation = UnmapReservation(mp) + (shared ? (uint)batch * Reflink.XfsRefcount.AdjustReservation : 0);
        while (true)
        {
            var fork = ip.DataFork;
            if (fork.Format is not (XfsDinodeFormat.Extents or XfsDinodeFormat.Btree))
                return;
            // The last record that starts before the end of the range.
            int last = fork.Find(end - 1);
            if (last < 0)
                last = ~last - 1;
            if (last < 0 || fork.Extents[last].StartOff + fork.Extents[last].BlockCount <= from)
                return;
            int first = Math.Max(0, last - batch + 1);
            ulong start = Math.Max(from, fork.Extents[first].StartOff);
            using var tp = XfsTransaction.Begin(mp, reservation);
            Unmap(tp, ip, start, end - start);
            tp.Commit();
            end = start;
            if (end <= from)
                return;
        }
    }

    /// <summary>Frees filesystem blocks <paramref name="fsb"/>..+<paramref name="length"/> (the default release of <see cref="Unmap"/>).</summary>
    public static void FreeBlocks(XfsTransaction tp, ulong fsb, uint length)
    {
        ArgumentNullException.ThrowIfNull(tp);
        var geo = tp.Mount.Geometry;
        XfsAlloc.Free(tp, geo.FsbToAgno(fsb), geo.FsbToAgbno(fsb), length);
    }

    // ------------------------------------------------------------ convert

    /// <summary>
    /// Marks the mapped blocks in file blocks <paramref name="offset"/>..+<paramref name="count"/>
    /// written (or unwritten when <paramref name="toUnwritten"/>), splitting records at the range
    /// edges and merging the results with neighbours in the same state; holes stay holes
    /// (xfs_bmap_add_extent_unwritten_real through xfs_bmapi_convert_unwritten / XFS_BMAPI_CONVERT).
    /// </summary>
    public static void Convert(XfsTransaction tp, XfsInode ip, ulong offset, ulong count, bool toUnwritten)
    {
        ArgumentNullException.ThrowIfNull(tp);
        ArgumentNullException.ThrowIfNull(ip);
        if (count == 0)
            return;
        ip.Join(tp);
        var fork = ip.DataFork;
        ulong end = offset + count;
        int i = fork.Find(offset);
        if (i < 0)
            i = ~i;
        int first = i;
        while (i < fork.Count && fork.Extents[i].StartOff < end)
        {
            var e = fork.Extents[i];
            if (e.Unwritten == toUnwritten)
            {
                i++;
                continue;
            }
            ulong eEnd = e.StartOff + e.BlockCount;
            ulong from = Math.Max(e.StartOff, offset);
            ulong to = Math.Min(eEnd, end);
            var middle = new XfsBmbtRecord(from, e.StartBlock + (from - e.StartOff), (uint)(to - from), toUnwritten);
            if (from > e.StartOff)
            {
                fork.Set(i, e with { BlockCount = (uint)(from - e.StartOff) });
                fork.Insert(++i, middle);
            }
            else
            {
                fork.Set(i, middle);
            }
            if (to < eEnd)
                fork.Insert(i + 1, new XfsBmbtRecord(to, e.StartBlock + (to - e.StartOff), (uint)(eEnd - to), e.Unwritten));
            i++;
        }
        MergeRun(fork, Math.Max(0, first - 1), Math.Min(fork.Count, i + 1));
        Finish(tp, ip);
    }

    // Merges neighbouring records in [from, to) that continue each other.
    private static void MergeRun(XfsIfork fork, int from, int to)
    {
        int j = from;
        while (j + 1 < Math.Min(to, fork.Count))
        {
            var a = fork.Extents[j];
            var b = fork.Extents[j + 1];
            if (Continues(a, b))
            {
                fork.Set(j, a with { BlockCount = a.BlockCount + b.BlockCount });
                fork.RemoveAt(j + 1);
                to--;
            }
            else
            {
                j++;
            }
        }
    }

    // ------------------------------------------------------------ shift

    /// <summary>
    /// xfs_bmap_collapse_extents: moves every mapping at or after file block <paramref name="from"/>
    /// down by <paramref name="shift"/> blocks. The blocks [from - shift, from) must be a hole
    /// (the caller punched them); a moved record that continues the one before merges with it.
    /// </summary>
    public static void ShiftLeft(XfsTransaction tp, XfsInode ip, ulong from, ulong shift)
    {
        ArgumentNullException.ThrowIfNull(tp);
        ArgumentNullException.ThrowIfNull(ip);
        if (shift == 0)
            return;
        if (shift > from)
            throw new ArgumentOutOfRangeException(nameof(shift), $"cannot move file block {from} down by {shift}");
        ip.Join(tp);
        var fork = ip.DataFork;
        int i = fork.Find(from);
        if (i >= 0 && fork.Extents[i].StartOff < from)
            throw new InvalidOperationException($"inode {ip.Ino}: an extent straddles file block {from}; split it first");
        if (i < 0)
            i = ~i;
        if (i > 0 && fork.Extents[i - 1].StartOff + fork.Extents[i - 1].BlockCount > from - shift)
            throw new InvalidOperationException($"inode {ip.Ino}: file blocks {from - shift}..{from} are not a hole");
        for (int j = i; j < fork.Count; j++)
        {
            var e = fork.Extents[j];
            fork.Set(j, e with { StartOff = e.StartOff - shift });
        }
        if (i > 0 && i < fork.Count)
            MergeRun(fork, i - 1, i + 1);
        Finish(tp, ip);
    }

    /// <summary>
    /// xfs_bmap_insert_extents with xfs_bmap_split_extent: splits the record that straddles file
    /// block <paramref name="from"/> there, then moves every mapping at or after it up by
    /// <paramref name="shift"/> blocks, opening a hole. EFBIG when a mapping would pass
    /// <see cref="MaxFileOffset"/>.
    /// </summary>
    public static void ShiftRight(XfsTransaction tp, XfsInode ip, ulong from, ulong shift)
    {
        ArgumentNullException.ThrowIfNull(tp);
        ArgumentNullException.ThrowIfNull(ip);
        if (shift == 0)
            return;
        ip.Join(tp);
        var fork = ip.DataFork;
        ulong last = LastOffset(ip);
        if (last > from && (last - 1 > MaxFileOffset - shift))
            throw new XfsException(Errno.EFBIG, $"inode {ip.Ino}: shifting by {shift} blocks would pass the largest file offset");
        int i = fork.Find(from);
        if (i >= 0 && fork.Extents[i].StartOff < from)
        {
            var e = fork.Extents[i];
            uint head = (uint)(from - e.StartOff);
            fork.Set(i, e with { BlockCount = head });
            fork.Insert(i + 1, new XfsBmbtRecord(from, e.StartBlock + head, e.BlockCount - head, e.Unwritten));
            i++;
        }
        else if (i < 0)
        {
            i = ~i;
        }
        for (int j = fork.Count - 1; j >= i; j--)
        {
            var e = fork.Extents[j];
            fork.Set(j, e with { StartOff = e.StartOff + shift });
        }
        Finish(tp, ip);
    }

    // ------------------------------------------------------------ format

    /// <summary>
    /// Ends an operation on <paramref name="ip"/>'s data fork: the fork takes the format its
    /// record count calls for (extents in the inode up to XFS_IFORK_MAXEXT, a B+tree beyond),
    /// the B+tree is rebalanced and its changed blocks written, and the inode is logged.
    /// </summary>
    internal static void Finish(XfsTransaction tp, XfsInode ip)
    {
        var fork = ip.DataFork;
        var mp = tp.Mount;
        var geo = mp.Geometry;
        int maxInline = ip.DataForkMaxExtents;
        if (fork.Format == XfsDinodeFormat.Extents && fork.Count > maxInline)
        {
            // xfs_bmap_extents_to_btree: all records move to one new leaf.
            ulong leaf = AllocateTreeBlock(tp, ip, fork.Extents[0].StartBlock);
            fork.Btree = XfsBmbtTree.CreateSingleLeaf(leaf, fork.Count, geo.BlockSize, ip.DataForkSize);
            fork.Format = XfsDinodeFormat.Btree;
        }
        if (fork.Format == XfsDinodeFormat.Btree)
        {
            var tree = fork.Btree!;
            if (fork.Count <= maxInline)
            {
                // xfs_bmap_btree_to_extents: the records fit the inode again.
                foreach (ulong fsb in tree.Blocks.ToList())
                    FreeTreeBlock(tp, ip, fsb);
                fork.Btree = null;
                fork.Format = XfsDinodeFormat.Extents;
            }
            else
            {
                tree.Rebalance(hint => AllocateTreeBlock(tp, ip, hint), fsb => FreeTreeBlock(tp, ip, fsb));
                tree.Flush(tp, fork.Extents, ip.Ino);
            }
        }
        ip.Log(tp);
    }

    private static ulong AllocateTreeBlock(XfsTransaction tp, XfsInode ip, ulong hint)
    {
        var geo = tp.Mount.Geometry;
        if (!geo.IsValidFsb(hint))
            hint = geo.AgBlockToFsb(geo.InoToAgno(ip.Ino), geo.AginoToAgbno(geo.InoToAgino(ip.Ino)));
        uint agno = geo.FsbToAgno(hint);
        if (!XfsAlloc.TryAllocate(tp, XfsAllocRequest.Near(agno, geo.FsbToAgbno(hint), 1, 1), out var got)
            && !XfsAlloc.TryAllocateAnyAg(tp, (agno + 1) % geo.AgCount, 1, 1, 1, out got))
            throw new XfsException(Errno.ENOSPC, $"inode {ip.Ino}: no free block for a bmap B+tree block");
        ip.Core.NBlocks++;
        return geo.AgBlockToFsb(got.AgNo, got.AgBno);
    }

    private static void FreeTreeBlock(XfsTransaction tp, XfsInode ip, ulong fsb)
    {
        var geo = tp.Mount.Geometry;
        ulong daddr = geo.AgBlockToDaddr(geo.FsbToAgno(fsb), geo.FsbToAgbno(fsb));
        var bp = tp.Mount.Buffers.Find(daddr, geo.BlockSize);
        if (bp != null)
            tp.Invalidate(bp);
        XfsAlloc.Free(tp, geo.FsbToAgno(fsb), geo.FsbToAgbno(fsb), 1);
        ip.Core.NBlocks--;
    }
}
