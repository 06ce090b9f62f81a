using DaxStack.Fs.Xfs.Ialloc;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Xfs.Inode;

/// <summary>
/// The AGI unlinked lists: an inode whose last link is gone but which is still in use (open)
/// waits on one of its AG's 64 singly linked lists until it is inactivated, so that a crash in
/// between leaves a record of it for mount to finish. The list an inode goes on is bucket
/// <c>agino % 64</c> of its AG's <c>agi_unlinked</c>; <see cref="Add"/> puts it at the head (the
/// inode's <c>di_next_unlinked</c> takes the old head), <see cref="Remove"/> unlinks it from
/// wherever it is, walking the bucket from the head to find its predecessor. Both log the AGI
/// and the inodes they change in the caller's transaction. Every pointer followed is checked: an
/// agino outside the AG, in the wrong bucket, naming a free inode or one with links, or a loop,
/// is an <see cref="XfsCorruptionException"/> whose structure is <c>agi AGNO unlinked bucket B</c>.
/// </summary>
/// <remarks>Models the kernel's <c>xfs_iunlink</c> / <c>xfs_iunlink_insert_inode</c>,
/// <c>xfs_iunlink_remove</c> / <c>xfs_iunlink_remove_inode</c>, <c>xfs_iunlink_update_bucket</c>
/// and <c>xfs_iunlink_log_dinode</c> (fs/xfs/xfs_inode.c), with the checks of
/// <c>xfs_verify_agino_or_null</c>. The kernel keeps an in-core back pointer
/// (<c>i_prev_unlinked</c>) so removal needs no walk; we walk the bucket, which touches only the
/// inodes before the one removed (and none for the head, the common case at mount).</remarks>
public static class XfsIunlink
{
    /// <summary>XFS_AGI_UNLINKED_BUCKETS: lists per AG.</summary>
    public const int Buckets = XfsFormat.AgiUnlinkedBuckets;

    /// <summary>The bucket AG inode <paramref name="agino"/> hashes to (<c>agino % XFS_AGI_UNLINKED_BUCKETS</c>).</summary>
    public static int BucketOf(uint agino) => (int)(agino % Buckets);

    /// <summary>The structure name corruption errors carry: <c>agi AGNO unlinked bucket B</c>.</summary>
    public static string BucketName(uint agno, int bucket) => $"agi {agno} unlinked bucket {bucket}";

    /// <summary>
    /// xfs_iunlink: puts <paramref name="ip"/> (in use, link count 0, on no list) at the head of
    /// its bucket, logging the inode and the AGI. <see cref="XfsCorruptionException"/> when the
    /// bucket head is not a valid agino of the bucket or the inode's <c>di_next_unlinked</c> is
    /// already set (it is on a list already).
    /// </summary>
    public static void Add(XfsTransaction tp, XfsInode ip)
    {
        ArgumentNullException.ThrowIfNull(tp);
        ArgumentNullException.ThrowIfNull(ip);
        if (!ip.InUse)
            throw new InvalidOperationException($"inode {ip.Ino} is free: only an inode in use goes on an unlinked list");
        if (ip.Core.Nlink != 0)
            throw new InvalidOperationException($"inode {ip.Ino} still has {ip.Core.Nlink} links");
        var geo = tp.Mount.Geometry;
        uint agno = geo.InoToAgno(ip.Ino);
        uint agino = geo.InoToAgino(ip.Ino);
        int bucket = BucketOf(agino);
        string name = BucketName(agno, bucket);
        if (ip.Core.NextUnlinked != XfsFormat.NullAgIno)
            throw XfsCorruptionException.BadField($"inode {ip.Ino}", "next_unlinked", ip.Core.NextUnlinked, "the inode is already on an unlinked list");
        var agi = XfsAgHeaders.ReadAgi(tp, agno);
        uint head = agi.Unlinked[bucket];
        if (head == agino)
            throw new XfsCorruptionException(name, $"agino {agino} (inode {ip.Ino}) is already the head of the list");
        if (head != XfsFormat.NullAgIno)
            CheckPointer(tp.Mount, agno, bucket, head, "head");
        ip.Join(tp);
        ip.Core.NextUnlinked = head;
        ip.Log(tp);
        agi.Unlinked[bucket] = agino;
        XfsAgHeaders.WriteAgi(tp, agno, agi);
    }

    /// <summary>
    /// xfs_iunlink_remove: takes <paramref name="ip"/> off its bucket (the AGI head or the
    /// predecessor's <c>di_next_unlinked</c> takes its successor) and clears its
    /// <c>di_next_unlinked</c>, logging what changed. <see cref="XfsCorruptionException"/> when the
    /// walk to it meets a bad pointer or a loop, or the list does not hold it.
    /// </summary>
    public static void Remove(XfsTransaction tp, XfsInode ip)
    {
        ArgumentNullException.ThrowIfNull(tp);
        ArgumentNullException.ThrowIfNull(ip);
        var mp = tp.Mount;
        var geo = mp.Geometry;
        uint agno = geo.InoToAgno(ip.Ino);
        uint agino = geo.InoToAgino(ip.Ino);
        int bucket = BucketOf(agino);
        string name = BucketName(agno, bucket);
        var agi = XfsAgHeaders.ReadAgi(tp, agno);
        uint next = ip.Core.NextUnlinked;
        if (next != XfsFormat.NullAgIno)
        {
            if (next == agino)
                throw new XfsCorruptionException(name, $"agino {agino} (inode {ip.Ino}) points to itself");
            CheckPointer(mp, agno, bucket, next, $"next_unlinked of agino {agino}");
        }
        XfsInode? prev = null;
        uint cursor = agi.Unlinked[bucket];
        var seen = new HashSet<uint>();
        while (cursor != agino)
        {
            if (cursor == XfsFormat.NullAgIno)
                throw new XfsCorruptionException(name, $"agino {agino} (inode {ip.Ino}) is not on the list");
            prev = Load(tp, agno, bucket, cursor, seen, prev == null ? "head" : $"next_unlinked of agino {geo.InoToAgino(prev.Ino)}");
            cursor = prev.Core.NextUnlinked;
        }
        if (prev == null)
        {
            agi.Unlinked[bucket] = next;
            XfsAgHeaders.WriteAgi(tp, agno, agi);
        }
        else
        {
            prev.Join(tp);
            prev.Core.NextUnlinked = next;
            prev.Log(tp);
        }
        ip.Join(tp);
        ip.Core.NextUnlinked = XfsFormat.NullAgIno;
        ip.Log(tp);
    }

    /// <summary>
    /// The inode numbers on bucket <paramref name="bucket"/> of AG <paramref name="agno"/>, head
    /// first, every pointer checked as <see cref="Remove"/> checks it.
    /// </summary>
    public static IReadOnlyList<ulong> List(XfsTransaction tp, uint agno, int bucket)
    {
        ArgumentNullException.ThrowIfNull(tp);
        ArgumentOutOfRangeException.ThrowIfNegative(bucket);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(bucket, Buckets);
        var agi = XfsAgHeaders.ReadAgi(tp, agno);
        var result = new List<ulong>();
        var seen = new HashSet<uint>();
        uint cursor = agi.Unlinked[bucket];
        string from = "head";
        while (cursor != XfsFormat.NullAgIno)
        {
            var ip = Load(tp, agno, bucket, cursor, seen, from);
            result.Add(ip.Ino);
            from = $"next_unlinked of agino {cursor}";
            cursor = ip.Core.NextUnlinked;
        }
        return result;
    }

    /// <summary>Every inode on an unlinked list of any AG, AG by AG and bucket by bucket, each list head first.</summary>
    public static IReadOnlyList<ulong> ListAll(XfsTransaction tp)
    {
        ArgumentNullException.ThrowIfNull(tp);
        var result = new List<ulong>();
        for (uint agno = 0; agno < tp.Mount.Geometry.AgCount; agno++)
        {
            for (int bucket = 0; bucket < Buckets; bucket++)
                result.AddRange(List(tp, agno, bucket));
        }
        return result;
    }

    // xfs_verify_agino plus the hash: the pointer names an inode slot of this AG in this bucket.
    private static void CheckPointer(XfsMount mp, uint agno, int bucket, uint agino, string what)
    {
        var geo = mp.Geometry;
        string name = BucketName(agno, bucket);
        if (agino >> geo.AgInoBits != 0 || !geo.IsValidIno(geo.MakeIno(agno, agino)))
            throw new XfsCorruptionException(name, $"{what} {agino} is not an inode of AG {agno}");
        if (BucketOf(agino) != bucket)
            throw new XfsCorruptionException(name, $"{what} {agino} belongs in bucket {BucketOf(agino)}");
    }

    // Follows one pointer of the list: checks it, that it was not met before, that the inode is
    // allocated and unlinked, and returns the in-core inode.
    private static XfsInode Load(XfsTransaction tp, uint agno, int bucket, uint agino, HashSet<uint> seen, string what)
    {
        var mp = tp.Mount;
        var geo = mp.Geometry;
        string name = BucketName(agno, bucket);
        CheckPointer(mp, agno, bucket, agino, what);
        if (!seen.Add(agino))
            throw new XfsCorruptionException(name, $"{what} {agino} was met before: the list loops");
        ulong ino = geo.MakeIno(agno, agino);
        if (!XfsIalloc.IsAllocated(tp, ino))
            throw new XfsCorruptionException(name, $"{what} {agino} names inode {ino}, which the inode B+tree says is free");
        XfsInode ip;
        try
        {
            ip = XfsInodeCache.For(mp).Get(tp, ino);
        }
        catch (XfsException e)
        {
            throw new XfsCorruptionException(name, $"{what} {agino} names inode {ino}, which cannot be read ({e.Message})");
        }
        if (!ip.InUse)
            throw new XfsCorruptionException(name, $"{what} {agino} names inode {ino}, which is free (mode 0)");
        if (ip.Core.Nlink != 0)
            throw new XfsCorruptionException(name, $"{what} {agino} names inode {ino}, which has {ip.Core.Nlink} links");
        return ip;
    }
}
