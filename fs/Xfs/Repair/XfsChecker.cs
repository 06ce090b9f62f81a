using DaxStack.Driver.Block;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Repair;

/// <summary>
/// DaxStack's filesystem checker: reads a whole filesystem without changing it and reports
/// every inconsistency found, in seven phases: (1) the primary and secondary superblocks;
/// (2) each AG's headers and B+trees (ordered, balanced, consistent with each other and with
/// the AGF/AGI counters); (3) every inode the inode B+trees list, with its forks and block-map
/// B+trees; (4) block ownership: free and used space partition the device, every block owned
/// once or exactly as often as its reference count says; (5) the superblock's summary
/// counters; (6) directories and connectivity; (7) link counts. The result is an
/// <see cref="XfsRepairReport"/>; nothing is written to the device.
/// </summary>
/// <remarks>Models <c>xfs_repair -n</c> (repair/xfs_repair.c and its phases), plus the per-inode extension point DaxStack needs (<see cref="IXfsInodeCheck"/>).</remarks>
public static class XfsChecker
{
    /// <summary>
    /// Checks the filesystem on <paramref name="device"/>. Throws <see cref="XfsException"/> only
    /// when there is nothing to check: no superblock with XFS's magic number and a usable
    /// geometry, or a geometry larger than the device (the message says why); every other
    /// problem is in the report.
    /// </summary>
    public static XfsRepairReport Check(IBlockDeviceOperations device, XfsRepairOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        options ??= new XfsRepairOptions();
        var reader = XfsMetadataReader.Open(device, trustPrimary: true);
        // A damaged primary is still used for its geometry, but only one that fits the device:
        // the owner map is sized by it.
        if (reader.Geometry.DataBytes > device.Limits.Capacity || reader.Geometry.DataBlocks > (ulong)reader.Geometry.AgCount * reader.Geometry.AgBlocks)
            throw new XfsCorruptionException("sb 0", $"geometry of {reader.Geometry.DataBlocks} blocks in {reader.Geometry.AgCount} AGs of {reader.Geometry.AgBlocks} does not fit the {device.Limits.Capacity}-byte device");
        var ctx = new XfsRepairContext(reader, options);
        var g = ctx.Geometry;

        ctx.Phase = 1;
        if (reader.PrimaryError != null)
            ctx.Error(reader.PrimaryError);
        CheckSecondaries(ctx);
        ClaimLog(ctx);

        ctx.Phase = 2;
        for (uint agno = 0; agno < g.AgCount; agno++)
            XfsAgScanner.Scan(ctx, agno);

        ctx.Phase = 3;
        for (uint agno = 0; agno < g.AgCount; agno++)
            XfsInodeScanner.Scan(ctx, agno);

        ctx.Phase = 4;
        XfsOwnershipChecker.Check(ctx);

        ctx.Phase = 5;
        CheckSummaryCounters(ctx);

        ctx.Phase = 6;
        XfsNamespaceChecker.CheckDirectories(ctx, out int unlistable);

        ctx.Phase = 7;
        XfsNamespaceChecker.CheckLinkCounts(ctx, unlistable);
        return ctx.ToReport();
    }

    private static void CheckSecondaries(XfsRepairContext ctx)
    {
        var primary = ctx.Superblock;
        for (uint agno = 0; agno < ctx.Geometry.AgCount; agno++)
        {
            try
            {
                // xfs_repair requires the bytes after the last superblock field to be zero in every copy.
                var sector = ctx.Reader.ReadSector(agno, 0, $"sb {agno}");
                int stray = sector.AsSpan(XfsSuperblock.Size).IndexOfAnyExcept((byte)0);
                if (stray >= 0)
                    ctx.Error($"sb {agno}", $"byte {XfsSuperblock.Size + stray} after the last superblock field is not zero");
                if (agno == 0)
                    continue;
                var sb = ctx.Reader.ReadSuperblock(agno);
                var differing = new List<string>();
                void Compare<T>(string field, T secondary, T expected)
                {
                    if (!EqualityComparer<T>.Default.Equals(secondary, expected))
                        differing.Add($"{field} {secondary} (primary {expected})");
                }
                // The kernel sets ATTRBIT in the primary alone when the first attribute fork
                // appears (xfs_add_attr, xfs_log_sb); xfs_repair accepts secondaries without it.
                Compare("versionnum", sb.VersionNum | (primary.VersionNum & XfsSbVersion.Attr), primary.VersionNum);
                Compare("features_compat", sb.FeaturesCompat, primary.FeaturesCompat);
                Compare("features_ro_compat", sb.FeaturesRoCompat, primary.FeaturesRoCompat);
                Compare("features_incompat", sb.FeaturesIncompat, primary.FeaturesIncompat);
                Compare("features2", sb.Features2, primary.Features2);
                Compare("inopblock", sb.InoPBlock, primary.InoPBlock);
                Compare("agblklog", sb.AgBlkLog, primary.AgBlkLog);
                Compare("dirblklog", sb.DirBlkLog, primary.DirBlkLog);
                Compare("inoalignmt", sb.InoAlignMt, primary.InoAlignMt);
                Compare("unit", sb.Unit, primary.Unit);
                Compare("width", sb.Width, primary.Width);
                Compare("logsunit", sb.LogSUnit, primary.LogSUnit);
                Compare("uquotino", sb.UQuotIno, primary.UQuotIno);
                Compare("gquotino", sb.GQuotIno, primary.GQuotIno);
                Compare("pquotino", sb.PQuotIno, primary.PQuotIno);
                if (differing.Count > 0)
                    ctx.Error($"sb {agno}", $"differs from the primary superblock: {string.Join(", ", differing)}");
            }
            catch (XfsException e)
            {
                ctx.Error(e);
            }
        }
    }

    private static void ClaimLog(XfsRepairContext ctx)
    {
        var g = ctx.Geometry;
        if (g.LogStart == 0)
        {
            ctx.Note("sb 0", "external log: nothing to claim on the data device");
            return;
        }
        uint agno = g.FsbToAgno(g.LogStart), agbno = g.FsbToAgbno(g.LogStart);
        if (agno >= g.AgCount || agbno == 0 || (ulong)agbno + g.LogBlocks > g.AgLength(agno))
        {
            ctx.Error("sb 0", $"internal log at block {g.LogStart} of {g.LogBlocks} blocks does not lie inside one AG");
            return;
        }
        ctx.Owners.Mark(agno, agbno, g.LogBlocks, ctx.Owners.Register("internal log"));
    }

    private static void CheckSummaryCounters(XfsRepairContext ctx)
    {
        var sb = ctx.Superblock;
        if (ctx.Ags.Any(a => a.Agf == null || a.Agi == null))
        {
            ctx.Note("sb 0", "summary counters not compared: some AGF or AGI could not be read");
            return;
        }
        ulong icount = 0, ifree = 0, fdblocks = 0;
        foreach (var ag in ctx.Ags)
        {
            icount += ag.Agi!.Count;
            ifree += ag.Agi.FreeCount;
            // As xfs_initialize_perag_data: free extents, AGFL blocks and free-space B+tree
            // blocks beyond the roots are all free space to the superblock.
            fdblocks += (ulong)ag.Agf!.FreeBlks + ag.Agf.FlCount + ag.Agf.BtreeBlks;
        }
        if (sb.ICount != icount)
            ctx.Error("sb 0", $"icount {sb.ICount} but the AGIs hold {icount} inodes");
        if (sb.IFree != ifree)
            ctx.Error("sb 0", $"ifree {sb.IFree} but the AGIs hold {ifree} free inodes");
        if (sb.FdBlocks != fdblocks)
            ctx.Error("sb 0", $"fdblocks {sb.FdBlocks} but the AGFs hold {fdblocks} free blocks");
    }
}
