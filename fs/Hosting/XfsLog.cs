using Microsoft.Extensions.Logging;

namespace DaxStack.Fs.Hosting;

/// <summary>The log worker's log events (source-generated, so a disabled level costs a branch).</summary>
internal static partial class XfsLog
{
    [LoggerMessage(EventId = 4100, Level = LogLevel.Information, Message = "xfs: log worker started, pushing every {Interval}")]
    public static partial void WorkerStarted(ILogger logger, TimeSpan interval);

    [LoggerMessage(EventId = 4101, Level = LogLevel.Error, Message = "xfs: log push of {Device} failed: {Message}")]
    public static partial void PushFailed(ILogger logger, string device, string message);
}
