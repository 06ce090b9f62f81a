using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace DaxStack.Device.Cost;

/// <summary>
/// The write side of one DIMM (or memory channel) in the cost model: the rate at which it takes
/// 64-byte writes in, the write-combining buffer (XPBuffer) that merges writes to the media
/// units (XPLines) it holds, and the media that drains the buffer at the media write bandwidth.
/// </summary>
/// <remarks>
/// <para>Time here is the DIMM's own: the latest arrival it has seen. CPUs keep separate clocks, so a
/// write from a CPU whose clock is behind is handled at the DIMM's time and charged only the
/// waiting the DIMM imposes, not the lag between the clocks. Callers hold the region lock.</para>
/// <para>The model, for each line a CPU writes back (<see cref="WriteBackLine"/> is exactly this):</para>
/// <list type="number">
/// <item>The line leaves the CPU once the write-back the CPU issued a profile's
/// <see cref="CostProfile.WriteBackSlots"/> before it has landed (its slot is free), and arrives
/// at the DIMM the write latency later.</item>
/// <item>If the DIMM's time is ahead of the arrival, the line is handled at the DIMM's time:
/// lag = now - arrival and t = arrival + lag; the DIMM's time becomes t.</item>
/// <item>It waits for the previous line's ingest. If its unit is not in the write-combining
/// buffer it allocates it (a media write) and, when a unit takes media time, queues the unit:
/// it waits for room (the unit queued a buffer's worth of units earlier is on media), and the
/// media, free at max(media free, t), is busy one unit's time more.</item>
/// <item>The DIMM may take the next line in at t + ingest time. The line lands at t - lag on the
/// CPU's clock: that time fills its slot and raises <see cref="CpuCostState.WriteBackDoneAt"/>.</item>
/// <item>The CPU's clock advances the instruction's issue cost and, for a serialising flush,
/// to the landing time.</item>
/// </list>
/// <para><see cref="WriteBackRun"/> takes a whole run of consecutive lines and gives, bit for bit,
/// what the model gives line after line; its remarks say why each shortcut it takes is exact.</para>
/// </remarks>
internal sealed class DimmWriteState
{
    private const int LineShift = 6;
    private const int RingMask = CostProfile.MaxWriteBackSlots - 1;
    // Lines timed together, one bit each of a mask.
    private const int BatchLines = 64;
    // The unit-by-unit regime's conditions hold with this much room (ns) for the rounding of the
    // few additions its argument chains, on times below FastTimeLimit (2^40 ns, about 18 minutes):
    // each rounding there is at most 2^-13 ns.
    private const double FastMargin = 1.0 / 16;
    private const double FastTimeLimit = 1099511627776.0;
    // The largest rounding of one addition below FastTimeLimit, and more: 2^-13 ns.
    private const double RoundingStep = 1.0 / 8192;
    // The unit-by-unit path pays for itself only with lines to spare beyond the last 65, whose
    // ring entries it has to write anyway: a shorter rest is timed line by line.
    private const int UnitsMinLines = 4 * (RingMask + 2);

    private readonly WriteCombiningBuffer _buffer;
    private readonly double[] _drainedAt;     // when each of the last units queued for media is written
    private readonly double _ingestNs;
    private readonly long _ingestExactLimit;  // ExactSum.ExactBitsLimit of _ingestNs
    private readonly int _unitShift;          // log2(64-byte lines per media unit)
    private readonly int _groupShift;         // log2(lines per buffer lookup): a unit's lines, or 1 line without a buffer
    private int _head;
    private double _now = double.NegativeInfinity;
    private double _ingestFreeAt;
    private double _mediaFreeAt;

    public DimmWriteState(CostProfile profile)
    {
        int units = profile.WriteCombiningBytes / profile.MediaGranularity;
        _buffer = new WriteCombiningBuffer(units);
        // With no buffer a write still needs one slot: it is accepted once the previous one is written.
        _drainedAt = new double[Math.Max(units, 1)];
        _ingestNs = profile.DimmWriteIngestNs;
        _ingestExactLimit = ExactSum.ExactBitsLimit(_ingestNs);
        _unitShift = BitOperations.Log2((uint)profile.MediaGranularity) - LineShift;
        _groupShift = units == 0 ? 0 : _unitShift;
    }

    /// <summary>
    /// A power failure: the write-combining buffer and the media queue were drained to the media
    /// (they are in the ADR domain), so the DIMM comes back as it started: empty and idle.
    /// </summary>
    public void PowerCycle()
    {
        _buffer.Clear();
        Array.Clear(_drainedAt);
        _head = 0;
        _now = double.NegativeInfinity;
        _ingestFreeAt = 0;
        _mediaFreeAt = 0;
    }

    /// <summary>
    /// <paramref name="lines"/> consecutive write-backs from the CPU of <paramref name="stream"/>,
    /// of the lines from DIMM offset <paramref name="offset"/> (line-aligned, all on this DIMM), in
    /// order. Returns the number of media units they allocated (the caller counts media bytes and
    /// outstanding write-backs).
    /// </summary>
    /// <remarks>
    /// <para>What the run does differently from the per-line model, none of which changes a bit:</para>
    /// <list type="bullet">
    /// <item>The lines of one unit are consecutive, so the unit is looked up once, for its first
    /// line in the run: the lookups for the others would find it (nothing else enters the buffer
    /// in between), and a lookup that finds its unit changes nothing. Without a buffer every line
    /// allocates, as if each were its own unit.</item>
    /// <item>The run goes in batches of 64 lines, whose lookups are made, in order, before their
    /// timing: lookups touch only the buffer and timing never touches it, so only the lookups'
    /// order among themselves matters.</item>
    /// <item>CPU and DIMM state live in locals while a batch is timed and are stored at its end;
    /// nothing else reads them meanwhile (the region lock is held; a CPU belongs to one thread).</item>
    /// <item>Once a line does not lag, no later line of the stripe does: the DIMM's time becomes that
    /// arrival, and arrivals within a stripe never go back (the clock only moves forward and the
    /// latency is the same). For such lines <c>arrival + 0</c> and <c>t - 0</c>, the identity on
    /// these times (never -0), are left out, and their landing times never decrease (each lands no
    /// earlier than the previous one's ingest ends), so only the last can raise WriteBackDoneAt.</item>
    /// <item>The clock advances by adding the issue cost, as <see cref="SimClock.Advance"/>
    /// does for a positive value; adding +0 leaves a clock of at least +0 unchanged.</item>
    /// <item>The wait for a slot is made even before the CPU's first 'slots' write-backs, which
    /// the model does not wait for: the ring entry read then has never been written and holds
    /// 0, which does not move a clock of at least 0.</item>
    /// <item>The ingest-bound regime is timed unit by unit (TimeUnits). Write L for the write
    /// latency, S for the CPU's slots, G for the DIMM's ingest time and I for the issue cost.
    /// When S*G is at least L and G at least I (each with 1/16 ns to spare), times are below
    /// 2^40 ns and the CPU does not wait for landings, then once S lines of the stripe have not
    /// lagged and the next line's arrival does not decide its landing (it comes no later than the
    /// end of the previous line's ingest), no later line's arrival decides its landing either. The
    /// clock a line leaves at is the larger of the previous one's plus I and the landing S lines
    /// back; landings are at least G apart, so the second is at least (S-1)*G behind the previous
    /// landing, and with L at most S*G its arrival is at most that landing plus G, which is when
    /// ingest frees up; the first grows by I at most G per line, and so never overtakes ingest
    /// either. Each step's rounding is below 2^-13 ns there, far inside the margin. So from then
    /// on each line lands as the previous line's ingest ends (the sum <c>t + G</c>, done again as
    /// an exact multiple within one binade, one by one otherwise), or later if it queues a unit
    /// that waits for room: only those lines, the first of each unit not already buffered, need
    /// visiting, in order, for the media queue. The CPU's clock at the stripe's end is the larger
    /// of its clock at the switch plus I once per line (those sums alone, in order) and the landing
    /// S lines before the last: once the landings pass the clock they stay ahead, since each moves
    /// on by at least G and the sum by I. The ring gets the landings of the last 65 lines (the
    /// most slots a profile has, plus the line whose slot the last one read), the DIMM's time the
    /// last arrival, ingest the last landing plus G: what the lines one by one leave.</item>
    /// <item>A long run whose every lookup allocates (which the buffer tells, and does, in one step
    /// for a run of at least its capacity: <see cref="WriteCombiningBuffer.TryAllocateAll"/>)
    /// makes its lookups all before its timing, and queues a unit at each of them. Once it is
    /// timed unit by unit with the media as the bottleneck, each unit waits for the room the unit
    /// a queue's length before it leaves, and the media's free time grows by a unit's time per
    /// unit, so the units up to the stripe's last 65 lines are timed in one step
    /// (SkipMediaBound, whose comment gives the argument).</item>
    /// </list>
    /// </remarks>
    public long WriteBackRun(ref WriteBackStream stream, long offset, long lines)
    {
        stream.Now = _now;
        stream.IngestFreeAt = _ingestFreeAt;
        stream.Steady = false;
        stream.SteadyLines = 0;
        stream.Fast = false;
        long start = offset >> LineShift;
        long end = start + lines;
        stream.StripeEnd = end;
        long allocated = lines >= UnitsMinLines ? TryTimeAllAllocating(ref stream, start, end) : -1;
        if (allocated < 0)
            allocated = TimeBatches(ref stream, start, end);
        _now = stream.Now;
        _ingestFreeAt = stream.IngestFreeAt;
        return allocated;
    }

    // The lines [start, end) of a stripe in batches of 64: each batch's lookups, then its timing.
    // Returns the units allocated.
    private long TimeBatches(ref WriteBackStream stream, long start, long end)
    {
        long allocated = 0;
        for (long line = start; line < end; line += BatchLines)
        {
            int n = (int)Math.Min(BatchLines, end - line);
            // The lines of this batch that look their unit up: the first line of the run and the
            // first line of every unit (of every line, without a buffer).
            ulong lookups = GroupStarts(line, n);
            if (line == start)
                lookups |= 1;
            ulong queues = lookups;     // without a buffer every line allocates
            if (_buffer.Capacity != 0)
                queues = Deposit(_buffer.Allocate((line + BitOperations.TrailingZeroCount(lookups)) >> _unitShift, BitOperations.PopCount(lookups)), lookups);
            allocated += BitOperations.PopCount(queues);
            // Allocation without media time queues nothing.
            if (stream.UnitNs <= 0)
                queues = 0;
            Time(ref stream, line, line + n, queues);
        }
        return allocated;
    }

    // The groups (units, or lines without a buffer) the lines [start, end) touch: their lookups.
    private long Groups(long start, long end) => ((end - 1) >> _groupShift) - (start >> _groupShift) + 1;

    // If every lookup of the lines [start, end) of a stripe allocates, as the buffer can tell
    // (and do) at once for a run of at least its capacity, or there is no buffer: makes the
    // lookups, times the lines and returns the units allocated. Otherwise returns -1, having
    // changed nothing. The timing is the loop of WriteBackRun without the lookups, skipping a
    // media-bound stretch once it is timed unit by unit (SkipMediaBound). Kept out of
    // WriteBackRun so that the path of short runs stays as small as it was.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private long TryTimeAllAllocating(ref WriteBackStream stream, long start, long end)
    {
        long groups = Groups(start, end);
        if (_buffer.Capacity != 0 && !_buffer.TryAllocateAll(start >> _unitShift, groups))
            return -1;
        for (long line = start; line < end;)
        {
            int n = (int)Math.Min(BatchLines, end - line);
            ulong queues = GroupStarts(line, n);
            if (line == start)
                queues |= 1;
            if (stream.UnitNs <= 0)
                queues = 0;
            Time(ref stream, line, line + n, queues);
            line += n;
            if (stream.Fast && line < end && stream.UnitNs > 0)
                line = SkipMediaBound(ref stream, start, line);
        }
        return groups;
    }

    // Bit i set where line + i (i below n) is the first line of a group.
    private ulong GroupStarts(long line, int n)
    {
        ulong inBatch = ulong.MaxValue >> (BatchLines - n);
        if (_groupShift == 0)
            return inBatch;
        int size = 1 << _groupShift;
        ulong pattern = size >= BatchLines ? 1UL : PeriodicBits[_groupShift];
        int phase = (int)(-line & (size - 1));      // lines until the next group starts
        return phase >= n ? 0 : (pattern << phase) & inBatch;
    }

    // Bits of 'value', low to high, placed at the set bits of 'mask' (the x86 pdep instruction).
    private static ulong Deposit(ulong value, ulong mask)
    {
        if (Bmi2.X64.IsSupported)
            return Bmi2.X64.ParallelBitDeposit(value, mask);
        ulong result = 0;
        for (; mask != 0; mask &= mask - 1, value >>= 1)
            if ((value & 1) != 0)
                result |= mask & (~mask + 1);
        return result;
    }

    // For groups of 2^k lines (k from 1 to 5): one bit every 2^k, from bit 0 (k = 0, a group per
    // line, is every bit).
    private static readonly ulong[] PeriodicBits =
        [ulong.MaxValue, 0x5555_5555_5555_5555, 0x1111_1111_1111_1111, 0x0101_0101_0101_0101, 0x0001_0001_0001_0001, 0x0000_0001_0000_0001];

    /// <summary>
    /// One write-back from <paramref name="cpu"/>, of the line at DIMM offset
    /// <paramref name="offset"/>, as the model in this class's remarks states it: it leaves once
    /// one of the CPU's <paramref name="slots"/> is free and arrives <paramref name="latencyNs"/>
    /// later, a unit it queues takes <paramref name="unitNs"/> of media time, and the clock
    /// advances <paramref name="issueNs"/> and, if <paramref name="serialising"/>, to its landing.
    /// The path of a single flush instruction or a store of at most a line. Returns whether its
    /// unit allocated.
    /// </summary>
    public bool WriteBackLine(CpuCostState cpu, int slots, long offset,
        double latencyNs, double unitNs, double issueNs, bool serialising)
    {
        bool allocated = _buffer.Allocate(offset >> LineShift >> _unitShift);
        double[] ring = cpu.SlotFreeAt;
        long issued = cpu.WriteBacksIssued;
        double clock = cpu.Clock.Nanoseconds;
        // The slot of the write-back issued 'slots' before this one. Before the CPU's first
        // 'slots' write-backs that entry has never been written: its 0 does not move the clock.
        double free = ring[(int)(issued - slots) & RingMask];
        if (free > clock)
            clock = free;
        double arrival = clock + latencyNs;
        double lag = 0;
        double t = arrival;
        if (_now > arrival)
        {
            lag = _now - arrival;
            t = arrival + lag;
        }
        _now = t;
        if (_ingestFreeAt > t)
            t = _ingestFreeAt;
        if (allocated && unitNs > 0)
            t = QueueUnit(t, _drainedAt, ref _head, ref _mediaFreeAt, unitNs);
        _ingestFreeAt = t + _ingestNs;
        double done = t - lag;
        ring[(int)issued & RingMask] = done;
        cpu.WriteBacksIssued = issued + 1;
        if (done > cpu.WriteBackDoneAt)
            cpu.WriteBackDoneAt = done;
        clock += issueNs;
        if (serialising && done > clock)
            clock = done;
        cpu.Clock.AdvanceTo(clock);
        return allocated;
    }

    // The timing of lines [line, end) (at most 64), where bit i of 'queues' is set if line + i
    // queues its unit for the media: line by line until the stripe settles into the ingest-bound
    // regime, unit by unit from then on.
    private void Time(ref WriteBackStream run, long line, long end, ulong queues)
    {
        if (!run.Fast)
        {
            long stop = TimeLines(ref run, line, end, queues);
            if (stop == end)
                return;
            queues >>= (int)(stop - line);
            line = stop;
        }
        TimeUnits(ref run, line, end, queues);
    }

    // The model line by line for lines [line, end): lines that lag or wait for their landing the
    // general way, the others (almost all) on a shorter path. Returns the line it stopped before:
    // 'end', or earlier when the rest of the stripe can be timed unit by unit (run.Fast is then
    // set). Kept apart, without calls, so its state stays in registers. Comparisons are branches
    // rather than max: a predicted branch does not wait for the operand it drops, which shortens
    // the chains of dependent additions from line to line.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private long TimeLines(ref WriteBackStream run, long line, long end, ulong queues)
    {
        ref double ring = ref MemoryMarshal.GetArrayDataReference(run.SlotFreeAt);
        double clock = run.Clock, doneAt = run.DoneAt, now = run.Now, ingestFreeAt = run.IngestFreeAt;
        long issued = run.Issued;
        int slots = run.Slots;
        double latencyNs = run.LatencyNs, issueNs = run.IssueNs, unitNs = run.UnitNs, ingestNs = _ingestNs;
        bool serialising = run.Serialising;
        bool steady = run.Steady;
        double[] drainedAt = _drainedAt;
        int head = _head;
        double mediaFreeAt = _mediaFreeAt;
        double lastLanding = 0;     // of the lines that did not lag
        for (; !steady && line < end; line++, queues >>= 1)
        {
            // Wait for the slot of the write-back issued 'slots' before this one.
            double free = Unsafe.Add(ref ring, (int)(issued - slots) & RingMask);
            if (free > clock)
                clock = free;
            double arrival = clock + latencyNs;
            double lag = 0;
            double t = arrival;
            if (now > arrival)
            {
                lag = now - arrival;
                t = arrival + lag;
            }
            now = t;
            if (ingestFreeAt > t)
                t = ingestFreeAt;
            if ((queues & 1) != 0)
                t = QueueUnit(t, drainedAt, ref head, ref mediaFreeAt, unitNs);
            ingestFreeAt = t + ingestNs;
            double done = t;
            if (lag != 0)
            {
                done = t - lag;
                doneAt = done > doneAt ? done : doneAt;
            }
            else
                lastLanding = t;
            Unsafe.Add(ref ring, (int)issued & RingMask) = done;
            issued++;
            clock += issueNs;
            if (serialising && done > clock)
                clock = done;
            steady = lag == 0 && !serialising;
        }
        bool fast = false;
        double anchorT = 0;
        if (line < end)
        {
            // The same steps for lines that cannot lag and that the CPU does not wait for.
            uint read = (uint)(issued - slots), write = (uint)issued;
            long first = line;
            // Whether the ingest-bound regime can hold here (TimeUnits): the rest of the stripe
            // is then timed unit by unit from a line that has 'slots' steady lines behind it and
            // whose arrival does not decide its landing. checkFrom is the next line to try, if
            // enough of the stripe is left after it to pay for the switch.
            bool unitsMayHold = !serialising && ingestFreeAt < FastTimeLimit
                && slots * ingestNs >= latencyNs + FastMargin && ingestNs >= issueNs + FastMargin;
            long checkUntil = run.StripeEnd - UnitsMinLines;
            long checkFrom = line + Math.Max(0, slots - run.SteadyLines);
            if (!unitsMayHold || checkFrom >= checkUntil)
                checkFrom = long.MaxValue;
            double arrival = now, t = lastLanding;
            while (true)
            {
                long stop = checkFrom < end ? checkFrom : end;
                for (; line < stop; line++, queues >>= 1)
                {
                    double free = Unsafe.Add(ref ring, read++ & RingMask);
                    if (free > clock)
                        clock = free;
                    arrival = clock + latencyNs;
                    t = arrival;
                    if (ingestFreeAt > t)
                        t = ingestFreeAt;
                    if ((queues & 1) != 0)
                        t = QueueUnit(t, drainedAt, ref head, ref mediaFreeAt, unitNs);
                    ingestFreeAt = t + ingestNs;
                    Unsafe.Add(ref ring, write++ & RingMask) = t;
                    clock += issueNs;
                }
                if (line == end)
                    break;
                // The line the switch may come at: its arrival, after its wait for a slot.
                double leave = Unsafe.Add(ref ring, read & RingMask);
                if (leave < clock)
                    leave = clock;
                if (leave + latencyNs <= ingestFreeAt)
                {
                    // Steady lines land where they are written to the ring: the previous one's
                    // landing, which may come from an earlier batch, anchors the rest.
                    fast = true;
                    anchorT = Unsafe.Add(ref ring, (write - 1) & RingMask);
                    break;
                }
                checkFrom = line + BatchLines < checkUntil ? line + BatchLines : long.MaxValue;
            }
            run.SteadyLines = (int)Math.Min(int.MaxValue, run.SteadyLines + (line - first));
            issued += line - first;
            now = arrival;
            lastLanding = t;
        }
        _head = head;
        _mediaFreeAt = mediaFreeAt;
        run.Clock = clock;
        run.DoneAt = lastLanding > doneAt ? lastLanding : doneAt;
        run.Now = now;
        run.IngestFreeAt = ingestFreeAt;
        run.Issued = issued;
        run.Steady = steady;
        if (fast)
        {
            run.Fast = true;
            run.FastLine0 = line;
            run.FastIssued0 = issued;
            run.FastClock0 = clock;
            run.AnchorLine = line - 1;
            run.AnchorT = anchorT;
        }
        return line;
    }

    // The ingest-bound regime, unit by unit, for lines [line, end) of a stripe that TimeLines
    // handed over (see the class's remarks for why it is exact). Only the lines that queue a unit
    // are visited; the others land an ingest time after the line before. The slot ring gets the
    // landings of the stripe's last 65 lines (RingMask + 2), and at the stripe's end the clock, the
    // DIMM's time and ingest are set as the model line by line would have left them.
    private void TimeUnits(ref WriteBackStream run, long line, long end, ulong queues)
    {
        double ingestNs = _ingestNs, unitNs = run.UnitNs;
        double[] drainedAt = _drainedAt;
        int head = _head;
        double mediaFreeAt = _mediaFreeAt;
        long anchorLine = run.AnchorLine;
        double anchorT = run.AnchorT;
        long window = run.StripeEnd - (RingMask + 2);
        long exactLimit = _ingestExactLimit;
        // The lines up to the window need no ring entries: a loop without calls, so that its
        // times stay in registers (every vector register is caller-saved).
        long below = window - line + 1;
        ulong bulk = below <= 0 ? 0 : below >= BatchLines ? queues : queues & ((1UL << (int)below) - 1);
        queues &= ~bulk;
        for (; bulk != 0; bulk &= bulk - 1)
        {
            long q = line + BitOperations.TrailingZeroCount(bulk);
            double t = anchorT + (q - anchorLine) * ingestNs;
            if (!ExactSum.IsExactInBinade(anchorT, t, exactLimit))
            {
                t = anchorT;
                for (long k = q - anchorLine; k > 0; k--)
                    t += ingestNs;
            }
            anchorT = QueueUnit(t, drainedAt, ref head, ref mediaFreeAt, unitNs);
            anchorLine = q;
        }
        for (; queues != 0; queues &= queues - 1)
        {
            long q = line + BitOperations.TrailingZeroCount(queues);
            FillRing(ref run, anchorLine, anchorT, q);
            double t = anchorT + (q - anchorLine) * ingestNs;
            if (!ExactSum.IsExactInBinade(anchorT, t, exactLimit))
                t = AddOneByOne(anchorT, ingestNs, q - anchorLine);
            anchorT = QueueUnit(t, drainedAt, ref head, ref mediaFreeAt, unitNs);
            anchorLine = q;
        }
        _head = head;
        _mediaFreeAt = mediaFreeAt;
        run.AnchorLine = anchorLine;
        run.AnchorT = anchorT;
        if (end != run.StripeEnd)
            return;

        // The stripe's last line: its landing, and the slot it waited for (read before the ring
        // entries of the last lines are written, one of which may share its ring position).
        long last = end - 1;
        double lastT = ExactSum.AddRepeated(anchorT, ingestNs, last - anchorLine);
        long lastIssued = run.FastIssued0 + (last - run.FastLine0);
        long slotLine = last - run.Slots;
        double slotFree = slotLine >= anchorLine
            ? ExactSum.AddRepeated(anchorT, ingestNs, slotLine - anchorLine)
            : run.SlotFreeAt[(int)(lastIssued - run.Slots) & RingMask];
        FillRing(ref run, anchorLine, anchorT, end);
        double pure = ExactSum.AddRepeated(run.FastClock0, run.IssueNs, last - run.FastLine0);
        double clock = pure > slotFree ? pure : slotFree;
        run.Now = clock + run.LatencyNs;
        run.Clock = clock + run.IssueNs;
        run.IngestFreeAt = lastT + ingestNs;
        if (lastT > run.DoneAt)
            run.DoneAt = lastT;
        run.Issued = lastIssued + 1;
        run.Fast = false;
    }

    // Lines [from, ...) of a stripe timed unit by unit (TimeUnits) in which every group start
    // queues its unit (every lookup allocated, or there is no buffer): if the media is the
    // bottleneck, times the units whose first line is at most the start of the stripe's last 65
    // lines in one step and returns the line after the last of them; otherwise returns 'from'.
    //
    // Why it is exact. Write L for the entries of the media queue (the buffer's units, at least 1),
    // D for the lines of a unit (1 without a buffer), G for ingest, U for a unit's media time,
    // m(k) for when the media has written unit k (m(k) = max(m(k-1), t(k)) + U, rounded) and t(k)
    // for unit k's landing: the larger of its landing without the wait, the D additions of G to
    // t(k-1), and the room it waits for, m(k-L). A unit is media-bound when the room decides,
    // t(k) = m(k-L); then m(k) = m(k-1) + U, since m never decreases. Every unit queued in the
    // stripe leaves m(k) at least m(k-1) + U less half a rounding step. So if unit k-1 is
    // media-bound and unit k-L was queued in this stripe, t(k) without the wait is m(k-1-L) plus
    // D*G, give or take D rounding steps, which D*(G + 2^-13) + 1/16 <= U and times below 2^40 ns
    // (steps at most 2^-13 ns) keep at most m(k-L): unit k is media-bound as well. The first
    // unit is checked as TimeUnits would time it, after at least L units of the stripe; from
    // there on, unit after unit waits for room, the media free time grows by U each
    // (ExactSum.AddRepeated gives the sum bit for bit), each landing is the media time L units
    // back, and the queue is left holding the last L.
    private long SkipMediaBound(ref WriteBackStream run, long start, long from)
    {
        double[] drainedAt = _drainedAt;
        int queue = drainedAt.Length;
        int groupShift = _groupShift;
        long groupLines = 1L << groupShift;
        double unitNs = run.UnitNs, ingestNs = _ingestNs;
        long first = (from + groupLines - 1) & -groupLines;
        long last = (run.StripeEnd - (RingMask + 2)) & -groupLines;
        long units = last >= first ? ((last - first) >> groupShift) + 1 : 0;
        // Too short to pay for rewriting the queue, or the media does not set the pace.
        if (units < queue || groupLines * (ingestNs + RoundingStep) + FastMargin > unitNs)
            return from;
        long anchorLine = run.AnchorLine;
        double anchorT = run.AnchorT;
        if ((anchorLine >> groupShift) - (start >> groupShift) + 1 < queue)
            return from;
        double mediaFreeAt = _mediaFreeAt;
        if (!(mediaFreeAt + (units + 2) * unitNs < FastTimeLimit))
            return from;
        double t = anchorT + (first - anchorLine) * ingestNs;
        if (!ExactSum.IsExactInBinade(anchorT, t, _ingestExactLimit))
            t = AddOneByOne(anchorT, ingestNs, first - anchorLine);
        int head = _head;
        if (t > drainedAt[head])
            return from;
        // The media's free time after all but the last L units, which is the last one's landing.
        double free = ExactSum.AddRepeated(mediaFreeAt, unitNs, units - queue);
        int entry = (int)((head + (units - queue)) % queue);
        double drained = free;
        for (int i = 0; i < queue; i++)
        {
            drained += unitNs;
            drainedAt[entry] = drained;
            if (++entry == queue)
                entry = 0;
        }
        _mediaFreeAt = drained;
        _head = entry;
        run.AnchorLine = last;
        run.AnchorT = free;
        return last + 1;
    }

    // A line that lands no earlier than 't' queues its unit: it waits for room (the unit queued
    // a buffer's worth of units ago is on media), and the media writes the unit after those
    // queued before it. Returns the line's landing. The one media-queue step of every path.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double QueueUnit(double t, double[] drainedAt, ref int head, ref double mediaFreeAt, double unitNs)
    {
        double room = drainedAt[head];
        if (room > t)
            t = room;
        mediaFreeAt = (mediaFreeAt > t ? mediaFreeAt : t) + unitNs;
        drainedAt[head] = mediaFreeAt;
        if (++head == drainedAt.Length)
            head = 0;
        return t;
    }

    // Writes the slot-ring entries of the lines [from, to) of the unit-by-unit section that are
    // among the stripe's last 65 (RingMask + 2): line 'from' lands at 'fromT', each later one an
    // ingest time after the one before (no line between them queues a unit).
    private void FillRing(ref WriteBackStream run, long from, double fromT, long to)
    {
        long first = Math.Max(from, run.StripeEnd - (RingMask + 2));
        if (first >= to)
            return;
        double ingestNs = _ingestNs;
        long m0 = first - from, count = to - first;
        long issued = run.FastIssued0 + (first - run.FastLine0);
        double[] ring = run.SlotFreeAt;
        long mLast = m0 + count - 1;
        if (ExactSum.IsExactInBinade(fromT, fromT + mLast * ingestNs, _ingestExactLimit))
        {
            for (long k = 0; k < count; k++)
                ring[(int)(issued + k) & RingMask] = fromT + (m0 + k) * ingestNs;
            return;
        }
        // A power of two crossed: the additions one by one.
        double t = AddOneByOne(fromT, ingestNs, m0);
        for (long k = 0; k < count; k++, t += ingestNs)
            ring[(int)(issued + k) & RingMask] = t;
    }

    private static double AddOneByOne(double x, double c, long count)
    {
        for (long i = 0; i < count; i++)
            x += c;
        return x;
    }
}
