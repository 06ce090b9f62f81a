using System.Numerics;
using System.Runtime.CompilerServices;

namespace DaxStack.Device.Cost;

/// <summary>
/// A set of non-zero 64-bit tags with room for a fixed number of them: the index of the units a
/// <see cref="WriteCombiningBuffer"/> holds that collided in its direct-mapped table, so that
/// asking whether such a unit is buffered costs a probe or two, not a scan of the buffer. Open
/// addressing with linear probing over a table at most half full; removal shifts the entries
/// after it back, so no tombstones build up.
/// </summary>
internal sealed class TagSet
{
    private readonly long[] _slots;   // 0 = empty
    private readonly int _mask;
    private readonly int _shift;

    /// <summary>A set that holds up to <paramref name="capacity"/> tags.</summary>
    public TagSet(int capacity)
    {
        int size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(2 * capacity, 2));
        _slots = new long[size];
        _mask = size - 1;
        _shift = 64 - BitOperations.Log2((uint)size);
    }

    /// <summary>Whether <paramref name="tag"/> (non-zero) is in the set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Contains(long tag)
    {
        var slots = _slots;
        for (int i = Home(tag); ; i = (i + 1) & _mask)
        {
            long e = slots[i];
            if (e == tag)
                return true;
            if (e == 0)
                return false;
        }
    }

    /// <summary>Adds <paramref name="tag"/> (non-zero, not in the set; the set must not be full).</summary>
    public void Add(long tag)
    {
        var slots = _slots;
        int i = Home(tag);
        while (slots[i] != 0)
            i = (i + 1) & _mask;
        slots[i] = tag;
    }

    /// <summary>Removes every tag.</summary>
    public void Clear() => Array.Clear(_slots);

    /// <summary>Removes <paramref name="tag"/>, which is in the set.</summary>
    public void Remove(long tag)
    {
        var slots = _slots;
        int hole = Home(tag);
        while (slots[hole] != tag)
            hole = (hole + 1) & _mask;
        // Move back every later entry of the probe sequence whose home is not between the hole
        // and its own position, so that every entry stays reachable from its home.
        for (int i = (hole + 1) & _mask; slots[i] != 0; i = (i + 1) & _mask)
        {
            int home = Home(slots[i]);
            if (((i - home) & _mask) >= ((i - hole) & _mask))
            {
                slots[hole] = slots[i];
                hole = i;
            }
        }
        slots[hole] = 0;
    }

    // Fibonacci hashing: consecutive units (a sequential stream) spread over the table.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Home(long tag) => (int)((ulong)tag * 0x9E3779B97F4A7C15UL >> _shift);
}
