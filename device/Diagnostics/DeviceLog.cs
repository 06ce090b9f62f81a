using Microsoft.Extensions.Logging;

namespace DaxStack.Device.Diagnostics;

/// <summary>The device layer's log events (source-generated, no cost when disabled).</summary>
internal static partial class DeviceLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "{Region} at 0x{BaseAddress:x}: {Size} bytes, profile {Profile}")]
    public static partial void RegionAdded(ILogger logger, string region, long baseAddress, long size, string profile);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "power failure ({Policy}): {InFlight} lines were in flight")]
    public static partial void PowerFailure(ILogger logger, string policy, long inFlight);
}
