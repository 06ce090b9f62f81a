namespace DaxStack.Tools.Cli;

/// <summary>
/// Writing to standard output or standard error failed (EBADF when it is closed, ENOSPC on a full
/// disk, EIO). Not an <see cref="IOException"/>, so that no command mistakes it for a failure of
/// the image it works on.
/// </summary>
public sealed class OutputWriteException(string streamName, Exception inner)
    : Exception($"write error on {streamName}: {Reason(inner)}", inner)
{
    /// <summary>"standard output" or "standard error".</summary>
    public string StreamName { get; } = streamName;

    // .NET reports EBADF and EPERM from write(2) as "Access to the path is denied".
    private static string Reason(Exception e) =>
        e is UnauthorizedAccessException ? "the descriptor is closed or not writable" : e.Message.TrimEnd('.');
}
