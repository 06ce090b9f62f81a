using DaxStack.Device.Errors;
using DaxStack.Driver.Dax;
using DaxStack.Fs.Xfs.Alloc;
using DaxStack.Fs.Xfs.Bmap;
using DaxStack.Fs.Xfs.Inode;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Xfs.Reflink;

/// <summary>
/// Shared data blocks between files (reflink): <see cref="RemapBlocks"/> makes a range of one
/// file map the same blocks as a range of another (FICLONE / FICLONERANGE), raising their
/// reference counts; <see cref="CopyOnWrite"/> gives a file private copies of shared blocks
/// before they are written (or when FALLOC_FL_UNSHARE_RANGE asks), copying the old contents
/// through DAX and swapping the mapping in one transaction, so a crash leaves either the shared
/// blocks or the private copies, never a half state. Files that ever shared blocks carry the
/// reflink inode flag (XFS_DIFLAG2_REFLINK); xfs_repair requires it on every file mapping
/// shared blocks and does not mind it on files that no longer do.
/// </summary>
/// <remarks>Models the kernel's fs/xfs/xfs_reflink.c: <c>xfs_reflink_remap_blocks</c> / <c>xfs_reflink_remap_extent</c>, <c>xfs_reflink_set_inode_flag</c>, and the DAX copy-on-write path (<c>xfs_reflink_allocate_cow</c>, <c>dax_iomap_copy_around</c>, <c>xfs_reflink_end_cow</c>). XFS stages copy-on-write blocks in a separate CoW fork with staging records so that recovery can clean them up; here the copy completes inside the transaction that remaps it, so no staging state survives a crash.</remarks>
public static class XfsReflink
{
    /// <summary>Blocks a remap or copy-on-write transaction reserves besides the data: bmap splits on both files and refcount B+tree splits.</summary>
    public static uint Reservation(XfsMount mp) => 2 * XfsBmap.UnmapReservation(mp) + 2 * XfsRefcount.AdjustReservation;

    /// <summary>Whether <paramref name="ip"/> carries the reflink flag.</summary>
    public static bool IsReflinked(XfsInode ip) => (ip.Core.Flags2 & XfsDiFlags2.Reflink) != 0;

    /// <summary>
    /// Makes file blocks <paramref name="dstOff"/>..+<paramref name="count"/> of <paramref name="dst"/>
    /// map what file blocks <paramref name="srcOff"/>..+<paramref name="count"/> of
    /// <paramref name="src"/> map: written extents become shared (their reference counts go
    /// up), holes and unwritten extents become holes; what <paramref name="dst"/> mapped there
    /// before is released. The caller has checked the ranges (same filesystem, block-aligned,
    /// not overlapping within one file) and sets the size. EOPNOTSUPP without reflink support.
    /// </summary>
    public static void RemapBlocks(XfsInode src, ulong srcOff, XfsInode dst, ulong dstOff, ulong count)
    {
        ArgumentNullException.ThrowIfNull(src);
        ArgumentNullException.ThrowIfNull(dst);
        var mp = dst.Mount;
        if (!mp.HasReflink)
            throw new XfsException(Errno.EOPNOTSUPP, "the filesystem was made without reflink support (-m reflink=0)");
        if (src.Mount != mp)
            throw new XfsException(Errno.EXDEV, "reflink across filesystems");
        var geo = mp.Geometry;
        var maps = new List<XfsBmapMapping>();
        XfsBmap.Read(src, srcOff, count, maps);
        foreach (var whole in maps)
        {
            // Bounded pieces, so one transaction's reservation covers one piece.
            for (ulong done = 0; done < whole.BlockCount;)
            {
                ulong len = Math.Min(whole.BlockCount - done, 1UL << 20);
                ulong target = dstOff + (whole.StartOff + done - srcOff);
                using var tp = XfsTransaction.Begin(mp, Reservation(mp));
                SetFlag(tp, dst);
                if (whole.State == XfsBmapState.Written)
                    SetFlag(tp, src);
                XfsBmap.Unmap(tp, dst, target, len, Release(dst));
                if (whole.State == XfsBmapState.Written)
                {
                    ulong fsb = whole.StartBlock + done;
                    XfsRefcount.Adjust(tp, geo.FsbToAgno(fsb), geo.FsbToAgbno(fsb), (uint)len, +1);
                    XfsBmap.MapExisting(tp, dst, new XfsBmbtRecord(target, fsb, (uint)len, false));
                }
                tp.Commit();
                done += len;
            }
        }
    }

    /// <summary>
    /// FICLONERANGE after the VFS's checks: shares <paramref name="length"/> bytes of
    /// <paramref name="src"/> at <paramref name="srcPos"/> into <paramref name="dst"/> at
    /// <paramref name="dstPos"/> and grows the destination's size to cover them
    /// (xfs_reflink_update_dest). Positions must be block multiples and the length too, unless
    /// the range ends at the source's end of file (its last block is shared whole) and at or
    /// past the destination's end of file. EINVAL otherwise, or for overlapping ranges of one
    /// file. Returns the bytes remapped.
    /// </summary>
    public static long RemapRange(XfsInode src, long srcPos, XfsInode dst, long dstPos, long length)
    {
        ArgumentNullException.ThrowIfNull(src);
        ArgumentNullException.ThrowIfNull(dst);
        var mp = dst.Mount;
        int bs = mp.Geometry.BlockSize;
        if (srcPos < 0 || dstPos < 0 || length < 0)
            throw new XfsException(Errno.EINVAL, "reflink: negative position or length");
        if (length == 0)
            return 0;
        bool toEof = srcPos + length == (long)src.Core.Size;
        if (srcPos % bs != 0 || dstPos % bs != 0 || (length % bs != 0 && !toEof))
            throw new XfsException(Errno.EINVAL, $"reflink: {srcPos}+{length} -> {dstPos} is not in whole {bs}-byte blocks");
        // generic_remap_file_range_prep: the source's partial last block may not land in the
        // middle of the destination, where its bytes past the source's end would show.
        if (length % bs != 0 && dstPos + length < (long)dst.Core.Size)
            throw new XfsException(Errno.EINVAL, $"reflink: the partial last block of the source would land inside the destination (before its end at {dst.Core.Size})");
        long blocks = (length + bs - 1) / bs;
        if (ReferenceEquals(src, dst) && srcPos < dstPos + blocks * bs && dstPos < srcPos + blocks * bs)
            throw new XfsException(Errno.EINVAL, "reflink: overlapping ranges of one file");
        RemapBlocks(src, (ulong)(srcPos / bs), dst, (ulong)(dstPos / bs), (ulong)blocks);
        using var tp = XfsTransaction.Begin(mp);
        dst.Join(tp);
        if ((ulong)(dstPos + length) > dst.Core.Size)
            dst.Core.Size = (ulong)(dstPos + length);
        var now = XfsInodeCache.For(mp).Now();
        dst.Core.Mtime = now;
        dst.Core.Ctime = now;
        dst.Log(tp);
        tp.Commit();
        return length;
    }

    /// <summary>
    /// How <see cref="XfsBmap.Unmap"/> must give back the blocks of <paramref name="ip"/>: for a
    /// reflinked file one owner is dropped (blocks whose last owner goes are freed); otherwise
    /// the blocks are freed.
    /// </summary>
    public static Action<XfsTransaction, ulong, uint> Release(XfsInode ip) =>
        IsReflinked(ip) ? DropOwner : XfsBmap.FreeBlocks;

    private static void DropOwner(XfsTransaction tp, ulong fsb, uint length)
    {
        var geo = tp.Mount.Geometry;
        XfsRefcount.Adjust(tp, geo.FsbToAgno(fsb), geo.FsbToAgbno(fsb), length, -1);
    }

    private static void SetFlag(XfsTransaction tp, XfsInode ip)
    {
        if (IsReflinked(ip))
            return;
        ip.Join(tp);
        ip.Core.Flags2 |= XfsDiFlags2.Reflink;
        ip.Log(tp);
    }

    /// <summary>
    /// The length of the run of blocks from <paramref name="fsb"/> (at most <paramref name="length"/>)
    /// that are all shared (<paramref name="shared"/> true) or all not shared: how far a mapping
    /// may be reported or written before the answer changes (xfs_reflink_trim_around_shared).
    /// </summary>
    public static uint SharedRun(XfsTransaction tp, ulong fsb, uint length, out bool shared)
    {
        ArgumentNullException.ThrowIfNull(tp);
        var geo = tp.Mount.Geometry;
        uint agno = geo.FsbToAgno(fsb), agbno = geo.FsbToAgbno(fsb);
        var found = XfsRefcount.FindShared(tp, agno, agbno, length);
        if (found is not (uint start, uint len))
        {
            shared = false;
            return length;
        }
        shared = start == agbno;
        return shared ? len : start - agbno;
    }

    /// <summary>
    /// Copy-on-write of file blocks <paramref name="offset"/>..+<paramref name="count"/> of
    /// <paramref name="ip"/>, which the caller found shared (written, one mapping): new blocks
    /// are allocated, the old contents copied into them through <paramref name="dax"/> and made
    /// durable, and in the same transaction the file maps the new blocks and drops its reference
    /// to the old ones. Returns how many blocks from <paramref name="offset"/> now map private
    /// copies (fewer when free space is fragmented). ENOSPC when no block can be had.
    /// </summary>
    public static ulong CopyOnWrite(XfsInode ip, IDaxOperations dax, ulong offset, ulong count)
    {
        ArgumentNullException.ThrowIfNull(ip);
        ArgumentNullException.ThrowIfNull(dax);
        var mp = ip.Mount;
        var geo = mp.Geometry;
        var old = XfsBmap.Lookup(ip, offset);
        if (old.State != XfsBmapState.Written)
            throw new InvalidOperationException($"inode {ip.Ino}: copy-on-write of file block {offset}, which is {old.State}");
        ulong want = Math.Min(Math.Min(count, old.BlockCount), 1UL << 16);
        ulong overhead = Reservation(mp) + XfsBmap.WriteReservation(mp, 0);
        if (mp.FreeBlocksAvailable <= overhead)
            throw new XfsException(Errno.ENOSPC, $"inode {ip.Ino}: no space to copy shared blocks for writing");
        want = Math.Min(want, mp.FreeBlocksAvailable - overhead);
        using var tp = XfsTransaction.Begin(mp, (uint)want + (uint)overhead);
        uint agno = geo.FsbToAgno(old.StartBlock);
        if (!XfsAlloc.TryAllocate(tp, XfsAllocRequest.Near(agno, geo.FsbToAgbno(old.StartBlock), 1, (uint)want), out var got)
            && !XfsAlloc.TryAllocateAnyAg(tp, (agno + 1) % geo.AgCount, 1, (uint)want, 1, out got))
            throw new XfsException(Errno.ENOSPC, $"inode {ip.Ino}: no free block to copy shared block {old.StartBlock} into");
        ulong fresh = geo.AgBlockToFsb(got.AgNo, got.AgBno);
        CopyBlocks(dax, geo, old.StartBlock, fresh, got.Length);
        XfsBmap.Unmap(tp, ip, offset, got.Length, Release(ip));
        XfsBmap.MapExisting(tp, ip, new XfsBmbtRecord(offset, fresh, got.Length, false));
        tp.Commit();
        return got.Length;
    }

    // Copies whole blocks through DAX with non-temporal stores and a fence, so the copy is
    // durable before the transaction that exposes it commits.
    // A device unbound between DirectAccess and the copy (its namespace destroyed or
    // reconfigured) fails the copy with ENXIO, as DirectAccess then does.
    private static void CopyBlocks(IDaxOperations dax, XfsGeometry geo, ulong from, ulong to, uint blocks)
    {
        try
        {
            CopyBlocksCore(dax, geo, from, to, blocks);
        }
        catch (DaxDeviceGoneException e)
        {
            throw new XfsException(Errno.ENXIO, $"copy-on-write: {e.Message}");
        }
    }

    private static void CopyBlocksCore(IDaxOperations dax, XfsGeometry geo, ulong from, ulong to, uint blocks)
    {
        int pagesPerBlock = geo.BlockSize >> 12;
        var buffer = new byte[geo.BlockSize];
        DaxWindow last = default;
        for (uint b = 0; b < blocks; b++)
        {
            long src = geo.FsbToOffset(from + b) >> 12;
            long dst = geo.FsbToOffset(to + b) >> 12;
            var error = dax.DirectAccess(src, pagesPerBlock, DaxAccessMode.Access, out var s);
            if (error != 0)
                throw new XfsException(error, $"copy-on-write: reading shared block {from + b}: {ErrnoText.StrError(error)}");
            if (s.Window.LoadMc(0, buffer) != buffer.Length)
                throw new XfsException(Errno.EIO, $"copy-on-write: shared block {from + b} is poisoned");
            error = dax.DirectAccess(dst, pagesPerBlock, DaxAccessMode.Access, out var d);
            if (error != 0)
                throw new XfsException(error, $"copy-on-write: writing block {to + b}: {ErrnoText.StrError(error)}");
            d.Window.NtStore(0, buffer);
            last = d.Window;
        }
        if (!last.IsEmpty)
            last.Sfence();
    }
}
