using DaxStack.Fs.Tests.Xfs.Trans;
using DaxStack.Fs.Xfs.Bmap;
using DaxStack.Fs.Xfs.Inode;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Tests.Xfs.Bmap;

/// <summary>Block-map operations as a caller runs them: each in transactions of its own, looping until the range is done.</summary>
internal static class BmapTestOps
{
    public static void Allocate(XfsMount mp, XfsInode ip, ulong offset, ulong count, bool unwritten = false)
    {
        ulong done = 0;
        while (done < count)
        {
            // As a writer near a full filesystem does: ask for what is left, so the last
            // transactions map the last blocks and the next one fails its reservation.
            ulong overhead = XfsBmap.WriteReservation(mp, 0);
            ulong room = mp.FreeBlocksAvailable > overhead ? mp.FreeBlocksAvailable - overhead : 1;
            uint chunk = (uint)Math.Min(Math.Min(count - done, 1u << 16), room);
            using var tp = XfsTransaction.Begin(mp, XfsBmap.WriteReservation(mp, chunk));
            done += XfsBmap.Allocate(tp, ip, offset + done, Math.Min(chunk, count - done), unwritten);
            tp.Commit();
        }
    }

    public static ulong Unmap(XfsMount mp, XfsInode ip, ulong offset, ulong count)
    {
        using var tp = XfsTransaction.Begin(mp, XfsBmap.UnmapReservation(mp));
        ulong n = XfsBmap.Unmap(tp, ip, offset, count);
        tp.Commit();
        return n;
    }

    public static void Convert(XfsMount mp, XfsInode ip, ulong offset, ulong count, bool toUnwritten)
    {
        using var tp = XfsTransaction.Begin(mp, XfsBmap.UnmapReservation(mp) * 2);
        XfsBmap.Convert(tp, ip, offset, count, toUnwritten);
        tp.Commit();
    }

    public static List<XfsBmapMapping> Read(XfsInode ip, ulong offset, ulong count)
    {
        var result = new List<XfsBmapMapping>();
        XfsBmap.Read(ip, offset, count, result);
        return result;
    }

    /// <summary>Maps every other block of [0, 2 * extents): <paramref name="extents"/> one-block records that cannot merge.</summary>
    public static void Fragment(XfsMount mp, XfsInode ip, int extents, ulong start = 0)
    {
        for (int i = 0; i < extents; i += XfsBmap.MaxNewExtents)
        {
            using var tp = XfsTransaction.Begin(mp, XfsBmap.WriteReservation(mp, XfsBmap.MaxNewExtents));
            for (int j = i; j < Math.Min(extents, i + XfsBmap.MaxNewExtents); j++)
                XfsBmap.Allocate(tp, ip, start + 2 * (ulong)j, 1, unwritten: false);
            tp.Commit();
        }
    }

    /// <summary>The inode as a fresh mount reads it from the device.</summary>
    public static XfsInode Reread(MetadataTestFs fs, ulong ino)
    {
        fs.Remount();
        using var tp = fs.Begin();
        return XfsInodeCache.For(fs.Mount).GetInUse(tp, ino);
    }

    /// <summary>Every filesystem block the inode owns: data blocks and bmap B+tree blocks, as (agno, agbno, length).</summary>
    public static IEnumerable<(uint AgNo, uint Start, uint Length)> OwnedBlocks(XfsInode ip)
    {
        var geo = ip.Mount.Geometry;
        foreach (var e in ip.DataFork.Extents)
            yield return (geo.FsbToAgno(e.StartBlock), geo.FsbToAgbno(e.StartBlock), e.BlockCount);
        if (ip.DataFork.Btree is { } tree)
        {
            foreach (ulong fsb in tree.Blocks)
                yield return (geo.FsbToAgno(fsb), geo.FsbToAgbno(fsb), 1);
        }
    }
}
