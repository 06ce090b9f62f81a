using DaxStack.Device.Cost;

namespace DaxStack.Device.Tests.Crash;

/// <summary>
/// A deliberately simple executable statement of DESIGN.md section 3's persistence model, for
/// a few lines at offsets [0, lines*64): per line the persisted bytes, the CPU view and the
/// stores since last persisted; per CPU the write-backs it has started, each covering the
/// stores the line had when it was issued. A fence by a CPU persists what its write-backs
/// covered; clflush persists at once; a non-temporal store is a store plus a write-back; under
/// eADR every store is persistent at once. Store positions are absolute (the n-th store ever
/// made to the line) so write-backs from several CPUs compose without bookkeeping.
/// </summary>
internal sealed class ReferencePersistenceModel
{
    public const int LineSize = 64;

    private readonly bool _eadr;
    private readonly byte[][] _persisted;
    private readonly byte[][] _current;
    private readonly List<(int Offset, byte[] Data)>[] _stores;
    private readonly long[] _storesMade;       // stores ever made to the line
    private readonly long[] _storesPersisted; // how many of those are persistent
    private readonly Dictionary<int, long>[] _writeBacks; // per CPU: line -> stores covered (absolute)

    public ReferencePersistenceModel(int lines, int cpus, bool eadr)
    {
        _eadr = eadr;
        _persisted = [.. Enumerable.Range(0, lines).Select(_ => new byte[LineSize])];
        _current = [.. Enumerable.Range(0, lines).Select(_ => new byte[LineSize])];
        _stores = [.. Enumerable.Range(0, lines).Select(_ => new List<(int, byte[])>())];
        _storesMade = new long[lines];
        _storesPersisted = new long[lines];
        _writeBacks = [.. Enumerable.Range(0, cpus).Select(_ => new Dictionary<int, long>())];
    }

    public int LineCount => _current.Length;

    public int Bytes => LineCount * LineSize;

    public void Store(long offset, byte[] data)
    {
        for (int pos = 0; pos < data.Length;)
        {
            int line = (int)((offset + pos) / LineSize), inLine = (int)((offset + pos) % LineSize);
            int take = Math.Min(LineSize - inLine, data.Length - pos);
            var piece = data.AsSpan(pos, take);
            piece.CopyTo(_current[line].AsSpan(inLine));
            if (_eadr)
                piece.CopyTo(_persisted[line].AsSpan(inLine));
            else
            {
                _stores[line].Add((inLine, piece.ToArray()));
                _storesMade[line]++;
            }
            pos += take;
        }
    }

    public void NtStore(int cpu, long offset, byte[] data)
    {
        Store(offset, data);
        for (long line = offset / LineSize; line * LineSize < offset + data.Length; line++)
            WriteBack(cpu, line * LineSize);
    }

    /// <summary>clwb or clflushopt of the line holding <paramref name="offset"/>.</summary>
    public void WriteBack(int cpu, long offset)
    {
        int line = (int)(offset / LineSize);
        _writeBacks[cpu][line] = _storesMade[line];
    }

    /// <summary>A flush instruction of <paramref name="kind"/> by <paramref name="cpu"/> on the line holding <paramref name="offset"/>.</summary>
    public void Flush(int cpu, FlushKind kind, long offset)
    {
        if (kind == FlushKind.Clflush)
            Clflush(offset);
        else
            WriteBack(cpu, offset);
    }

    public void Clflush(long offset)
    {
        int line = (int)(offset / LineSize);
        PersistUpTo(line, _storesMade[line]);
    }

    public void Fence(int cpu)
    {
        foreach (var (line, covered) in _writeBacks[cpu])
            PersistUpTo(line, covered);
        _writeBacks[cpu].Clear();
    }

    /// <summary>A non-temporal store then a fence (pmem_memcpy_persist).</summary>
    public void Persist(int cpu, long offset, byte[] data)
    {
        NtStore(cpu, offset, data);
        Fence(cpu);
    }

    /// <summary>A power failure that left <paramref name="media"/> (the region's first <see cref="Bytes"/> bytes).</summary>
    public void Crash(ReadOnlySpan<byte> media)
    {
        for (int line = 0; line < LineCount; line++)
        {
            media.Slice(line * LineSize, LineSize).CopyTo(_persisted[line]);
            media.Slice(line * LineSize, LineSize).CopyTo(_current[line]);
            _stores[line].Clear();
            _storesPersisted[line] = _storesMade[line];
        }
        foreach (var writeBacks in _writeBacks)
            writeBacks.Clear();
    }

    /// <summary>What loads see.</summary>
    public byte[] Current() => Concat(_current);

    /// <summary>What is persistent (what a strict crash leaves).</summary>
    public byte[] Persisted() => Concat(_persisted);

    private static byte[] Concat(byte[][] lines)
    {
        var all = new byte[lines.Length * LineSize];
        for (int i = 0; i < lines.Length; i++)
            lines[i].CopyTo(all, i * LineSize);
        return all;
    }

    public byte[] PersistedOf(int line) => _persisted[line];

    public byte[] CurrentOf(int line) => _current[line];

    public IReadOnlyList<(int Offset, byte[] Data)> StoresOf(int line) => _stores[line];

    /// <summary>Stores of <paramref name="line"/> that <paramref name="cpu"/>'s pending write-back covers and a fence would persist.</summary>
    public int WriteBackCovers(int cpu, int line) =>
        _writeBacks[cpu].TryGetValue(line, out long covered) ? (int)Math.Max(0, covered - _storesPersisted[line]) : 0;

    /// <summary>Every content <paramref name="line"/> may hold after a crash, distinct: its persisted bytes with each prefix of its stores' 8-byte-aligned pieces applied.</summary>
    public HashSet<string> AllowedImages(int line)
    {
        var content = (byte[])_persisted[line].Clone();
        var images = new HashSet<string> { Convert.ToHexString(content) };
        foreach (var (offset, data) in _stores[line])
        {
            for (int i = 0; i < data.Length; i++)
            {
                content[offset + i] = data[i];
                bool pieceEnds = i == data.Length - 1 || (offset + i + 1) % 8 == 0;
                if (pieceEnds)
                    images.Add(Convert.ToHexString(content));
            }
        }
        return images;
    }

    private void PersistUpTo(int line, long covered)
    {
        long count = covered - _storesPersisted[line];
        if (count <= 0)
            return;
        for (int i = 0; i < count; i++)
        {
            var (offset, data) = _stores[line][i];
            data.CopyTo(_persisted[line], offset);
        }
        _stores[line].RemoveRange(0, (int)count);
        _storesPersisted[line] = covered;
    }
}
