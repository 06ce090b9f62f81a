namespace DaxStack.Device.Crash;

/// <summary>
/// One image a power failure could leave: for each in-flight line (by physical address), how
/// many 8-byte pieces of its stores reached the media. Lines not listed keep their persisted content.
/// </summary>
public sealed class CrashState
{
    private readonly Dictionary<long, int> _pieces;

    internal CrashState(Dictionary<long, int> pieces) => _pieces = pieces;

    /// <summary>The lines that keep at least one piece, with the number of pieces.</summary>
    public IReadOnlyDictionary<long, int> Pieces => _pieces;

    /// <summary>Pieces kept for the line at <paramref name="lineAddress"/> (0 if not listed).</summary>
    public int PiecesFor(long lineAddress) => _pieces.TryGetValue(lineAddress, out int n) ? n : 0;

    public override string ToString() =>
        _pieces.Count == 0 ? "persisted-only" : string.Join(",", _pieces.OrderBy(p => p.Key).Select(p => $"0x{p.Key:x}:{p.Value}"));
}
