using System.Runtime.Intrinsics;
using DaxStack.Device.Persistence;

namespace DaxStack.Device.Crash;

/// <summary>
/// The distinct contents one in-flight line can hold after a power failure: its persisted
/// content with each prefix of its 8-byte atomic store pieces applied, prefixes that give the
/// same bytes counted once. Choice 0 is the persisted content; choices are in increasing
/// number of pieces, each represented by the shortest prefix giving its bytes.
/// </summary>
/// <remarks>
/// Only the prefix lengths of the choices are kept, not their bytes: a space holds hundreds of
/// thousands of lines, and a content is rebuilt from the line
/// (<see cref="InFlightLine.ContentAfterPieces"/>) when it is asked for.
/// </remarks>
internal readonly struct LineChoices
{
    // Distinct contents told apart by a scan of those seen so far up to this many; a line with
    // more pieces (a word stored to again and again) uses a dictionary instead.
    private const int ScanLimit = 16;

    private readonly int[]? _pieces;    // null: choice c applies c pieces (every piece made a new content)

    private LineChoices(InFlightLine line, int[]? pieces, int count, int full)
    {
        Line = line;
        _pieces = pieces;
        Count = count;
        Full = full;
    }

    /// <summary>The line.</summary>
    public InFlightLine Line { get; }

    /// <summary>Physical address of the line.</summary>
    public long Address => Line.PhysicalAddress;

    /// <summary>Number of distinct contents (at least 1, the persisted content).</summary>
    public int Count { get; }

    /// <summary>The choice holding the line's full current content (0 when it equals the persisted content).</summary>
    public int Full { get; }

    /// <summary>True when the full current content differs from the persisted content.</summary>
    public bool Changes => Full != 0;

    /// <summary>Pieces applied by <paramref name="choice"/>.</summary>
    public int PiecesOf(int choice) => _pieces is null ? choice : _pieces[choice];

    /// <summary>Applies the line's pieces one by one and notes each new content.</summary>
    public static LineChoices Of(InFlightLine line)
    {
        var persisted = line.Persisted.Span;
        if (persisted.Length != LineTracker.LineSize)
            throw new ArgumentException($"line 0x{line.PhysicalAddress:x} has {persisted.Length} persisted bytes, not {LineTracker.LineSize}", nameof(line));

        var stores = line.Stores;
        int total = 0;
        for (int s = 0; s < stores.Count; s++)
        {
            var store = stores[s];
            int length = store.Data.Length;
            if (store.Offset < 0 || length == 0 || store.Offset + length > LineTracker.LineSize)
                throw new ArgumentException($"line 0x{line.PhysicalAddress:x} has a store [{store.Offset}, +{length}) outside the line", nameof(line));
            total += InFlightLine.PiecesOf(store.Offset, length);
        }
        return total < ScanLimit ? ByScan(line, persisted) : ByDictionary(line, persisted);
    }

    // At most ScanLimit contents: each new one compared with those seen, all on the stack.
    private static LineChoices ByScan(InFlightLine line, ReadOnlySpan<byte> persisted)
    {
        Span<byte> content = stackalloc byte[LineTracker.LineSize];
        persisted.CopyTo(content);
        // A line's content is exactly one 512-bit vector: compared in a few instructions.
        Span<Vector512<byte>> seen = stackalloc Vector512<byte>[ScanLimit];
        Span<int> pieces = stackalloc int[ScanLimit];
        seen[0] = Vector512.Create<byte>(content);
        int count = 1, applied = 0, current = 0;
        bool identity = true;   // so far choice c applies c pieces
        var stores = line.Stores;
        for (int s = 0; s < stores.Count; s++)
        {
            var store = stores[s];
            var data = store.Data.Span;
            for (int pos = 0; pos < data.Length;)
            {
                // The same split as InFlightLine.ContentAfterPieces: up to the next 8-byte boundary.
                int at = store.Offset + pos;
                int take = Math.Min(8 - (at & 7), data.Length - pos);
                data.Slice(pos, take).CopyTo(content[at..]);
                pos += take;
                applied++;
                var key = Vector512.Create<byte>(content);
                current = seen[..count].IndexOf(key);
                if (current < 0)
                {
                    current = count++;
                    seen[current] = key;
                    pieces[current] = applied;
                    identity &= applied == current;
                }
            }
        }
        return new LineChoices(line, identity ? null : pieces[..count].ToArray(), count, current);
    }

    // Many pieces: a dictionary of the contents seen.
    private static LineChoices ByDictionary(InFlightLine line, ReadOnlySpan<byte> persisted)
    {
        var content = persisted.ToArray();
        var index = new Dictionary<Vector512<byte>, int> { [Vector512.Create<byte>(content)] = 0 };
        var pieces = new List<int> { 0 };
        int applied = 0, current = 0;
        foreach (var store in line.Stores)
        {
            var data = store.Data.Span;
            for (int pos = 0; pos < data.Length;)
            {
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
                }
            }
        }
        return new LineChoices(line, [.. pieces], pieces.Count, current);
    }
}
