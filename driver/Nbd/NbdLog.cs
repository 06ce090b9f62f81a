using System.Net;
using Microsoft.Extensions.Logging;

namespace DaxStack.Driver.Nbd;

/// <summary>The NBD server's log events (source-generated, so a disabled level costs a branch).</summary>
internal static partial class NbdLog
{
    [LoggerMessage(EventId = 3100, Level = LogLevel.Information, Message = "nbd: listening on {Endpoint} with {ExportCount} export(s): {Exports}")]
    public static partial void Listening(ILogger logger, EndPoint endpoint, int exportCount, string exports);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "nbd: connection {Connection} from {Remote}")]
    public static partial void ConnectionAccepted(ILogger logger, long connection, EndPoint? remote);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Warning, Message = "nbd: connection from {Remote} refused: {Max} connections already open (Nbd:MaxConnections)")]
    public static partial void ConnectionRefused(ILogger logger, EndPoint? remote, int max);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Information, Message = "nbd: connection {Connection} uses export '{Export}' ({Option})")]
    public static partial void ExportSelected(ILogger logger, long connection, string export, NbdOption option);

    [LoggerMessage(EventId = 3104, Level = LogLevel.Information, Message = "nbd: connection {Connection} closed after {Requests} request(s): {Reason}")]
    public static partial void ConnectionClosed(ILogger logger, long connection, long requests, string reason);

    [LoggerMessage(EventId = 3105, Level = LogLevel.Warning, Message = "nbd: connection {Connection} dropped: {Violation}")]
    public static partial void ProtocolViolation(ILogger logger, long connection, string violation);

    [LoggerMessage(EventId = 3106, Level = LogLevel.Error, Message = "nbd: connection {Connection} failed")]
    public static partial void ConnectionFailed(ILogger logger, long connection, Exception exception);

    [LoggerMessage(EventId = 3107, Level = LogLevel.Information, Message = "nbd: stopped; {Aborted} connection(s) dropped after the stop timeout")]
    public static partial void Stopped(ILogger logger, int aborted);

    [LoggerMessage(EventId = 3111, Level = LogLevel.Warning, Message = "nbd: power failure; {Dropped} connection(s) dropped without a reply, nothing flushed")]
    public static partial void PowerFailed(ILogger logger, int dropped);

    [LoggerMessage(EventId = 3108, Level = LogLevel.Error, Message = "nbd: flushing export '{Export}' at stop failed with {Status}")]
    public static partial void StopFlushFailed(ILogger logger, string export, string status);

    [LoggerMessage(EventId = 3109, Level = LogLevel.Error, Message = "nbd: accepting connections failed")]
    public static partial void AcceptFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3110, Level = LogLevel.Warning, Message = "nbd: an accepted connection could not be set up and was closed")]
    public static partial void ConnectionSetupFailed(ILogger logger, Exception exception);
}
