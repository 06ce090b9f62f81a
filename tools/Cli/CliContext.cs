namespace DaxStack.Tools.Cli;

/// <summary>What every command gets: the host's services and the output streams.</summary>
public sealed class CliContext(IServiceProvider services, TextWriter stdout, TextWriter stderr)
{
    /// <summary>The generic host's services.</summary>
    public IServiceProvider Services { get; } = services;

    /// <summary>Standard output.</summary>
    public TextWriter Out { get; } = stdout;

    /// <summary>Standard error: failures are written as <c>COMMAND: message</c>.</summary>
    public TextWriter Error { get; } = stderr;

    /// <summary>Writes <c>command: message</c> to standard error and returns exit status 1.</summary>
    public int Fail(string command, string message)
    {
        Error.WriteLine($"{command}: {message}");
        return 1;
    }
}
