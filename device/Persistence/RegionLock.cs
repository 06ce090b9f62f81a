using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace DaxStack.Device.Persistence;

/// <summary>
/// The lock of one region's persistence state: a spin lock biased towards the first CPU that
/// takes it. Critical sections are a few hundred nanoseconds at most, so spinning beats a
/// monitor; and as long as one CPU alone executes on the region, that CPU enters and leaves with
/// plain stores, without the locked read-modify-write an ordinary spin lock pays on every entry
/// (a store, a clwb and an sfence each take the lock, and those three locked instructions were
/// the largest part of a 64-byte persist: see bench/Persist64Benchmarks.cs).
/// </summary>
/// <remarks>
/// <para>The protocol is the asymmetric Dekker lock that userspace RCU builds on <c>membarrier(2)</c>,
/// with priority for the owner when it has to wait:</para>
/// <list type="bullet">
/// <item>The owner (the CPU the lock is biased to) marks itself inside (<c>_ownerIn</c>), then
/// enters if the shared lock (<c>_held</c>) is free and the bias is still its own. It needs no
/// fence between its mark and its check. It never takes the shared lock while the bias is its own.</item>
/// <item>Anyone else takes the shared lock with a compare-and-swap and, while the lock is biased,
/// runs a process-wide memory barrier (<see cref="Interlocked.MemoryBarrierProcessWide"/>, the
/// kernel's <c>membarrier</c>) and waits until the owner is not inside.</item>
/// <item>When the owner finds the shared lock taken, it unmarks itself, announces that it waits
/// (<c>_ownerWaiting</c>, with a locked exchange so the announcement is visible at once), spins
/// until the shared lock is free, and tries its own path again. No one starts a compare-and-swap
/// on the shared lock while the owner waits.</item>
/// <item>A second CPU revokes the bias for good, under the shared lock and before its barrier:
/// afterwards every CPU, the former owner included, takes the shared lock, as with a plain spin
/// lock. Callers that are not CPUs (inspection, crash) keep the bias and pay the barrier on each entry.</item>
/// </list>
/// <para>Exclusion. Let O be the owner and S someone else. S's compare-and-swap on <c>_held</c>
/// (and its revocation of the bias) complete before its barrier starts; the barrier puts a full
/// fence into O's instruction stream at some point B (an interrupt, or the context switch that
/// descheduled O), and S reads <c>_ownerIn</c> only after the barrier has returned. If O's
/// mark precedes B, it is visible to that read, so S waits until O unmarks itself (leaving, or
/// backing off). If O's mark follows B, so do O's reads of <c>_held</c> and the bias, which then
/// see S's writes, and O backs off. O's reads may be performed before its mark (x86 lets a load
/// pass an older store), but only before B in the first case, where S waits anyway. While the
/// bias is unclaimed nobody runs the barrier: a CPU claims it with a compare-and-swap (a full
/// fence) before its first check of <c>_held</c>, and S makes its compare-and-swap on
/// <c>_held</c> before it reads the bias, so of the two at least one sees the other's write
/// (O backs off, or S runs the barrier). Leaving is a release store (<c>_ownerIn</c> = 0 or
/// <c>_held</c> = 0) and the next holder's read of it is an acquire, so critical sections are
/// ordered.</para>
/// <para>Progress. Nobody waits on anything while holding a lock except S on O's mark, and O
/// unmarks itself before it waits, so there is no deadlock. O cannot starve: once its
/// announcement is visible, no new compare-and-swap on <c>_held</c> begins, so O waits at most
/// for the holder and for the callers that had already read "not waiting" (at most one per
/// thread), then finds <c>_held</c> free and enters. The others cannot starve behind O: O
/// announces only while a non-owner holds <c>_held</c>, and withdraws the announcement as soon
/// as it enters (or sees the bias revoked), so between two of O's waits some non-owner has held
/// the lock; and S, once it holds <c>_held</c>, waits for at most one owner critical section,
/// since O's next check sees <c>_held</c> taken. Among non-owners the shared lock is a
/// test-and-set spin lock.</para>
/// <para>Each entry returns whether it took the owner's path; the matching exit needs it. A CPU is
/// used by one thread at a time, so the owner never races with itself. The bias names the owner by
/// its id alone, which is sound because an address space never hands an id out twice (ids come
/// from a 64-bit counter, not from how many CPUs there are): a lock still biased to a CPU that no
/// longer executes stays biased to it, and the next CPU to come revokes the bias as for any other
/// owner.</para>
/// <para>Re-entry. The lock is not recursive, and the only code that runs while it is held and is
/// not the device's own is a callout: the load sink of <c>Cpu.LoadTo</c>, marked by
/// <see cref="BeginCallout"/> / <see cref="EndCallout"/> with the calling thread. (The store
/// source of <c>Cpu.NtStoreFrom</c> runs outside the lock, while its chunk is a store in progress:
/// see <see cref="EnterToBeginStore"/>. Every entry that would wait for that store first checks
/// that its thread is not the store's, and throws the same way if it is.) An entry by the thread that holds the lock would either nest (the owner's
/// path: the inner exit would then let others in while the outer section runs on) or wait for
/// itself for ever, so it throws <see cref="LockRecursionException"/> instead, before it changes
/// anything: the owner's path finds its own mark already set (one load, on a line it writes
/// anyway), and every other path, which may wait, first compares the callout's thread with its
/// own (one load while no callout runs). A callout that enters another region's lock is not
/// caught here.</para>
/// <para>Closing. The region's dispose enters on the shared path, so it waits for a CPU inside
/// (the owner's instruction included, through the barrier) and keeps every other out, and then
/// closes the lock (<see cref="Close"/>): the bias becomes <c>Closed</c> for good, which no CPU
/// id equals. The owner's path can then never succeed (it checks the bias after its mark, and
/// reads it after the acquire of <c>_held</c> that follows the dispose's release), so every
/// CPU entry from then on, and every one waiting meanwhile, reaches the shared path, finds the
/// lock closed once it holds <c>_held</c>, leaves at once and throws
/// <see cref="ObjectDisposedException"/>. The owner's fast path is unchanged: closing costs it
/// nothing. Callers that are not CPUs (inspection, crash) still enter a closed lock; they check
/// the region's state themselves.</para>
/// <para>Models a spin lock (the kernel's <c>arch_spinlock_t</c>, test-and-set flavour) whose
/// common case is made fence-free by the asymmetric pairing of <c>membarrier(2)</c>
/// (<c>MEMBARRIER_CMD_PRIVATE_EXPEDITED</c>) with plain stores, as userspace RCU's read side does.</para>
/// </remarks>
internal struct RegionLock
{
    // Bias values that are no CPU id (ids are 0 or more, and never reused: see Cpu.Id).
    private const long Unclaimed = -2;
    private const long Revoked = -1;
    private const long NotCpu = -3;
    private const long Closed = -4;

    // What EnterSlow and EnterShared report.
    private const int EnteredOwner = 1;
    private const int EnteredShared = 0;
    private const int IsClosed = -1;

    private int _held;          // the shared lock: 1 while someone other than the owner (on its path) is inside
    private int _ownerIn;       // 1 while the owner is inside on its own path
    private int _ownerWaiting;  // 1 while the owner waits for the shared lock to be free: others do not take it meanwhile
    private long _bias;         // the owner's CPU id, Unclaimed, Revoked or Closed (for good: the region is disposed)
    private int _calloutThread; // managed id of the thread running a callout under the lock; 0 if none
    private string _name;       // the region's, for the re-entry error
    private int _storesInProgress;   // stores begun and not ended (BeginStore / EndStore); changed only under the lock
    private int _waitingForStores;   // entries waiting for those to end: no store begins meanwhile
    private StoreInProgress[] _stores; // their ranges and threads; Thread 0 = a free entry

    /// <summary>The most stores in progress at once (one per thread copying; more wait for one to end).</summary>
    public const int MaxStoresInProgress = 16;

    private struct StoreInProgress
    {
        public long Start, End;
        public int Thread;
    }

    /// <summary>Sets the lock of region <paramref name="name"/> up unclaimed (a default <see cref="RegionLock"/> would be biased to CPU 0).</summary>
    public static RegionLock Create(string name) =>
        new() { _bias = Unclaimed, _name = name, _stores = new StoreInProgress[MaxStoresInProgress] };

    /// <summary>
    /// Marks the caller, who holds the lock, as running foreign code under it (a load sink or a
    /// store source) until <see cref="EndCallout"/>: an entry by the same thread meanwhile throws
    /// instead of waiting for itself.
    /// </summary>
    public void BeginCallout() => Volatile.Write(ref _calloutThread, Environment.CurrentManagedThreadId);

    /// <summary>Ends what <see cref="BeginCallout"/> began.</summary>
    public void EndCallout() => Volatile.Write(ref _calloutThread, 0);

    /// <summary>
    /// Enters as CPU <paramref name="cpu"/> (0 or more); returns whether it took the owner's path
    /// (pass it to <see cref="Exit(bool)"/>). Throws <see cref="ObjectDisposedException"/>, without
    /// entering, once the lock is closed (<see cref="Close"/>).
    /// </summary>
    /// <remarks>Waits while a store is in progress (see <see cref="BeginStore"/>).</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Enter(long cpu)
    {
        bool owner = EnterCpu(cpu);
        // One read on the line the entry has just written: the count changes only under the lock.
        if (_storesInProgress != 0)
            owner = WaitForStoresOrThrow(cpu, owner);
        return owner;
    }

    /// <summary>
    /// As <see cref="Enter(long)"/>, but returns false instead of throwing when the lock is closed
    /// (it is not entered then); <paramref name="owner"/> is what to pass to <see cref="Exit(bool)"/>.
    /// </summary>
    public bool TryEnter(long cpu, out bool owner)
    {
        int entered = _bias == cpu && TryEnterOwner(cpu) ? EnteredOwner : EnterSlow(cpu);
        if (entered != IsClosed && _storesInProgress != 0)
            entered = WaitForStores(cpu, entered == EnteredOwner);
        owner = entered == EnteredOwner;
        return entered != IsClosed;
    }

    /// <summary>Enters as a caller that is not a CPU (inspection, crash, dispose): always the shared path, closed or not. Waits while a store is in progress.</summary>
    public void Enter()
    {
        ThrowIfCalloutOfThisThread();
        EnterShared(NotCpu);
        if (_storesInProgress != 0)
            WaitForStores(NotCpu, owner: false);
    }

    // ------------------------------------------------------------ stores in progress
    //
    // A store whose data a callout copies in (Cpu.NtStoreFrom) records itself under the lock,
    // then copies outside it, then ends under the lock again: other stores of that kind may run
    // meanwhile on ranges that do not overlap it, and every other entry waits until none is in
    // progress, so that nothing else sees the range between the record and the copy. An entry
    // that has to wait announces it, and no store begins while one waits: a stream of stores
    // that overlap in time cannot keep it out for ever. The counts change under the lock only,
    // so one read by whoever holds it is exact.

    /// <summary>
    /// Enters as CPU <paramref name="cpu"/> to begin a store on [<paramref name="start"/>,
    /// <paramref name="end"/>) that will run outside the lock (the caller records it, then calls
    /// <see cref="BeginStore"/>, then leaves). Waits until no store in progress overlaps the range
    /// and no other entry is waiting for the stores to end. Throws as <see cref="Enter(long)"/>
    /// does when closed, and <see cref="LockRecursionException"/> when this thread has a store of
    /// its own in progress here (a source executing on the region it copies into).
    /// </summary>
    public bool EnterToBeginStore(long cpu, long start, long end)
    {
        int thread = Environment.CurrentManagedThreadId;
        var spin = new SpinWait();
        while (true)
        {
            bool owner = EnterCpu(cpu);
            bool blocked = Volatile.Read(ref _waitingForStores) != 0;
            bool free = false;
            if (_storesInProgress != 0 || blocked)
            {
                foreach (ref readonly var s in _stores.AsSpan())
                {
                    if (s.Thread == 0)
                    {
                        free = true;
                        continue;
                    }
                    if (s.Thread == thread)
                    {
                        Exit(owner);
                        ThrowReentered(owner: false);
                    }
                    if (s.Start < end && start < s.End)
                        blocked = true;
                }
            }
            else
                free = true;
            if (!blocked && free)
                return owner;
            Exit(owner);
            spin.SpinOnce(sleep1Threshold: -1);
        }
    }

    /// <summary>
    /// Under the lock entered with <see cref="EnterToBeginStore"/> (the same range): the store is
    /// in progress from now on; returns what to pass to <see cref="EndStore"/>.
    /// </summary>
    public int BeginStore(long start, long end)
    {
        var stores = _stores.AsSpan();
        for (int i = 0; i < stores.Length; i++)
        {
            if (stores[i].Thread != 0)
                continue;
            stores[i] = new StoreInProgress { Start = start, End = end, Thread = Environment.CurrentManagedThreadId };
            _storesInProgress++;
            return i;
        }
        throw new InvalidOperationException("BeginStore without room (enter with EnterToBeginStore)");
    }

    /// <summary>
    /// Enters as CPU <paramref name="cpu"/> to end a store in progress (then call
    /// <see cref="EndStore"/>): does not wait for stores, its own included. The lock cannot have
    /// been closed meanwhile (closing waits for every store to end).
    /// </summary>
    public bool EnterToEndStore(long cpu) => EnterCpu(cpu);

    /// <summary>Under the lock: the store <see cref="BeginStore"/> returned <paramref name="ticket"/> for has ended.</summary>
    public void EndStore(int ticket)
    {
        _stores[ticket] = default;
        _storesInProgress--;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool EnterCpu(long cpu)
    {
        if (_bias == cpu && TryEnterOwner(cpu))
            return true;
        return EnterSlowOrThrow(cpu);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool WaitForStoresOrThrow(long cpu, bool owner)
    {
        int entered = WaitForStores(cpu, owner);
        if (entered == IsClosed)
            ThrowClosed();
        return entered == EnteredOwner;
    }

    // Holding the lock with stores in progress: leaves, waits until none is, and enters again.
    // Returns how it entered (IsClosed: it did not, the lock was closed meanwhile).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private int WaitForStores(long cpu, bool owner)
    {
        int thread = Environment.CurrentManagedThreadId;
        foreach (ref readonly var s in _stores.AsSpan())
        {
            if (s.Thread == thread)
            {
                // This thread's own store is in progress: it would wait for itself.
                Exit(owner);
                ThrowReentered(owner: false);
            }
        }
        Interlocked.Increment(ref _waitingForStores);
        try
        {
            while (true)
            {
                Exit(owner);
                var spin = new SpinWait();
                while (Volatile.Read(ref _storesInProgress) != 0)
                    spin.SpinOnce(sleep1Threshold: -1);
                int entered = cpu == NotCpu ? EnterShared(NotCpu)
                    : _bias == cpu && TryEnterOwner(cpu) ? EnteredOwner
                    : EnterSlow(cpu);
                if (entered == IsClosed)
                    return IsClosed;
                owner = entered == EnteredOwner;
                // No store begins while this entry waits: only those begun before it can still be in progress.
                if (_storesInProgress == 0)
                    return entered;
            }
        }
        finally
        {
            Interlocked.Decrement(ref _waitingForStores);
        }
    }

    /// <summary>
    /// Closes the lock for CPUs for good: every <see cref="Enter(long)"/> from now on throws
    /// <see cref="ObjectDisposedException"/> and every <see cref="TryEnter"/> fails, including those
    /// waiting now. The caller holds the lock through <see cref="Enter()"/> (so no CPU is inside)
    /// and leaves it as usual.
    /// </summary>
    public void Close() => Interlocked.Exchange(ref _bias, Closed);

    /// <summary>Leaves; <paramref name="owner"/> is what the matching <see cref="Enter(long)"/> returned.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Exit(bool owner)
    {
        if (owner)
            Volatile.Write(ref _ownerIn, 0);
        else
            Volatile.Write(ref _held, 0);
    }

    /// <summary>Leaves after <see cref="Enter()"/>.</summary>
    public void Exit() => Volatile.Write(ref _held, 0);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryEnterOwner(long cpu)
    {
        // Only the owner's thread sets the mark: finding it set, that thread is inside already.
        if (_ownerIn != 0)
            ThrowReentered(owner: true);
        // Volatile accesses keep their program order in the JIT; the processor may still
        // perform the reads before the write, which the others' barrier makes harmless.
        Volatile.Write(ref _ownerIn, 1);
        if (Volatile.Read(ref _held) == 0 && Volatile.Read(ref _bias) == cpu)
            return true;
        Volatile.Write(ref _ownerIn, 0);
        return false;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool EnterSlowOrThrow(long cpu)
    {
        int entered = EnterSlow(cpu);
        if (entered == IsClosed)
            ThrowClosed();
        return entered == EnteredOwner;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private int EnterSlow(long cpu)
    {
        ThrowIfCalloutOfThisThread();
        // The first CPU to come claims the bias and enters on its own path from now on.
        if (_bias == Unclaimed && Interlocked.CompareExchange(ref _bias, cpu, Unclaimed) == Unclaimed && TryEnterOwner(cpu))
            return EnteredOwner;
        if (Volatile.Read(ref _bias) != cpu)
            return EnterShared(cpu);
        // The owner found the shared lock taken: it announces itself, so that the holder's
        // successors let it go first, and waits for the holder to leave. Without this, a caller
        // that takes the shared lock in a loop (inspection, whose barrier makes it hold the lock
        // for microseconds) wins nearly every race against an owner backing off in SpinWait.
        Interlocked.Exchange(ref _ownerWaiting, 1);
        var spin = new SpinWait();
        while (true)
        {
            if (Volatile.Read(ref _bias) != cpu)
            {
                // Revoked (or closed) while waiting: from now on this CPU is one of the crowd.
                Volatile.Write(ref _ownerWaiting, 0);
                return EnterShared(cpu);
            }
            if (Volatile.Read(ref _held) == 0 && TryEnterOwner(cpu))
            {
                Volatile.Write(ref _ownerWaiting, 0);
                return EnteredOwner;
            }
            spin.SpinOnce();
        }
    }

    // Before any path that may wait: the thread in a callout holds the lock, so it would wait for itself.
    private void ThrowIfCalloutOfThisThread()
    {
        int callout = Volatile.Read(ref _calloutThread);
        if (callout != 0 && callout == Environment.CurrentManagedThreadId)
            ThrowReentered(owner: false);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    [DoesNotReturn]
    private readonly void ThrowReentered(bool owner) =>
        throw new LockRecursionException(
            $"{_name}: this thread already holds the region's lock: a load sink or store source (the callback of Cpu.LoadTo or " +
            "Cpu.NtStoreFrom, which IBlockDeviceReadTo.ReadTo and IBlockDeviceWriteFrom.WriteFrom call) executed an instruction on the " +
            "region it is copying from or to, or submitted I/O to one of its namespaces; a callback may only copy bytes" +
            (owner ? " (or one CPU is used by two threads at once)" : ""));

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private readonly void ThrowClosed() =>
        throw new ObjectDisposedException(_name, $"{_name} has been disposed: its media is released");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private int EnterShared(long cpu)
    {
        var spin = new SpinWait();
        while (Volatile.Read(ref _ownerWaiting) != 0 || Interlocked.CompareExchange(ref _held, 1, 0) != 0)
            spin.SpinOnce();
        long bias = Volatile.Read(ref _bias);
        if (bias == Closed && cpu != NotCpu)
        {
            // Disposed: a CPU leaves at once; the media may be gone already.
            Volatile.Write(ref _held, 0);
            return IsClosed;
        }
        if (bias >= 0 && bias != cpu)
        {
            // Another CPU executes here too: the bias goes, before the barrier that makes the
            // owner see it (or makes its being inside visible to us).
            if (cpu >= 0)
                Interlocked.Exchange(ref _bias, Revoked);
            Interlocked.MemoryBarrierProcessWide();
            spin = new SpinWait();
            while (Volatile.Read(ref _ownerIn) != 0)
                spin.SpinOnce();
        }
        return EnteredShared;
    }
}
