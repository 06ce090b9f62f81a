using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Xfs.Alloc;

/// <summary>
/// The AG free list: a ring of blocks in the AGFL sector, from agf_flfirst to agf_fllast
/// (agf_flcount of them), kept for the free-space B+trees to grow into. Taking a block for a
/// free-space B+tree moves it into agf_btreeblks, and giving one back moves it out; the
/// superblock's free-block count does not change either way, since XFS counts AGFL and
/// free-space B+tree blocks as free.
/// </summary>
/// <remarks>Models the kernel's <c>xfs_alloc_get_freelist</c> and <c>xfs_alloc_put_freelist</c> (libxfs/xfs_alloc.c).</remarks>
public static class XfsFreeList
{
    /// <summary>Takes the block at the head of AG <paramref name="agno"/>'s free list, or NULLAGBLOCK when it is empty.</summary>
    public static uint Get(XfsTransaction tp, uint agno, bool btreeBlock)
    {
        ArgumentNullException.ThrowIfNull(tp);
        var agf = XfsAgHeaders.ReadAgf(tp, agno);
        if (agf.FlCount == 0)
            return XfsFormat.NullAgBlock;
        var geo = tp.Mount.Geometry;
        var agfl = XfsAgHeaders.ReadAgflBuffer(tp, agno);
        uint bno = Be.U32(agfl.Data, XfsAgfl.HeaderSize + (int)agf.FlFirst * sizeof(uint));
        if (bno == 0 || bno >= geo.AgLength(agno))
            throw XfsCorruptionException.BadField($"agfl {agno}", $"bno[{agf.FlFirst}]", bno, $"not a block of the AG (length {geo.AgLength(agno)})");
        agf.FlFirst = (agf.FlFirst + 1) % (uint)geo.AgflSize;
        agf.FlCount--;
        if (btreeBlock)
        {
            agf.BtreeBlks++;
            tp.ModifyAllocBtreeBlocks(+1);
        }
        XfsAgHeaders.WriteAgf(tp, agno, agf);
        return bno;
    }

    /// <summary>Appends block <paramref name="agbno"/> to the tail of AG <paramref name="agno"/>'s free list.</summary>
    public static void Put(XfsTransaction tp, uint agno, uint agbno, bool btreeBlock)
    {
        ArgumentNullException.ThrowIfNull(tp);
        var geo = tp.Mount.Geometry;
        if (agbno == 0 || agbno >= geo.AgLength(agno))
            throw new ArgumentOutOfRangeException(nameof(agbno), agbno, $"not a block of AG {agno}");
        var agf = XfsAgHeaders.ReadAgf(tp, agno);
        if (agf.FlCount >= geo.AgflSize)
            throw new InvalidOperationException($"agfl {agno} is full ({agf.FlCount} entries)");
        if (btreeBlock && agf.BtreeBlks == 0)
            throw new InvalidOperationException($"agf {agno}: returning a free-space B+tree block when agf_btreeblks is 0");
        agf.FlLast = (agf.FlLast + 1) % (uint)geo.AgflSize;
        agf.FlCount++;
        if (btreeBlock)
        {
            agf.BtreeBlks--;
            tp.ModifyAllocBtreeBlocks(-1);
        }
        XfsAgHeaders.WriteAgf(tp, agno, agf);
        var agfl = XfsAgHeaders.ReadAgflBuffer(tp, agno);
        int offset = XfsAgfl.HeaderSize + (int)agf.FlLast * sizeof(uint);
        Be.Put32(agfl.Data, offset, agbno);
        tp.LogBuffer(agfl, offset, sizeof(uint));
    }

    /// <summary>The blocks on AG <paramref name="agno"/>'s free list, head first.</summary>
    public static List<uint> Entries(XfsTransaction tp, uint agno)
    {
        ArgumentNullException.ThrowIfNull(tp);
        var agf = XfsAgHeaders.ReadAgf(tp, agno);
        var agfl = XfsAgHeaders.ReadAgflBuffer(tp, agno);
        int size = tp.Mount.Geometry.AgflSize;
        var entries = new List<uint>((int)agf.FlCount);
        for (uint i = 0, slot = agf.FlFirst; i < agf.FlCount; i++, slot = (slot + 1) % (uint)size)
            entries.Add(Be.U32(agfl.Data, XfsAgfl.HeaderSize + (int)slot * sizeof(uint)));
        return entries;
    }
}
