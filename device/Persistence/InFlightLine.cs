namespace DaxStack.Device.Persistence;

/// <summary>
/// A 64-byte line whose CPU-visible content is not yet known to be persistent: its persisted
/// content and the stores made to it since. At a power failure the line holds its persisted
/// content with some prefix of <see cref="Stores"/> applied (8-byte pieces are atomic).
/// </summary>
public sealed class InFlightLine
{
    internal InFlightLine(long physicalAddress, byte[] persisted, LineStore[] stores, int writeBackIssued)
    {
        PhysicalAddress = physicalAddress;
        Persisted = persisted;
        Stores = stores;
        WriteBackIssued = writeBackIssued;
    }

    /// <summary>Physical address of the line (64-byte aligned).</summary>
    public long PhysicalAddress { get; }

    /// <summary>The line's persisted content (64 bytes).</summary>
    public ReadOnlyMemory<byte> Persisted { get; }

    /// <summary>Stores since the line was last persisted, oldest first.</summary>
    public IReadOnlyList<LineStore> Stores { get; }

    /// <summary>How many of <see cref="Stores"/> (oldest first) a write-back (clwb, clflushopt, ntstore) by any CPU already covers; the issuing CPU's next fence persists them.</summary>
    public int WriteBackIssued { get; }

    /// <summary>
    /// The line's content with the first <paramref name="pieces"/> 8-byte atomic pieces of its
    /// stores applied (all of them when <paramref name="pieces"/> is <see cref="PieceCount"/> or more).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pieces"/> is negative.</exception>
    public byte[] ContentAfterPieces(int pieces)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pieces);
        var line = Persisted.ToArray();
        int done = 0;
        foreach (var s in Stores)
        {
            var data = s.Data.Span;
            int pos = 0;
            while (pos < data.Length)
            {
                if (done == pieces)
                    return line;
                int at = s.Offset + pos;
                int take = Math.Min(8 - (at & 7), data.Length - pos);
                data.Slice(pos, take).CopyTo(line.AsSpan(at));
                pos += take;
                done++;
            }
        }
        return line;
    }

    /// <summary>The number of 8-byte atomic pieces the stores split into.</summary>
    public int PieceCount
    {
        get
        {
            int n = 0;
            foreach (var s in Stores)
                n += PiecesOf(s.Offset, s.Data.Length);
            return n;
        }
    }

    /// <summary>The content once every store is applied (what the CPU sees).</summary>
    public byte[] CurrentContent() => ContentAfterPieces(int.MaxValue);

    internal static int PiecesOf(int offset, int length)
    {
        int first = offset >> 3, last = (offset + length - 1) >> 3;
        return last - first + 1;
    }
}
