using System.Runtime.Intrinsics;
using DaxStack.Device.Persistence;

namespace DaxStack.Device.Crash;

/// <summary>
/// The distinct contents one in-flight line can hold after a power failure: its persisted
/// content with each prefix of its 8-byte atomic store pieces applied, prefixes that give the
/// same bytes counted once. Choice 0 is the persisted content; choices are in increasing
/// number of pieces, each represented by the shortest prefix giving its bytes.
/// </summary>
internal sealed class LineChoices
{
    private readonly int[] _pieces;
    private readonly byte[][] _contents;

    private LineChoices(InFlightLine line, int[] pieces, byte[][] contents, int full)
    {
        Line = line;
        _pieces = pieces;
        _contents = contents;
        Full = full;
    }

    /// <summary>The line.</summary>
    public InFlightLine Line { get; }

    /// <summary>Physical address of the line.</summary>
    public long Address => Line.PhysicalAddress;

    /// <summary>Number of distinct contents (at least 1, the persisted content).</summary>
    public int Count => _pieces.Length;

    /// <summary>The choice holding the line's full current content (0 when it equals the persisted content).</summary>
    public int Full { get; }

    /// <summary>True when the full current content differs from the persisted content.</summary>
    public bool Changes => Full != 0;

    /// <summary>Pieces applied by <paramref name="choice"/>.</summary>
    public int PiecesOf(int choice) => _pieces[choice];

    /// <summary>A copy of the content after <paramref name="pieces"/> pieces (0 to <see cref="InFlightLine.PieceCount"/>).</summary>
    public byte[] ContentAfter(int pieces)
    {
        int choice = Array.BinarySearch(_pieces, pieces);
        if (choice >= 0)
            return (byte[])_contents[choice].Clone();
        int total = Line.PieceCount;
        if (pieces < 0 || pieces > total)
            throw new ArgumentOutOfRangeException(nameof(pieces), pieces, $"line 0x{Address:x} has {total} pieces");
        return Line.ContentAfterPieces(pieces);
    }

    /// <summary>Applies the line's pieces one by one and keeps each new content.</summary>
    public static LineChoices Of(InFlightLine line)
    {
        var content = line.Persisted.ToArray();
        if (content.Length != LineTracker.LineSize)
            throw new ArgumentException($"line 0x{line.PhysicalAddress:x} has {content.Length} persisted bytes, not {LineTracker.LineSize}", nameof(line));

        // A line's content is exactly one 512-bit vector: a cheap, value-equal dictionary key.
        var index = new Dictionary<Vector512<byte>, int> { [Vector512.Create<byte>(content)] = 0 };
        var pieces = new List<int> { 0 };
        var contents = new List<byte[]> { content.ToArray() };
        int applied = 0, current = 0;
        foreach (var store in line.Stores)
        {
            var data = store.Data.Span;
            if (store.Offset < 0 || data.Length == 0 || store.Offset + data.Length > LineTracker.LineSize)
                throw new ArgumentException($"line 0x{line.PhysicalAddress:x} has a store [{store.Offset}, +{data.Length}) outside the line", nameof(line));
            for (int pos = 0; pos < data.Length;)
            {
                // The same split as InFlightLine.ContentAfterPieces: up to the next 8-byte boundary.
                int at = store.Offset + pos;
                int take = Math.Min(8 - (at & 7), data.Length - pos);
                data.Slice(pos, take).CopyTo(content.AsSpan(at));
                pos += take;
                applied++;
                var key = Vector512.Create<byte>(content);
                if (!index.TryGetValue(key, out current))
                {
                    current = pieces.Count;
                    index.Add(key, current);
                    pieces.Add(applied);
                    contents.Add(content.ToArray());
                }
            }
        }
        return new LineChoices(line, [.. pieces], [.. contents], current);
    }
}
