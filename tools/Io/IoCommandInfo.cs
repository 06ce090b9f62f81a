namespace DaxStack.Tools.Io;

/// <summary>
/// One command of the <c>io</c> runner: its names, argument counts, the usage and one-line help
/// that <c>help</c> prints, whether it runs with no file open, and the code that runs it. The
/// handler gets the words of the command line (the command name first) and returns false when
/// the command failed.
/// </summary>
/// <remarks>Models xfs_io's <c>cmdinfo_t</c> (<c>name</c>, <c>altname</c>, <c>argmin</c>, <c>argmax</c>, <c>args</c>, <c>oneline</c>, <c>CMD_NOFILE_OK</c>, <c>cfunc</c>).</remarks>
public sealed record IoCommandInfo(
    string Name,
    string? AltName,
    int ArgMin,
    int ArgMax,
    bool NoFileOk,
    string? Args,
    string OneLine,
    Func<IoSession, string[], bool> Handler);
