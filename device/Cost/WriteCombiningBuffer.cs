using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace DaxStack.Device.Cost;

/// <summary>
/// Which media units a DIMM's write-combining buffer (the XPBuffer on Optane) holds: a fixed
/// number of units, replaced first in, first out. A write to a held unit merges; a write to any
/// other unit allocates it, evicting the unit held longest, and costs one media write.
/// </summary>
/// <remarks>
/// Lookups are constant-time. Each held unit is indexed in exactly one place: its slot in a
/// direct-mapped table (unit number modulo four times the capacity, rounded up to a power of
/// two, at most 65536) when that slot was free as it arrived, otherwise an overflow
/// <see cref="TagSet"/>. A sequential stream holds consecutive units, which share no slot, so it
/// never touches the overflow set; scattered units that collide fall back to it. A run of
/// consecutive units none of which is held, the common case of a stream, is recognised a vector
/// of direct slots at a time and then indexed without a lookup per unit. Callers hold the region
/// lock.
/// </remarks>
internal sealed class WriteCombiningBuffer
{
    private const int MaxDirectSlots = 1 << 16;

    private readonly long[] _units;      // held units in arrival order, as unit number + 1; 0 if empty
    private readonly long[] _direct;     // unit + 1 at slot (unit & _directMask) if indexed there, else 0
    private readonly int _directMask;
    private readonly TagSet _overflow;   // held units whose direct slot was taken when they arrived
    private int _overflowCount;
    private int _oldest;                 // next entry of _units to replace

    /// <summary>A buffer of <paramref name="capacity"/> units (0: no buffer; every write allocates).</summary>
    public WriteCombiningBuffer(int capacity)
    {
        _units = new long[capacity];
        int direct = (int)Math.Min(MaxDirectSlots, BitOperations.RoundUpToPowerOf2((uint)Math.Max(capacity, 1)) * 4);
        _direct = new long[direct];
        _directMask = direct - 1;
        _overflow = new TagSet(capacity);
    }

    /// <summary>Empties the buffer (a power failure: ADR drains it to the media, and it comes back empty).</summary>
    public void Clear()
    {
        Array.Clear(_units);
        Array.Clear(_direct);
        if (_overflowCount != 0)
        {
            _overflow.Clear();
            _overflowCount = 0;
        }
        _oldest = 0;
    }

    /// <summary>Number of units the buffer holds when full.</summary>
    public int Capacity => _units.Length;

    /// <summary>
    /// Whether a write to media unit <paramref name="unit"/> (not negative) allocates: true if the
    /// unit was not held, in which case it now is, in place of the unit held longest.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Allocate(long unit)
    {
        if (_units.Length != 0 && Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_direct), (nint)(unit & _directMask)) == unit + 1)
            return false;
        return Allocate(unit, 1) != 0;
    }

    /// <summary>
    /// Writes to the <paramref name="count"/> consecutive media units from <paramref name="first"/>
    /// (not negative), in order, when each of them allocates and they are at least a buffer's
    /// worth: returns whether so, and changes nothing otherwise. The buffer then holds the last
    /// <see cref="Capacity"/> of them, the earliest the oldest, as the writes one by one leave it.
    /// </summary>
    /// <remarks>
    /// Which runs allocate every unit, in time proportional to the capacity, not the run: if the
    /// units before run index i all allocate, they evict the i units held longest, so a unit held
    /// at FIFO position p (0 the oldest) is gone by the time the run reaches it exactly when
    /// p &lt; i. By induction on i every unit allocates if and only if that holds for every held
    /// unit within the run. A run of at least the capacity then evicts every unit held before it,
    /// whose index entries are dropped first, so that only the units it leaves are indexed.
    /// </remarks>
    public bool TryAllocateAll(long first, long count)
    {
        long[] units = _units;
        int capacity = units.Length;
        if (capacity == 0 || count < capacity)
            return false;
        int oldest = _oldest;
        for (int e = 0; e < capacity; e++)
        {
            // The held unit's index in the run (empty entries, 0, fall below it).
            long i = units[e] - 1 - first;
            if ((ulong)i < (ulong)count)
            {
                int p = e - oldest;
                if (p < 0)
                    p += capacity;
                if (p >= i)
                    return false;
            }
        }
        ref long direct = ref MemoryMarshal.GetArrayDataReference(_direct);
        long mask = _directMask;
        for (int e = 0; e < capacity; e++)
        {
            long held = units[e];
            ref long slot = ref Unsafe.Add(ref direct, (nint)((held - 1) & mask));
            // Units indexed in the overflow set go with it below.
            if (held != 0 && slot == held)
                slot = 0;
        }
        if (_overflowCount != 0)
        {
            _overflow.Clear();
            _overflowCount = 0;
        }
        // Unit first + j of the run goes to entry (oldest + j) mod capacity; the last 'capacity' stay.
        long skipped = count - capacity;
        int entry = (int)((oldest + skipped % capacity) % capacity);
        int overflowCount = 0;
        for (long tag = first + skipped + 1, stop = first + count + 1; tag < stop; tag++)
        {
            ref long slot = ref Unsafe.Add(ref direct, (nint)((tag - 1) & mask));
            // Consecutive units share a direct slot only when the buffer outgrows the table.
            if (slot == 0)
                slot = tag;
            else
            {
                _overflow.Add(tag);
                overflowCount++;
            }
            units[entry] = tag;
            if (++entry == capacity)
                entry = 0;
        }
        _overflowCount = overflowCount;
        _oldest = entry;
        return true;
    }

    /// <summary>
    /// The common case of <see cref="Allocate(long, int)"/>, a stream moving on to units it has not
    /// written lately, checked a vector of direct slots at a time: if the overflow set is empty (every held unit is
    /// indexed at its direct slot), the run is at most a buffer's worth and the direct slots of
    /// its units are consecutive and all empty, writes the run and returns true; otherwise
    /// returns false, having changed nothing.
    /// </summary>
    /// <remarks>
    /// Why that is what the writes one by one do. An empty slot means its unit is not held (a
    /// held unit is indexed at its slot), so every unit of the run allocates. The units evicted,
    /// the run's length oldest held, are indexed at their slots, none of which is one of the
    /// run's (those are empty), so clearing them and filling the run's slots commute, and no
    /// unit of the run is evicted by a later one (the run is no longer than the buffer). Each
    /// unit finds its slot empty, as the one-by-one path would after its eviction, and is
    /// indexed there.
    /// </remarks>
    private bool TryAllocateFresh(long first, int count)
    {
        long[] units = _units;
        long[] directTable = _direct;
        int slot0 = (int)(first & _directMask);
        if (count > units.Length || slot0 + count > directTable.Length)
            return false;
        ref long direct = ref MemoryMarshal.GetArrayDataReference(directTable);
        ref long run = ref Unsafe.Add(ref direct, slot0);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var any = Vector256<long>.Zero;
            for (; i + Vector256<long>.Count <= count; i += Vector256<long>.Count)
                any |= Vector256.LoadUnsafe(ref run, (nuint)i);
            if (any != Vector256<long>.Zero)
                return false;
        }
        for (; i < count; i++)
        {
            if (Unsafe.Add(ref run, i) != 0)
                return false;
        }
        long mask = _directMask;
        int oldest = _oldest;
        int capacity = units.Length;
        ref long held = ref MemoryMarshal.GetArrayDataReference(units);
        long tag = first + 1;
        for (i = 0; i < count; i++, tag++)
        {
            ref long entry = ref Unsafe.Add(ref held, oldest);
            long evicted = entry;
            if (evicted != 0)
                Unsafe.Add(ref direct, (nint)((evicted - 1) & mask)) = 0;
            entry = tag;
            Unsafe.Add(ref run, i) = tag;
            if (++oldest == capacity)
                oldest = 0;
        }
        _oldest = oldest;
        return true;
    }

    /// <summary>
    /// Writes to the <paramref name="count"/> (0 to 64) consecutive media units from
    /// <paramref name="first"/> (not negative), in order: bit i of the result is set if unit
    /// first + i was not held and so allocates. Each allocated unit replaces the unit held longest.
    /// </summary>
    public ulong Allocate(long first, int count)
    {
        long[] units = _units;
        if (units.Length == 0)
            return count == 0 ? 0 : ulong.MaxValue >> (64 - count);
        if (count > 1 && _overflowCount == 0 && TryAllocateFresh(first, count))
            return ulong.MaxValue >> (64 - count);
        ref long direct = ref MemoryMarshal.GetArrayDataReference(_direct);
        long mask = _directMask;
        int oldest = _oldest;
        int overflowCount = _overflowCount;
        ulong allocated = 0;
        for (int i = 0; i < count; i++)
        {
            long unit = first + i;
            long tag = unit + 1;
            ref long slot = ref Unsafe.Add(ref direct, (nint)(unit & mask));
            if (slot == tag || (overflowCount != 0 && _overflow.Contains(tag)))
                continue;
            allocated |= 1UL << i;
            long evicted = units[oldest];
            if (evicted != 0)
            {
                ref long evictedSlot = ref Unsafe.Add(ref direct, (nint)((evicted - 1) & mask));
                if (evictedSlot == evicted)
                    evictedSlot = 0;
                else
                {
                    _overflow.Remove(evicted);
                    overflowCount--;
                }
            }
            // Read after the eviction, which may have freed this very slot.
            if (slot == 0)
                slot = tag;
            else
            {
                _overflow.Add(tag);
                overflowCount++;
            }
            units[oldest] = tag;
            if (++oldest == units.Length)
                oldest = 0;
        }
        _oldest = oldest;
        _overflowCount = overflowCount;
        return allocated;
    }
}
