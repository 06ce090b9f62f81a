using DaxStack.Device.Errors;
using Microsoft.Extensions.Logging;

namespace DaxStack.Driver.Diagnostics;

/// <summary>The pmem and device-dax drivers' log events (source-generated, so a disabled level costs a branch).</summary>
internal static partial class DriverLog
{
    [LoggerMessage(EventId = 3000, Level = LogLevel.Warning,
        Message = "{Device}: {Failure}; the I/O that needed those blocks fails with {Error} ({Failures} failure(s) since the last report)")]
    public static partial void ReservationFailed(ILogger logger, string device, string failure, Errno error, long failures);
}
