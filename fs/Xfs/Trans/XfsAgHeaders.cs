using DaxStack.Fs.Xfs.Buffers;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Trans;

/// <summary>
/// Reading and changing the AG headers inside a transaction: the AGF, AGI and AGFL sectors are
/// read (verified) through the transaction and decoded; a changed header is written back into
/// its buffer with only the changed bytes logged.
/// </summary>
/// <remarks>Models the kernel's <c>xfs_read_agf</c> / <c>xfs_alloc_log_agf</c>, <c>xfs_read_agi</c> / <c>xfs_ialloc_log_agi</c> and <c>xfs_alloc_read_agfl</c>.</remarks>
public static class XfsAgHeaders
{
    /// <summary>XFS_AGF_DADDR within AG <paramref name="agno"/>.</summary>
    public static ulong AgfDaddr(XfsGeometry geo, uint agno) => geo.AgBlockToDaddr(agno, 0) + 1;

    /// <summary>XFS_AGI_DADDR within AG <paramref name="agno"/>.</summary>
    public static ulong AgiDaddr(XfsGeometry geo, uint agno) => geo.AgBlockToDaddr(agno, 0) + 2;

    /// <summary>XFS_AGFL_DADDR within AG <paramref name="agno"/>.</summary>
    public static ulong AgflDaddr(XfsGeometry geo, uint agno) => geo.AgBlockToDaddr(agno, 0) + 3;

    /// <summary>The AGF buffer of AG <paramref name="agno"/>, joined to <paramref name="tp"/>.</summary>
    public static XfsBuffer ReadAgfBuffer(XfsTransaction tp, uint agno)
    {
        var geo = CheckAg(tp, agno);
        return tp.ReadBuffer(AgfDaddr(geo, agno), geo.SectorSize, XfsAgfBufferOps.Instance);
    }

    /// <summary>The AGF of AG <paramref name="agno"/> as the transaction sees it.</summary>
    public static XfsAgf ReadAgf(XfsTransaction tp, uint agno) => XfsAgf.Decode(ReadAgfBuffer(tp, agno).Data);

    /// <summary>Stores <paramref name="agf"/> as AG <paramref name="agno"/>'s AGF, logging the fields that changed.</summary>
    public static void WriteAgf(XfsTransaction tp, uint agno, XfsAgf agf)
    {
        ArgumentNullException.ThrowIfNull(agf);
        var bp = ReadAgfBuffer(tp, agno);
        var sector = new byte[bp.Length];
        agf.WriteTo(sector);
        tp.LogChanges(bp, 0, sector, XfsFormat.AgfCrcOffset);
    }

    /// <summary>The AGI buffer of AG <paramref name="agno"/>, joined to <paramref name="tp"/>.</summary>
    public static XfsBuffer ReadAgiBuffer(XfsTransaction tp, uint agno)
    {
        var geo = CheckAg(tp, agno);
        return tp.ReadBuffer(AgiDaddr(geo, agno), geo.SectorSize, XfsAgiBufferOps.Instance);
    }

    /// <summary>The AGI of AG <paramref name="agno"/> as the transaction sees it.</summary>
    public static XfsAgi ReadAgi(XfsTransaction tp, uint agno) => XfsAgi.Decode(ReadAgiBuffer(tp, agno).Data);

    /// <summary>Stores <paramref name="agi"/> as AG <paramref name="agno"/>'s AGI, logging the fields that changed.</summary>
    public static void WriteAgi(XfsTransaction tp, uint agno, XfsAgi agi)
    {
        ArgumentNullException.ThrowIfNull(agi);
        var bp = ReadAgiBuffer(tp, agno);
        var sector = new byte[bp.Length];
        agi.WriteTo(sector);
        tp.LogChanges(bp, 0, sector, XfsFormat.AgiCrcOffset);
    }

    /// <summary>The AGFL buffer of AG <paramref name="agno"/>, joined to <paramref name="tp"/>.</summary>
    public static XfsBuffer ReadAgflBuffer(XfsTransaction tp, uint agno)
    {
        var geo = CheckAg(tp, agno);
        return tp.ReadBuffer(AgflDaddr(geo, agno), geo.SectorSize, XfsAgflBufferOps.Instance);
    }

    private static XfsGeometry CheckAg(XfsTransaction tp, uint agno)
    {
        ArgumentNullException.ThrowIfNull(tp);
        var geo = tp.Mount.Geometry;
        if (agno >= geo.AgCount)
            throw new ArgumentOutOfRangeException(nameof(agno), agno, $"the filesystem has {geo.AgCount} AGs");
        return geo;
    }
}
