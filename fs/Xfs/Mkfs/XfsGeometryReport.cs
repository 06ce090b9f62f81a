using System.Globalization;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Mkfs;

/// <summary>
/// The geometry summary mkfs.xfs prints after formatting (and xfs_info prints for a mounted
/// filesystem): meta-data, data, naming, log and realtime lines with the same fields, order and
/// column widths.
/// </summary>
/// <remarks>Models xfsprogs' <c>xfs_report_geom</c> (libfrog/fsgeom.c).</remarks>
public static class XfsGeometryReport
{
    /// <summary>The summary lines for the filesystem of <paramref name="sb"/> on <paramref name="deviceName"/>.</summary>
    public static IReadOnlyList<string> Lines(XfsSuperblock sb, string deviceName)
    {
        ArgumentNullException.ThrowIfNull(sb);
        static int Bit(bool b) => b ? 1 : 0;
        bool crc = (sb.Features2 & XfsSbFeatures2.Crc) != 0;
        var ro = sb.FeaturesRoCompat;
        var inc = sb.FeaturesIncompat;
        bool internalLog = sb.LogStart != 0;
        int attr = (sb.Features2 & XfsSbFeatures2.Attr2) != 0 ? 2 : (sb.VersionNum & XfsSbVersion.Attr) != 0 ? 1 : 0;
        int logVersion = (sb.VersionNum & XfsSbVersion.LogV2) != 0 ? 2 : 1;
        uint logSectSize = sb.LogSectSize != 0 ? sb.LogSectSize : sb.SectSize;
        // sb_logsunit is in bytes, printed in blocks; 1 means "none" on a v2 log.
        uint logSunit = sb.LogSUnit <= 1 ? 0 : sb.LogSUnit / sb.BlockSize;
        uint dirBlockSize = sb.BlockSize << sb.DirBlkLog;
        return
        [
            F($"meta-data={deviceName,-22} isize={sb.InodeSize,-6} agcount={sb.AgCount}, agsize={sb.AgBlocks} blks"),
            F($"         ={"",-22} sectsz={sb.SectSize,-5} attr={attr}, projid32bit={Bit((sb.Features2 & XfsSbFeatures2.ProjId32) != 0)}"),
            F($"         ={"",-22} crc={Bit(crc),-8} finobt={Bit((ro & XfsRoCompatFeatures.FinoBt) != 0)}, sparse={Bit((inc & XfsIncompatFeatures.SparseInodes) != 0)}, rmapbt={Bit((ro & XfsRoCompatFeatures.RmapBt) != 0)}"),
            F($"         ={"",-22} reflink={Bit((ro & XfsRoCompatFeatures.Reflink) != 0),-4} bigtime={Bit((inc & XfsIncompatFeatures.BigTime) != 0)} inobtcount={Bit((ro & XfsRoCompatFeatures.InoBtCount) != 0)} nrext64={Bit((inc & XfsIncompatFeatures.NRext64) != 0)}"),
            F($"data     ={"",-22} bsize={sb.BlockSize,-6} blocks={sb.DataBlocks}, imaxpct={sb.IMaxPct}"),
            F($"         ={"",-22} sunit={sb.Unit,-6} swidth={sb.Width} blks"),
            F($"naming   =version {2,-14} bsize={dirBlockSize,-6} ascii-ci={Bit((sb.VersionNum & XfsSbVersion.Borg) != 0)}, ftype={Bit((inc & XfsIncompatFeatures.FType) != 0)}"),
            F($"log      ={(internalLog ? "internal log" : "external"),-22} bsize={sb.BlockSize,-6} blocks={sb.LogBlocks}, version={logVersion}"),
            F($"         ={"",-22} sectsz={logSectSize,-5} sunit={logSunit} blks, lazy-count={Bit((sb.Features2 & XfsSbFeatures2.LazySbCount) != 0)}"),
            F($"realtime ={(sb.RtBlocks != 0 ? "external" : "none"),-22} extsz={sb.RtExtSize * sb.BlockSize,-6} blocks={sb.RtBlocks}, rtextents={sb.RtExtents}"),
        ];
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
