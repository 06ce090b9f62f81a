using DaxStack.Device.Errors;
using DaxStack.Fs.Xfs.Bmap;
using DaxStack.Fs.Xfs.Ialloc;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Reflink;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Xfs.Inode;

/// <summary>
/// The end of an inode's life. <see cref="DropLink"/> is what the namespace operations call
/// when a name goes away: the link count drops and, at zero, the inode goes on its AGI unlinked
/// list in the same transaction, so it is never lost. <see cref="Inactivate"/> is what the VFS
/// calls when the last reference to an unlinked inode goes (last close, eviction): the data
/// blocks are freed in bounded transactions (the size is set to 0 first, so a crash part-way
/// leaves a consistent, still-listed file), then one transaction takes the inode off the list
/// and frees it. <see cref="RecoverUnlinked"/> is the mount-time pass that inactivates every
/// inode a crash left on an unlinked list.
/// </summary>
/// <remarks>Models the kernel's <c>xfs_droplink</c> (+ <c>xfs_iunlink</c>), <c>xfs_inactive</c>
/// (<c>xfs_inactive_truncate</c> with <c>xfs_itruncate_extents</c>, then <c>xfs_inactive_ifree</c>
/// = <c>xfs_iunlink_remove</c> + <c>xfs_ifree</c>) and log recovery's
/// <c>xlog_recover_process_iunlinks</c> (<c>xlog_recover_iunlink_ag</c>). The kernel runs the
/// mount-time pass only after replaying a dirty log; we run it at every mount, since our unmount
/// does not evict open unlinked inodes first.</remarks>
public static class XfsInactive
{
    /// <summary>
    /// xfs_droplink: drops one link of <paramref name="ip"/> (and sets its change time) inside
    /// <paramref name="tp"/>; when the count reaches 0 the inode goes on its AGI unlinked list
    /// (<see cref="XfsIunlink.Add"/>) in the same transaction. <see cref="XfsCorruptionException"/>
    /// when the count is already 0.
    /// </summary>
    public static void DropLink(XfsTransaction tp, XfsInode ip)
    {
        ArgumentNullException.ThrowIfNull(tp);
        ArgumentNullException.ThrowIfNull(ip);
        if (!ip.InUse)
            throw new InvalidOperationException($"inode {ip.Ino} is free");
        if (ip.Core.Nlink == 0)
            throw XfsCorruptionException.BadField($"inode {ip.Ino}", "nlink", 0, "a link is being removed from an inode that has none");
        ip.Join(tp);
        ip.Core.Nlink--;
        ip.Core.Ctime = XfsInodeCache.For(tp.Mount).Now();
        ip.Log(tp);
        if (ip.Core.Nlink == 0)
            XfsIunlink.Add(tp, ip);
    }

    /// <summary>
    /// xfs_inactive: when <paramref name="ip"/> has no links, frees its data blocks (none for a
    /// local or device fork) and then, in a final transaction, takes it off its unlinked list and
    /// frees it. Returns false (and does nothing) for an inode that still has links. The caller
    /// holds the last reference: nothing else may use the inode afterwards. EOPNOTSUPP when the
    /// inode has an attribute B+tree (not modelled yet, and freeing the inode would leak its blocks);
    /// <see cref="XfsCorruptionException"/> when the unlinked list is damaged or does not hold it.
    /// </summary>
    public static bool Inactivate(XfsInode ip)
    {
        ArgumentNullException.ThrowIfNull(ip);
        if (!ip.InUse)
            throw new InvalidOperationException($"inode {ip.Ino} is already free");
        if (ip.Transaction != null)
            throw new InvalidOperationException($"inode {ip.Ino} is joined to a running transaction");
        if (ip.Core.Nlink != 0)
            return false;
        CheckAttrFork(ip);
        FreeDataBlocks(ip);
        var mp = ip.Mount;
        if (ip.AttrFork is { Format: XfsDinodeFormat.Extents })
        {
            // xfs_attr_inactive: the attribute blocks go before the inode.
            using var atp = XfsTransaction.Begin(mp);
            Attr.XfsAttr.Inactive(atp, ip);
            atp.Commit();
        }
        using var tp = XfsTransaction.Begin(mp, XfsIalloc.FreeReservation(mp));
        XfsIunlink.Remove(tp, ip);
        XfsInodeAlloc.Free(tp, ip);
        tp.Commit();
        return true;
    }

    /// <summary>
    /// xlog_recover_process_iunlinks: inactivates every inode on an AGI unlinked list of
    /// <paramref name="mp"/> (files that were unlinked while open when the system went down),
    /// leaving every bucket empty. Returns the number of inodes freed.
    /// <see cref="XfsCorruptionException"/> naming the bucket when a list is damaged; the inodes
    /// freed before that stay freed.
    /// </summary>
    public static int RecoverUnlinked(XfsMount mp)
    {
        ArgumentNullException.ThrowIfNull(mp);
        int freed = 0;
        for (uint agno = 0; agno < mp.Geometry.AgCount; agno++)
        {
            uint[] heads;
            using (var tp = XfsTransaction.Begin(mp))
                heads = XfsAgHeaders.ReadAgi(tp, agno).Unlinked;
            for (int bucket = 0; bucket < XfsIunlink.Buckets; bucket++)
            {
                if (heads[bucket] == XfsFormat.NullAgIno)
                    continue;
                // The whole list is checked first (loops, free or linked inodes), then freed
                // from the head on, so each removal finds its inode at the head.
                foreach (var ip in Bucket(mp, agno, bucket))
                {
                    if (!Inactivate(ip))
                        throw new XfsCorruptionException(XfsIunlink.BucketName(agno, bucket), $"inode {ip.Ino} has links");
                    freed++;
                }
            }
        }
        return freed;
    }

    // The inodes of a bucket, head first, every pointer checked. The transaction only reads, so
    // it is cancelled rather than committed: nothing goes to the log.
    private static List<XfsInode> Bucket(XfsMount mp, uint agno, int bucket)
    {
        using var tp = XfsTransaction.Begin(mp);
        var cache = XfsInodeCache.For(mp);
        return [.. XfsIunlink.List(tp, agno, bucket).Select(ino => cache.GetInUse(tp, ino))];
    }

    // A short-form fork goes with the inode and an extents-format one is freed first; a B+tree
    // attribute fork cannot be freed yet, and is refused before anything changes.
    private static void CheckAttrFork(XfsInode ip)
    {
        var core = ip.Core;
        if (core.ForkOff == 0)
            return;
        if (core.AFormat is XfsDinodeFormat.Local or XfsDinodeFormat.Extents)
            return;
        throw new XfsException(Errno.EOPNOTSUPP, $"inode {ip.Ino}: freeing an attribute fork of {core.ANExtents} extents ({core.AFormat}) is not supported");
    }

    // xfs_inactive_truncate + xfs_itruncate_extents: the size goes to 0 first, then the blocks
    // (XfsBmap.UnmapRange: the last records first, a bounded number per transaction).
    private static void FreeDataBlocks(XfsInode ip)
    {
        if (ip.DataFork.Format is not (XfsDinodeFormat.Extents or XfsDinodeFormat.Btree))
            return;
        var mp = ip.Mount;
        if (ip.Core.Size != 0)
        {
            using var tp = XfsTransaction.Begin(mp);
            ip.Join(tp);
            ip.Core.Size = 0;
            ip.Log(tp);
            tp.Commit();
        }
        XfsBmap.UnmapRange(ip, 0, XfsBmap.MaxFileOffset + 1);
    }
}
