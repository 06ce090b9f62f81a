namespace DaxStack.Interop.Tests.Tools;

/// <summary>
/// What one run of an external program left behind: its command line, exit status and both
/// output streams. <see cref="ToString"/> is written for assertion messages.
/// </summary>
public sealed record ToolResult(string CommandLine, int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>True when the program exited with status 0.</summary>
    public bool Succeeded => ExitCode == 0;

    /// <summary>Both output streams together, for checks that do not care which one a message went to.</summary>
    public string AllOutput => StandardOutput + StandardError;

    public override string ToString() =>
        $"`{CommandLine}` exited {ExitCode}\n--- stdout ---\n{StandardOutput}\n--- stderr ---\n{StandardError}";
}
