using System.Text;

namespace DaxStack.Tools.Cli;

/// <summary>
/// Standard output or standard error for the commands: forwards to the real stream and turns a
/// failed write (a full disk, a closed descriptor) into an <see cref="OutputWriteException"/>, so
/// that the entry point reports it as a write error instead of taking it for a bug in a command.
/// </summary>
internal sealed class CheckedWriter(TextWriter inner, string streamName) : TextWriter(inner.FormatProvider)
{
    /// <summary>"standard output" or "standard error".</summary>
    public string StreamName { get; } = streamName;

    public override Encoding Encoding => inner.Encoding;

    [System.Diagnostics.CodeAnalysis.AllowNull]
    public override string NewLine
    {
        get => inner.NewLine;
        set => inner.NewLine = value;
    }

    public override void Write(char value)
    {
        try { inner.Write(value); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw Failed(e); }
    }

    public override void Write(string? value)
    {
        try { inner.Write(value); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw Failed(e); }
    }

    public override void Write(char[] buffer, int index, int count)
    {
        try { inner.Write(buffer, index, count); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw Failed(e); }
    }

    public override void WriteLine()
    {
        try { inner.WriteLine(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw Failed(e); }
    }

    public override void WriteLine(string? value)
    {
        try { inner.WriteLine(value); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw Failed(e); }
    }

    public override void Flush()
    {
        try { inner.Flush(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw Failed(e); }
    }

    // Each write is forwarded as is (no closure per call: commands such as io print a line per block).
    private OutputWriteException Failed(Exception e) => new(StreamName, e);
}
