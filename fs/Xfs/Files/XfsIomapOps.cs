using DaxStack.Device.Errors;
using DaxStack.Driver.Dax;
using DaxStack.Fs.Iomap;
using DaxStack.Fs.Xfs.Bmap;
using DaxStack.Fs.Xfs.Inode;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Reflink;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Xfs.Files;

/// <summary>
/// The XFS-like filesystem's answer to "where do these file bytes live" for one inode. Reads
/// and reports get the block map as it is. A write that meets a hole or an unwritten extent
/// first allocates (or converts) the blocks in a transaction of its own, zeroing them through
/// the DAX device before the transaction commits, so a crash can never expose stale data in a
/// file: the new blocks are durable zeroes by the time anything points at them. In a
/// reflinked file every mapping is trimmed to blocks that are all shared or all private;
/// reports flag shared ones, and a write or zeroing of shared blocks copies them first.
/// </summary>
/// <remarks>Models the kernel's <c>xfs_read_iomap_ops</c> / <c>xfs_direct_write_iomap_ops</c> for DAX: <c>xfs_read_iomap_begin</c>, <c>xfs_direct_write_iomap_begin</c> and <c>xfs_iomap_write_direct</c> with <c>XFS_BMAPI_CONVERT | XFS_BMAPI_ZERO</c>, <c>xfs_bmbt_to_iomap</c>.</remarks>
public sealed class XfsIomapOps : IIomapOps
{
    private readonly XfsInode _ip;
    private readonly IDaxOperations _dax;

    public XfsIomapOps(XfsInode ip, IDaxOperations dax)
    {
        ArgumentNullException.ThrowIfNull(ip);
        ArgumentNullException.ThrowIfNull(dax);
        _ip = ip;
        _dax = dax;
    }

    /// <summary>Transactions this instance ran to allocate or convert blocks for writes.</summary>
    public int AllocationTransactions { get; private set; }

    public IomapMapping Begin(long pos, long length, IomapFlags flags)
    {
        if (pos < 0 || length <= 0)
            throw new ArgumentOutOfRangeException(nameof(pos), $"mapping {pos}+{length}");
        var mp = _ip.Mount;
        int shift = mp.Geometry.BlockLog;
        ulong first = (ulong)pos >> shift;
        ulong last = (ulong)(pos + length - 1) >> shift;
        var map = XfsBmap.Lookup(_ip, first);
        var mapFlags = IomapMapFlags.None;
        if ((flags & IomapFlags.Write) != 0 && map.State != XfsBmapState.Written)
        {
            ulong count = Math.Min(map.BlockCount, last - first + 1);
            AllocateForWrite(first, count, map.State);
            map = XfsBmap.Lookup(_ip, first);
            mapFlags |= IomapMapFlags.New;
        }
        ulong blocks = Math.Min(map.BlockCount, last - first + 1);
        if (map.State == XfsBmapState.Written && XfsReflink.IsReflinked(_ip) && (flags & (IomapFlags.Write | IomapFlags.Zero | IomapFlags.Report)) != 0)
        {
            // xfs_reflink_trim_around_shared: a mapping is all shared or all private.
            uint run;
            bool shared;
            using (var tp = XfsTransaction.Begin(mp))
                run = XfsReflink.SharedRun(tp, map.StartBlock, (uint)Math.Min(blocks, uint.MaxValue), out shared);
            if (shared && (flags & (IomapFlags.Write | IomapFlags.Zero)) != 0)
            {
                // A write (or zeroing) of shared blocks gets private copies first.
                XfsReflink.CopyOnWrite(_ip, _dax, first, run);
                map = XfsBmap.Lookup(_ip, first);
                blocks = Math.Min(map.BlockCount, last - first + 1);
                mapFlags |= IomapMapFlags.New;
            }
            else
            {
                blocks = run;
                if (shared)
                    mapFlags |= IomapMapFlags.Shared;
            }
        }
        long offset = (long)(first << shift);
        // The last block of the largest file ends one byte past loff_t: clip so End never overflows.
        long bytes = (long)Math.Min(blocks << shift, (ulong)(long.MaxValue - offset));
        return map.State switch
        {
            XfsBmapState.Hole => new IomapMapping(offset, bytes, IomapType.Hole, IomapMapping.NullAddress, mapFlags),
            XfsBmapState.Unwritten => new IomapMapping(offset, bytes, IomapType.Unwritten, mp.Geometry.FsbToOffset(map.StartBlock), mapFlags),
            _ => new IomapMapping(offset, bytes, IomapType.Mapped, mp.Geometry.FsbToOffset(map.StartBlock), mapFlags),
        };
    }

    public void End(long pos, long length, long written, IomapFlags flags, in IomapMapping iomap)
    {
    }

    private void AllocateForWrite(ulong first, ulong count, XfsBmapState state)
    {
        var mp = _ip.Mount;
        // One transaction maps at most this much: bounded like XFS's write reservations, and
        // no more than the filesystem can give right now.
        ulong want = Math.Min(count, 1UL << 16);
        ulong overhead = XfsBmap.WriteReservation(mp, 0);
        if (state == XfsBmapState.Hole && mp.FreeBlocksAvailable > overhead)
            want = Math.Min(want, mp.FreeBlocksAvailable - overhead);
        uint reserve = state == XfsBmapState.Hole ? XfsBmap.WriteReservation(mp, (uint)want) : 2 * XfsBmap.UnmapReservation(mp);
        using var tp = XfsTransaction.Begin(mp, reserve);
        if (state == XfsBmapState.Hole)
        {
            ulong mapped = XfsBmap.Allocate(tp, _ip, first, want, unwritten: true);
            ZeroBlocks(first, mapped);
            XfsBmap.Convert(tp, _ip, first, mapped, toUnwritten: false);
        }
        else
        {
            ZeroBlocks(first, want);
            XfsBmap.Convert(tp, _ip, first, want, toUnwritten: false);
        }
        tp.Commit();
        AllocationTransactions++;
    }

    // XFS_BMAPI_ZERO: the blocks become durable zeroes before the mapping that exposes them commits.
    private void ZeroBlocks(ulong first, ulong count)
    {
        var geo = _ip.Mount.Geometry;
        var maps = new List<XfsBmapMapping>();
        XfsBmap.Read(_ip, first, count, maps);
        foreach (var m in maps)
        {
            if (m.IsHole)
                continue;
            long pgoff = geo.FsbToOffset(m.StartBlock) >> 12;
            long pages = (long)m.BlockCount << (geo.BlockLog - 12);
            var error = _dax.ZeroPageRange(pgoff, pages);
            if (error != 0)
                throw new XfsException(error, $"inode {_ip.Ino}: zeroing new blocks at {m.StartBlock} failed: {ErrnoText.StrError(error)}");
        }
    }
}
