using System.Diagnostics.Metrics;

namespace DaxStack.Fs.Xfs.Log;

/// <summary>
/// The journal's counters on the filesystem layer's meter <see cref="MeterName"/>, so
/// <c>dotnet-counters monitor --counters DaxStack.Fs</c> shows commits, forces, checkpoints and
/// log bytes as they happen.
/// </summary>
/// <remarks>Models the XFS statistics in <c>/proc/fs/xfs/stat</c> for the log: <c>xs_log_writes</c> / <c>xs_log_blocks</c>, <c>xs_log_force</c>, <c>xs_trans_*</c> commits and <c>xs_push_ail</c>.</remarks>
public static class XfsLogMetrics
{
    /// <summary>The meter name of the filesystem layer.</summary>
    public const string MeterName = "DaxStack.Fs";

    /// <summary>The meter.</summary>
    public static Meter Meter { get; } = new(MeterName);

    /// <summary>Transactions committed into the CIL.</summary>
    public static Counter<long> Commits { get; } = Meter.CreateCounter<long>("daxstack.fs.xfs.log.commits", "{transaction}", "transactions committed to the journal (CIL)");

    /// <summary>Log forces that made new transactions durable.</summary>
    public static Counter<long> Forces { get; } = Meter.CreateCounter<long>("daxstack.fs.xfs.log.forces", "{force}", "log forces that made committed transactions durable");

    /// <summary>Bytes of log records written (headers included).</summary>
    public static Counter<long> BytesWritten { get; } = Meter.CreateCounter<long>("daxstack.fs.xfs.log.bytes_written", "By", "bytes of log records written");

    /// <summary>Checkpoints that wrote buffers home.</summary>
    public static Counter<long> Checkpoints { get; } = Meter.CreateCounter<long>("daxstack.fs.xfs.log.checkpoints", "{checkpoint}", "checkpoints that wrote logged buffers home (AIL pushes)");

    /// <summary>Transactions replayed by log recovery.</summary>
    public static Counter<long> Replayed { get; } = Meter.CreateCounter<long>("daxstack.fs.xfs.log.replayed", "{transaction}", "transactions replayed by log recovery at mount");
}
