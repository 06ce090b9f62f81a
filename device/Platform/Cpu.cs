using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using DaxStack.Device.Cost;
using DaxStack.Device.Persistence;
using DaxStack.Device.Poison;

namespace DaxStack.Device.Platform;

/// <summary>
/// One emulated CPU: executes loads, stores, non-temporal stores, cache-line write-backs
/// (clflush, clflushopt, clwb) and fences on physical addresses, through the persistence
/// model and the cost model of the region addressed. Each CPU has its own modeled clock and
/// counters, and its own outstanding write-backs: a fence completes only this CPU's.
/// </summary>
/// <remarks>
/// A CPU is meant to be used by one thread at a time (see <see cref="PhysicalAddressSpace.CurrentCpu"/>).
/// An instruction racing with the dispose of its region either completes before the dispose
/// releases the media or throws <see cref="ObjectDisposedException"/> without touching it: it
/// checks the region on entry, and the region's lock, closed by the dispose, refuses it after.
/// Lock order: a CPU holds at most one region lock at a time. A region's lock is biased towards
/// the first CPU that executes on it (see RegionLock), which relies on a CPU never being used by
/// two threads at once.
/// <para>A CPU made with <see cref="PhysicalAddressSpace.CreateCpu"/> can be taken out of the
/// platform for good (<see cref="PhysicalAddressSpace.RetireCpu"/>, CPU hot-unplug): every
/// instruction on it afterwards throws <see cref="ObjectDisposedException"/>, and its clock and
/// counters keep what they held when it left.</para>
/// </remarks>
public sealed unsafe class Cpu
{
    /// <summary>Cache line size in bytes.</summary>
    public const int LineSize = 64;

    /// <summary>
    /// Write-back runs a CPU keeps outstanding per region before the oldest half completes on
    /// its own (a real CPU's outstanding write-backs are bounded by its fill buffers and the
    /// memory controller's queue).
    /// </summary>
    public const int MaxPendingRuns = 4096;

    private readonly PhysicalAddressSpace _space;
    private PendingRun[][] _pending = [];  // per region id: runs of lines this CPU wrote back, with the store sequence they cover
    private int[] _pendingCount = [];      // per region id: how many of _pending's runs are in use; s_retiredCounts once retired
    private long[] _outstanding = [];      // per region id: the write-backs since the last fence that went to that region
    private NvdimmRegion? _lastRegion;

    // What _pendingCount holds once the CPU is retired (see Retire): a single negative count. A
    // fence's loop over the counts takes it for a region with write-backs to complete, and its
    // test for those finds it instead, so a fence pays no check of its own for retirement. Shared
    // and never written: ForgetOutstanding clears positive counts only, and nothing that adds a
    // write-back is reached by a retired CPU (Region refuses it first).
    private static readonly int[] s_retiredCounts = [-1];

    private struct PendingRun
    {
        public long Line;
        public long Lines;
        public long Covered;
    }

    internal Cpu(PhysicalAddressSpace space, long id, bool threadCpu)
    {
        _space = space;
        Id = id;
        IsThreadCpu = threadCpu;
    }

    /// <summary>
    /// CPU number: 0 for the first CPU of the address space, then counting up. An address space
    /// never gives the same number to two CPUs (region locks are biased to a CPU by its number).
    /// </summary>
    public long Id { get; }

    // The address space the CPU belongs to (PhysicalAddressSpace.CurrentCpu checks its cache with it).
    internal PhysicalAddressSpace Space => _space;

    // Whether the CPU is a thread's (PhysicalAddressSpace.CurrentCpu), which cannot be retired.
    internal bool IsThreadCpu { get; }

    /// <summary>Whether the CPU has been retired (<see cref="PhysicalAddressSpace.RetireCpu"/>): it executes no more instructions.</summary>
    public bool IsRetired => ReferenceEquals(Volatile.Read(ref _pendingCount), s_retiredCounts);

    /// <summary>Modeled time charged to this CPU.</summary>
    public SimClock Clock => CostState.Clock;

    /// <summary>The cost model's per-CPU state.</summary>
    public CpuCostState CostState { get; } = new();

    /// <summary>Instruction and byte counts of this CPU.</summary>
    public CpuStats Stats { get; } = new();

    // ------------------------------------------------------------------ loads

    /// <summary>Loads <paramref name="destination"/>.Length bytes. Throws <see cref="MachineCheckException"/> on poison.</summary>
    public void Load(long physicalAddress, Span<byte> destination)
    {
        var r = Region(physicalAddress, destination.Length);
        long off = physicalAddress - r.BaseAddress;
        ThrowIfPoisoned(r, off, destination.Length);
        bool owner = r.Lock.Enter(Id);
        long hits;
        try
        {
            new ReadOnlySpan<byte>(r.MediaBase + off, destination.Length).CopyTo(destination);
            hits = r.Cost.Load(CostState, off, destination.Length);
        }
        finally
        {
            r.Lock.Exit(owner);
        }
        // An empty operation moves nothing and is no instruction (as LoadTo, NtStoreFrom and Flush count).
        if (destination.Length != 0)
            CountLoad(off, destination.Length, hits);
    }

    /// <summary>
    /// Loads up to <paramref name="length"/> bytes at <paramref name="physicalAddress"/> straight
    /// into <paramref name="sink"/> (no copy into a buffer): the bytes the sink takes are loaded,
    /// with the modeled cost and counters of <see cref="Load"/> of them; the load ends where the
    /// sink stops taking. Throws <see cref="MachineCheckException"/> on poison anywhere in the
    /// range, before the sink sees any byte.
    /// </summary>
    /// <returns>How many bytes the sink took, from <paramref name="physicalAddress"/> on.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A negative length.</exception>
    /// <exception cref="InvalidOperationException">The sink reported taking more bytes than it was offered.</exception>
    /// <exception cref="LockRecursionException">The sink executed an instruction on the same region (see <see cref="ILoadSink"/>); it propagates as any exception of the sink does.</exception>
    /// <remarks>The kernel's <c>copy_mc_to_iter</c> from a DAX mapping.</remarks>
    public int LoadTo(long physicalAddress, int length, ILoadSink sink)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentNullException.ThrowIfNull(sink);
        if (length == 0)
            return 0;
        var r = Region(physicalAddress, length);
        long off = physicalAddress - r.BaseAddress;
        ThrowIfPoisoned(r, off, length);
        int taken = 0;
        bool owner = r.Lock.Enter(Id);
        try
        {
            r.Lock.BeginCallout();
            try
            {
                // A count out of range is refused, and charged as nothing, like a sink that throws.
                int n = sink.CopyFrom(new ReadOnlySpan<byte>(r.MediaBase + off, length));
                if ((uint)n > (uint)length)
                    throw new InvalidOperationException($"the load sink reported taking {n} of {length} bytes");
                taken = n;
            }
            finally
            {
                r.Lock.EndCallout();
                if (taken > 0)
                    CountLoad(off, taken, r.Cost.Load(CostState, off, taken));
            }
        }
        finally
        {
            r.Lock.Exit(owner);
        }
        return taken;
    }

    /// <summary>Loads a little-endian 64-bit value.</summary>
    public ulong LoadUInt64(long physicalAddress)
    {
        Span<byte> b = stackalloc byte[8];
        Load(physicalAddress, b);
        return BinaryPrimitives.ReadUInt64LittleEndian(b);
    }

    // ------------------------------------------------------------------ stores

    /// <summary>A store through the cache: visible at once, persistent only once written back and fenced (ADR).</summary>
    public void Store(long physicalAddress, ReadOnlySpan<byte> source)
    {
        var r = Region(physicalAddress, source.Length);
        long off = physicalAddress - r.BaseAddress;
        bool owner = r.Lock.Enter(Id);
        try
        {
            fixed (byte* src = source)
            {
                // An empty store touches no line: nothing for the tracker to record.
                if (r.IsAdr && source.Length != 0)
                    r.Tracker.Store(off, src, source.Length);
                else
                    Buffer.MemoryCopy(src, r.MediaBase + off, source.Length, source.Length);
            }
            r.Cost.Store(CostState, off, source.Length);
        }
        finally
        {
            r.Lock.Exit(owner);
        }
        if (source.Length != 0)
        {
            Stats.Stores++;
            Stats.BytesStored += source.Length;
        }
    }

    /// <summary>Stores a little-endian 64-bit value (8-byte aligned stores never tear).</summary>
    public void StoreUInt64(long physicalAddress, ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        Store(physicalAddress, b);
    }

    /// <summary>
    /// Non-temporal stores (movnt): bypass the cache (evicting the lines) and are persistent
    /// after this CPU's next fence. The kernel's <c>memcpy_flushcache</c>.
    /// </summary>
    public void NtStore(long physicalAddress, ReadOnlySpan<byte> source)
    {
        var r = Region(physicalAddress, source.Length);
        long off = physicalAddress - r.BaseAddress;
        bool owner = r.Lock.Enter(Id);
        try
        {
            fixed (byte* src = source)
            {
                if (r.IsAdr && source.Length != 0)
                {
                    // Only lines the store touches are written back: an empty one names none.
                    r.Tracker.Store(off, src, source.Length);
                    IssueNtWriteBacks(r, off, source.Length);
                }
                else
                    Buffer.MemoryCopy(src, r.MediaBase + off, source.Length, source.Length);
            }
            long outstanding = CostState.OutstandingWriteBacks;
            r.Cost.NtStore(CostState, off, source.Length);
            CountOutstanding(r, outstanding);
        }
        finally
        {
            r.Lock.Exit(owner);
        }
        if (source.Length != 0)
        {
            Stats.NtStores++;
            Stats.BytesNtStored += source.Length;
        }
    }

    /// <summary>
    /// Non-temporal stores of <paramref name="length"/> bytes at <paramref name="physicalAddress"/>
    /// whose data <paramref name="source"/> writes straight into the memory (no copy from a buffer):
    /// the same persistence and modeled cost as <see cref="NtStore"/> of those bytes. The range is
    /// handed to the source up to <see cref="StoreFromChunk"/> bytes at a time (each chunk but the
    /// last ending on a cache-line boundary), each chunk recorded as
    /// stored (its old content kept for a crash) just before the source writes it; the store ends
    /// at the first chunk the source fills only in part. The unfilled rest of that chunk keeps its
    /// old bytes and counts as stored with them (a store of the same bytes), so every byte of the
    /// chunks handed out has been stored, whatever the source did.
    /// </summary>
    /// <returns>How many bytes the source produced, from <paramref name="physicalAddress"/> on.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A negative length.</exception>
    /// <exception cref="InvalidOperationException">The source reported more bytes than it was given room for.</exception>
    /// <exception cref="LockRecursionException">The source executed an instruction on the same region (see <see cref="IStoreSource"/>); it propagates as any exception of the source does.</exception>
    /// <remarks>The kernel's <c>_copy_from_iter_flushcache</c> (memcpy_flushcache from an iov_iter).</remarks>
    public int NtStoreFrom(long physicalAddress, int length, IStoreSource source)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentNullException.ThrowIfNull(source);
        if (length == 0)
            return 0;
        var r = Region(physicalAddress, length);
        long off = physicalAddress - r.BaseAddress;
        int produced = 0, handed = 0;
        // The clean pages of a chunk whose old content is still to be saved (at most every page of it).
        Span<DeferredSave> pages = stackalloc DeferredSave[StoreFromChunk >> 12];
        try
        {
            while (produced < length)
            {
                long at = off + produced;
                // Chunks end on line boundaries (or at the end of the store): a chunk boundary
                // inside a line would record that line's part of the store as two stores, and
                // a crash could then tear an 8-byte word an NtStore of the bytes keeps whole.
                int chunk = Math.Min(length - produced, StoreFromChunk - (int)(at & (LineSize - 1)));
                int n = StoreChunkFrom(r, at, chunk, source, pages);
                handed = produced + chunk;
                // A count out of range is refused; the chunk is stored all the same (see above).
                if ((uint)n > (uint)chunk)
                    throw new InvalidOperationException($"the store source reported {n} bytes written into room for {chunk}");
                produced += n;
                if (n < chunk)
                    break;
            }
        }
        finally
        {
            if (handed > 0)
            {
                Stats.NtStores++;
                Stats.BytesNtStored += handed;
            }
        }
        return produced;
    }

    // One chunk of NtStoreFrom, in three steps, so that the copies (the chunk's old content saved
    // for a crash, then its new data from the source) run outside the region's lock and other
    // CPUs' stores of this kind into other pages run at the same time:
    //  1. Under the lock, once no store in progress overlaps the chunk's pages: the tracker records
    //     the chunk as stored (the old content of lines it cannot leave for later is saved here),
    //     holding the slots of the clean pages it covers in full; the chunk is in progress.
    //  2. Outside it: those pages' old content is saved, then the source writes the new data.
    //  3. Under the lock again: the chunk is no longer in progress; its write-backs are issued and
    //     its cost charged, whatever the source did.
    // While the chunk is in progress every other entry to the region waits (RegionLock), so no one
    // sees its pages between the record and the copy: to the rest of the machine the chunk is
    // stored at one instant, as when the lock was held throughout.
    private int StoreChunkFrom(NvdimmRegion r, long at, int chunk, IStoreSource source, Span<DeferredSave> pages)
    {
        long start = at & ~(long)(PageSize - 1), end = (at + chunk + PageSize - 1) & ~(long)(PageSize - 1);
        int deferred = 0, ticket;
        bool owner = r.Lock.EnterToBeginStore(Id, start, end);
        try
        {
            if (r.IsAdr)
                r.Tracker.RecordDeferred(at, chunk, pages, out deferred);
            ticket = r.Lock.BeginStore(start, end);
        }
        finally
        {
            r.Lock.Exit(owner);
        }
        try
        {
            if (deferred > 0)
                LineTracker.SaveDeferred(pages[..deferred], chunk);
            return source.CopyTo(new Span<byte>(r.MediaBase + at, chunk));
        }
        finally
        {
            owner = r.Lock.EnterToEndStore(Id);
            try
            {
                if (deferred > 0)
                    r.Tracker.EndDeferred(pages[..deferred]);
                r.Lock.EndStore(ticket);
                if (r.IsAdr)
                    IssueNtWriteBacks(r, at, chunk);
                long outstanding = CostState.OutstandingWriteBacks;
                r.Cost.NtStore(CostState, at, chunk);
                CountOutstanding(r, outstanding);
            }
            finally
            {
                r.Lock.Exit(owner);
            }
        }
    }

    private const int PageSize = 4096;

    /// <summary>The most bytes <see cref="NtStoreFrom"/> hands its source at a time (256 KiB: the old content it saves stays in the cache).</summary>
    public const int StoreFromChunk = 256 << 10;

    /// <summary>
    /// Non-temporal copy followed by a fence, fused (libpmem's <c>pmem_memcpy_persist</c>):
    /// on return every byte is persistent, and so is every write-back this CPU had outstanding.
    /// Equivalent to <see cref="NtStore"/> then <see cref="Sfence"/>, without the per-line
    /// bookkeeping of the intermediate state (no crash can fall between them).
    /// </summary>
    public void Persist(long physicalAddress, ReadOnlySpan<byte> source)
    {
        var r = Region(physicalAddress, source.Length);
        long off = physicalAddress - r.BaseAddress;
        bool owner = r.Lock.Enter(Id);
        try
        {
            if (r.IsAdr && source.Length != 0)
                r.Tracker.PersistRange(off, source.Length);
            fixed (byte* src = source)
                Buffer.MemoryCopy(src, r.MediaBase + off, source.Length, source.Length);
            long outstanding = CostState.OutstandingWriteBacks;
            r.Cost.NtStore(CostState, off, source.Length);
            CountOutstanding(r, outstanding);
        }
        finally
        {
            r.Lock.Exit(owner);
        }
        if (source.Length != 0)
        {
            Stats.NtStores++;
            Stats.BytesNtStored += source.Length;
        }
        Sfence();
    }

    // ------------------------------------------------------------------ write-backs

    /// <summary>clwb of the line containing <paramref name="physicalAddress"/>: write back, keep cached; persistent after a fence.</summary>
    public void Clwb(long physicalAddress) => FlushLine(FlushKind.Clwb, physicalAddress);

    /// <summary>clflushopt of the line: write back and evict; persistent after a fence.</summary>
    public void Clflushopt(long physicalAddress) => FlushLine(FlushKind.Clflushopt, physicalAddress);

    /// <summary>clflush of the line: serialising write-back and evict; persistent when it retires.</summary>
    public void Clflush(long physicalAddress) => FlushLine(FlushKind.Clflush, physicalAddress);

    /// <summary>Executes <paramref name="kind"/> on every line touched by [<paramref name="physicalAddress"/>, +<paramref name="length"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative length, or a range not inside one region.</exception>
    public void Flush(FlushKind kind, long physicalAddress, long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (length == 0)
            return;
        // A range whose end overflows is past every region; FlushLines rejects any other that is
        // not inside one.
        if (physicalAddress < 0 || length > long.MaxValue - LineSize - physicalAddress)
            throw new ArgumentOutOfRangeException(nameof(length), $"[0x{physicalAddress:x}, +{length}) is not backed by any NVDIMM region");
        long first = physicalAddress & ~(long)(LineSize - 1);
        // A range inside one line (a 64-byte persist through a DAX window) is that line's
        // instruction: the same charge and counts, without the range loop.
        if (length <= LineSize - (physicalAddress - first))
        {
            FlushLine(kind, first);
            return;
        }
        long lines = (physicalAddress + length - first + LineSize - 1) / LineSize;
        FlushLines(kind, first, lines);
    }

    // One line's clflush/clflushopt/clwb: what FlushLines does for a single line (see there), kept
    // apart so that the single-line instructions run no range loop.
    private void FlushLine(FlushKind kind, long physicalAddress)
    {
        long first = physicalAddress & ~(long)(LineSize - 1);
        var r = Region(first, LineSize);
        long off = first - r.BaseAddress;
        bool owner = r.Lock.Enter(Id);
        try
        {
            bool writesBack = false;
            if (r.IsAdr)
            {
                if (kind == FlushKind.Clflush)
                    r.Tracker.PersistNow(off, out writesBack);
                else
                {
                    long covered = r.Tracker.IssueWriteBack(off, out writesBack);
                    if (covered != 0)
                        AddPending(r.Id, off, 1, covered);
                }
            }
            long outstanding = CostState.OutstandingWriteBacks;
            r.Cost.Flush(CostState, kind, off, 1, writesBack);
            CountOutstanding(r, outstanding);
        }
        finally
        {
            r.Lock.Exit(owner);
        }
        switch (kind)
        {
            case FlushKind.Clflush: Stats.Clflush++; break;
            case FlushKind.Clflushopt: Stats.Clflushopt++; break;
            default: Stats.Clwb++; break;
        }
    }

    private void FlushLines(FlushKind kind, long physicalAddress, long lines)
    {
        long first = physicalAddress & ~(long)(LineSize - 1);
        var r = Region(first, lines * LineSize);
        long off = first - r.BaseAddress;
        bool adr = r.IsAdr;
        bool owner = r.Lock.Enter(Id);
        try
        {
            for (long left = lines; left > 0;)
            {
                long n = 1;
                // Whether the lines go to the DIMM: they hold stores that no write-back covers yet.
                // A line an earlier clwb/clflushopt/non-temporal store already wrote back (not
                // stored to since) is clean in the cache: the instruction is issued, nothing is
                // written. A clwb/clflushopt's fence still completes its stores; a clflush persists
                // them now, and only invalidates the line: it is charged what a clflush of a clean
                // line is, its issue, and neither waits for nor repeats the earlier write-back
                // (clflush is not ordered with clwb/clflushopt).
                bool writesBack = false;
                if (adr)
                {
                    if (kind == FlushKind.Clflush)
                        r.Tracker.PersistNow(off, out writesBack);
                    else if (left == 1)
                    {
                        long covered = r.Tracker.IssueWriteBack(off, out writesBack);
                        if (covered != 0)
                            AddPending(r.Id, off, 1, covered);
                    }
                    else
                    {
                        // A range: the tracker walks it a page at a time and hands back runs.
                        n = r.Tracker.IssueWriteBackRun(off, left, out long covered, out writesBack);
                        if (covered != 0)
                            AddPending(r.Id, off, n, covered);
                    }
                }
                else
                    n = left;   // nothing tracked: every line is clean
                long outstanding = CostState.OutstandingWriteBacks;
                r.Cost.Flush(CostState, kind, off, n, writesBack);
                CountOutstanding(r, outstanding);
                off += n * LineSize;
                left -= n;
            }
        }
        finally
        {
            r.Lock.Exit(owner);
        }
        switch (kind)
        {
            case FlushKind.Clflush: Stats.Clflush += lines; break;
            case FlushKind.Clflushopt: Stats.Clflushopt += lines; break;
            default: Stats.Clwb += lines; break;
        }
    }

    // ------------------------------------------------------------------ fences

    /// <summary>sfence: waits for every write-back this CPU issued; they are persistent afterwards.</summary>
    public void Sfence()
    {
        Fence();
        Stats.Sfence++;
    }

    /// <summary>mfence: as <see cref="Sfence"/> for persistence, and orders loads too.</summary>
    public void Mfence()
    {
        Fence();
        Stats.Mfence++;
    }

    private void Fence()
    {
        for (int id = 0; id < _pendingCount.Length; id++)
        {
            int n = _pendingCount[id];
            if (n <= 0)
            {
                if (n == 0)
                    continue;
                ThrowRetired();     // only s_retiredCounts holds a negative count
            }
            var r = _space.RegionArray[id];
            var runs = _pending[id];
            // A region disposed since the write-backs were issued wrote every store back when it
            // went: nothing is left for them to complete.
            if (!r.Lock.TryEnter(Id, out bool owner))
            {
                _pendingCount[id] = 0;
                continue;
            }
            try
            {
                for (int i = 0; i < n; i++)
                {
                    if (runs[i].Lines == 1)
                        r.Tracker.CompleteWriteBack(runs[i].Line, runs[i].Covered);
                    else
                        r.Tracker.CompleteWriteBackRun(runs[i].Line, runs[i].Lines, runs[i].Covered);
                }
            }
            finally
            {
                r.Lock.Exit(owner);
            }
            _pendingCount[id] = 0;
        }
        // The fence's own cost (each profile's FenceNs: what a fence costs beyond waiting for
        // write-backs) comes from the regions it completes write-backs to, never from the region
        // the CPU happened to touch last. A fence over several regions ends when the fence of each
        // would, the largest over regions r of max(clock + FenceNs(r), last landing in r): one wait
        // for the CPU's last landing (WriteBackDoneAt spans every region) after the largest of
        // their FenceNs. A fence with none outstanding waits for no region: the bare instruction,
        // the smallest FenceNs of the platform, so that having write-backs to wait for never makes
        // a fence cheaper. With a single region, or regions of one profile, both are its FenceNs.
        // A loop over the counts, not Array.Clear: the array has an entry per region (usually
        // one), and a fence is on the path of every persist.
        var outstanding = _outstanding;
        double fenceNs = _space.UniformFenceNs;
        if (!double.IsNaN(fenceNs))
        {
            // Every region has the same FenceNs (one region, the usual case): no choice to make.
            for (int i = 0; i < outstanding.Length; i++)
                outstanding[i] = 0;
        }
        else
        {
            var regions = _space.RegionArray;
            if (regions.Length == 0)
                return;
            fenceNs = -1;
            for (int i = 0; i < outstanding.Length; i++)
            {
                if (outstanding[i] == 0)
                    continue;
                outstanding[i] = 0;
                double f = regions[i].Cost.FenceNs;
                if (f > fenceNs)
                    fenceNs = f;
            }
            if (fenceNs < 0)
            {
                fenceNs = regions[0].Cost.FenceNs;
                for (int i = 1; i < regions.Length; i++)
                    fenceNs = Math.Min(fenceNs, regions[i].Cost.FenceNs);
            }
        }
        CostModel.FenceWithCost(CostState, fenceNs);
    }

    /// <summary>
    /// Drops the write-backs to <paramref name="region"/> this CPU has not yet fenced, and the
    /// cost model's count of them: the power failure of the region resolved them. Called under the
    /// region's lock by the failure itself, so that a write-back this CPU issues once the lock is
    /// free again (after the failure, if its thread runs on) stays for its fence, and counted. A
    /// stale run this misses (the CPU growing its lists for another region meanwhile) is harmless:
    /// it covers only stores made before the failure, and completing it completes nothing.
    /// </summary>
    internal void ForgetOutstanding(NvdimmRegion region)
    {
        int id = region.Id;
        var counts = _pendingCount;
        // A positive count only: a retired CPU that a failure still finds (one racing with the
        // retirement) keeps its marker.
        if (id < counts.Length && counts[id] > 0)
            counts[id] = 0;
        if (id < _outstanding.Length)
        {
            CostState.OutstandingWriteBacks -= _outstanding[id];
            _outstanding[id] = 0;
        }
        // Nothing left outstanding elsewhere: every write-back still in flight went to this region,
        // and the crash resolved it. Otherwise the wait for the other regions' write-backs stays
        // (the landing times are kept for the CPU as a whole, not per region).
        if (CostState.OutstandingWriteBacks == 0)
            CostState.ForgetWriteBacksInFlight();
        CostState.ForgetLastLoad(region.Cost);
    }

    // Counts what the cost model just added to OutstandingWriteBacks as write-backs to 'r'.
    private void CountOutstanding(NvdimmRegion r, long before)
    {
        long added = CostState.OutstandingWriteBacks - before;
        if (added == 0)
            return;
        if (r.Id >= _outstanding.Length)
            Array.Resize(ref _outstanding, r.Id + 1);
        _outstanding[r.Id] += added;
    }

    // ------------------------------------------------------------------ helpers

    // A load of poisoned memory is a machine check, raised before any byte is read.
    private void ThrowIfPoisoned(NvdimmRegion r, long off, int length)
    {
        if (!r.Poison.IsEmpty && r.Poison.TryFindPoison(off, length, out long bad))
        {
            Stats.MachineChecks++;
            throw new MachineCheckException(r.BaseAddress + bad, r.Name);
        }
    }

    // A load of 'length' (> 0) bytes at region offset 'off' of which 'hits' lines hit the cache.
    private void CountLoad(long off, int length, long hits)
    {
        Stats.Loads++;
        Stats.BytesLoaded += length;
        long lines = ((off + length + LineSize - 1) >> 6) - (off >> 6);
        Stats.CacheHitLines += hits;
        Stats.CacheMissLines += lines - hits;
    }

    // Non-temporal stores leave their lines on the way to the media: one write-back per line of
    // [off, off + length), completed by this CPU's next fence. The caller holds the region's lock.
    private void IssueNtWriteBacks(NvdimmRegion r, long off, long length)
    {
        long line = off & ~(long)(LineSize - 1);
        for (long left = (off + length - line + LineSize - 1) / LineSize; left > 0;)
        {
            long n = r.Tracker.IssueWriteBackRun(line, left, out long covered, out _);
            if (covered != 0)
                AddPending(r.Id, line, n, covered);
            line += n * LineSize;
            left -= n;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private NvdimmRegion Region(long physicalAddress, long length)
    {
        // Reach, not Size: a disposed region is reached by no address (see NvdimmRegion.Reach).
        var r = _lastRegion;
        if (r == null || (ulong)(physicalAddress - r.BaseAddress) >= (ulong)r.Reach || length > r.EndAddress - physicalAddress)
        {
            // A retired CPU has no region cached (Retire forgets it), so every instruction it is
            // asked for comes here, past the cached region's check, and is refused.
            if (IsRetired)
                ThrowRetired();
            _lastRegion = r = _space.Resolve(physicalAddress, length);
        }
        return r;
    }

    // Under the space's gate, with no instruction running on the CPU (see PhysicalAddressSpace.RetireCpu):
    // the CPU stops for good. Its write-backs not yet fenced are dropped unfenced, as if it never
    // fenced again: the lines they cover stay in flight in their regions (a crash, a write-back
    // of the region or another CPU's write-back and fence resolves them), and nothing here is
    // left for a crash to find. The cost state keeps its clock and counts.
    internal void Retire()
    {
        _lastRegion = null;
        _pending = [];
        _outstanding = [];
        Volatile.Write(ref _pendingCount, s_retiredCounts);
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowRetired() =>
        throw new ObjectDisposedException($"cpu{Id}", $"cpu{Id} has been retired (PhysicalAddressSpace.RetireCpu): it executes no more instructions");

    // The caller holds the region's lock.
    private int CompleteOldest(int regionId, PendingRun[] runs, int n)
    {
        var tracker = _space.RegionArray[regionId].Tracker;
        int half = n / 2;
        for (int i = 0; i < half; i++)
        {
            if (runs[i].Lines == 1)
                tracker.CompleteWriteBack(runs[i].Line, runs[i].Covered);
            else
                tracker.CompleteWriteBackRun(runs[i].Line, runs[i].Lines, runs[i].Covered);
        }
        Array.Copy(runs, half, runs, 0, n - half);
        _pendingCount[regionId] = n - half;
        return n - half;
    }

    private void AddPending(int regionId, long line, long lines, long covered)
    {
        if (regionId >= _pending.Length)
        {
            Array.Resize(ref _pending, regionId + 1);
            Array.Resize(ref _pendingCount, regionId + 1);
        }
        var list = _pending[regionId] ??= new PendingRun[64];
        int n = _pendingCount[regionId];
        if (n > 0)
        {
            // Extend the previous run when this one continues it with the same coverage (a
            // range flushed page after page).
            ref PendingRun last = ref list[n - 1];
            if (last.Covered == covered && last.Line + last.Lines * LineSize == line)
            {
                last.Lines += lines;
                return;
            }
        }
        if (n == MaxPendingRuns)
        {
            // A CPU has only so many write-backs outstanding: past that, the oldest complete
            // without waiting for a fence (which they may always do), keeping this list bounded.
            n = CompleteOldest(regionId, list, n);
        }
        else if (n == list.Length)
            Array.Resize(ref _pending[regionId], n * 2);
        _pending[regionId][n] = new PendingRun { Line = line, Lines = lines, Covered = covered };
        _pendingCount[regionId] = n + 1;
    }
}
