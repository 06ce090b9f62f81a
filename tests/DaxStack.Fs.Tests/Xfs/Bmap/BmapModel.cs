using DaxStack.Fs.Xfs.Bmap;

namespace DaxStack.Fs.Tests.Xfs.Bmap;

/// <summary>
/// The reference model of a block map: per file block, the filesystem block it maps to and
/// whether it is unwritten. Independent of the fork's extent records, so comparing the two
/// checks splits, merges and the B+tree alike.
/// </summary>
internal sealed class BmapModel
{
    private readonly SortedDictionary<ulong, (ulong Fsb, bool Unwritten)> _blocks = [];

    public int Count => _blocks.Count;

    public IEnumerable<ulong> PhysicalBlocks => _blocks.Values.Select(v => v.Fsb);

    public bool IsMapped(ulong offset) => _blocks.ContainsKey(offset);

    public void Map(ulong offset, ulong fsb, bool unwritten)
    {
        if (!_blocks.TryAdd(offset, (fsb, unwritten)))
            throw new InvalidOperationException($"model: file block {offset} mapped twice");
    }

    public void Unmap(ulong offset) => _blocks.Remove(offset);

    public void SetState(ulong offset, bool unwritten)
    {
        if (_blocks.TryGetValue(offset, out var v))
            _blocks[offset] = (v.Fsb, unwritten);
    }

    /// <summary>Records what <paramref name="mappings"/> (from XfsBmap.Read) say for newly mapped blocks in a range that was all holes before.</summary>
    public void AbsorbNew(IEnumerable<XfsBmapMapping> mappings, ulong from, ulong to)
    {
        foreach (var m in mappings.Where(m => !m.IsHole))
        {
            for (ulong b = Math.Max(m.StartOff, from); b < Math.Min(m.EndOff, to); b++)
            {
                if (!_blocks.ContainsKey(b))
                    Map(b, m.StartBlock + (b - m.StartOff), m.State == XfsBmapState.Unwritten);
            }
        }
    }

    /// <summary>The model's view of file blocks [<paramref name="from"/>, <paramref name="to"/>) as maximal runs, in the shape XfsBmap.Read reports (runs split where XFS cannot merge).</summary>
    public List<string> Describe(ulong from, ulong to)
    {
        var result = new List<string>();
        ulong b = from;
        while (b < to)
        {
            if (!_blocks.TryGetValue(b, out var v))
            {
                ulong e = b + 1;
                while (e < to && !_blocks.ContainsKey(e))
                    e++;
                result.Add($"{b}+{e - b} hole");
                b = e;
                continue;
            }
            ulong end = b + 1;
            while (end < to && _blocks.TryGetValue(end, out var w) && w.Fsb == v.Fsb + (end - b) && w.Unwritten == v.Unwritten)
                end++;
            result.Add($"{b}+{end - b} @{v.Fsb} {(v.Unwritten ? "unwritten" : "written")}");
            b = end;
        }
        return result;
    }

    /// <summary>XfsBmap.Read's mappings in the same text shape, adjacent runs that continue each other joined (a record split only by the 2^21-block limit reads as one run).</summary>
    public static List<string> Describe(IEnumerable<XfsBmapMapping> mappings)
    {
        var runs = new List<XfsBmapMapping>();
        foreach (var m in mappings)
        {
            if (runs.Count > 0)
            {
                var p = runs[^1];
                bool joins = p.State == m.State && p.EndOff == m.StartOff && (m.IsHole || p.StartBlock + p.BlockCount == m.StartBlock);
                if (joins)
                {
                    runs[^1] = p with { BlockCount = p.BlockCount + m.BlockCount };
                    continue;
                }
            }
            runs.Add(m);
        }
        return runs.Select(m => m.IsHole
            ? $"{m.StartOff}+{m.BlockCount} hole"
            : $"{m.StartOff}+{m.BlockCount} @{m.StartBlock} {(m.State == XfsBmapState.Unwritten ? "unwritten" : "written")}").ToList();
    }
}
