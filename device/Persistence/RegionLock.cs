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
/// <para>The protocol is the asymmetric Dekker lock that userspace RCU builds on <c>membarrier(2)</c>:</para>
/// <list type="bullet">
/// <item>The owner (the CPU the lock is biased to) marks itself inside, then enters if the shared
/// lock is free and the bias is still its own; otherwise it unmarks itself and takes the shared
/// lock like everyone else. It needs no fence between its mark and its check.</item>
/// <item>Anyone else takes the shared lock with a compare-and-swap and, while the lock is biased,
/// runs a process-wide memory barrier (<see cref="Interlocked.MemoryBarrierProcessWide"/>, the
/// kernel's <c>membarrier</c>) and waits until the owner is not inside. The barrier interrupts the
/// owner: a mark it made before the barrier is visible afterwards (so the waiter sees it), and a
/// check it makes after the barrier sees the shared lock taken (so the owner backs off).</item>
/// <item>A second CPU revokes the bias for good, under the shared lock and before its barrier:
/// afterwards every CPU takes the shared lock, as with a plain spin lock. Callers that are not
/// CPUs (inspection, crash) keep the bias and pay the barrier on each entry.</item>
/// </list>
/// <para>Each entry returns whether it took the owner's path; the matching exit needs it. A CPU is
/// used by one thread at a time, so the owner never races with itself.</para>
/// </remarks>
internal struct RegionLock
{
    private const int Unclaimed = -2;
    private const int Revoked = -1;
    private const int NotCpu = -3;

    private int _held;          // the shared lock: 1 while someone other than the owner (on its path) is inside
    private int _ownerIn;       // 1 while the owner is inside on its own path
    private int _bias;          // the owner's CPU id, Unclaimed or Revoked

    /// <summary>Sets the lock up unclaimed (a default <see cref="RegionLock"/> would be biased to CPU 0).</summary>
    public static RegionLock Create() => new() { _bias = Unclaimed };

    /// <summary>Enters as CPU <paramref name="cpu"/> (0 or more); returns whether it took the owner's path (pass it to <see cref="Exit(bool)"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Enter(int cpu)
    {
        if (_bias == cpu)
        {
            // Volatile accesses keep their program order in the JIT; the processor may still
            // perform the reads before the write, which the others' barrier makes harmless.
            Volatile.Write(ref _ownerIn, 1);
            if (Volatile.Read(ref _held) == 0 && Volatile.Read(ref _bias) == cpu)
                return true;
            Volatile.Write(ref _ownerIn, 0);
        }
        return EnterShared(cpu);
    }

    /// <summary>Enters as a caller that is not a CPU (inspection, crash): always the shared path.</summary>
    public void Enter() => EnterShared(NotCpu);

    /// <summary>Leaves; <paramref name="owner"/> is what the matching <see cref="Enter(int)"/> returned.</summary>
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

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool EnterShared(int cpu)
    {
        // The first CPU to come claims the bias and enters on its own path from now on.
        if (cpu >= 0 && _bias == Unclaimed && Interlocked.CompareExchange(ref _bias, cpu, Unclaimed) == Unclaimed)
            return Enter(cpu);
        if (Interlocked.CompareExchange(ref _held, 1, 0) != 0)
        {
            var spin = new SpinWait();
            while (Interlocked.CompareExchange(ref _held, 1, 0) != 0)
                spin.SpinOnce();
        }
        int bias = Volatile.Read(ref _bias);
        if (bias >= 0 && bias != cpu)
        {
            // Another CPU executes here too: the bias goes, before the barrier that makes the
            // owner see it (or makes its being inside visible to us).
            if (cpu >= 0)
                Interlocked.Exchange(ref _bias, Revoked);
            Interlocked.MemoryBarrierProcessWide();
            var spin = new SpinWait();
            while (Volatile.Read(ref _ownerIn) != 0)
                spin.SpinOnce();
        }
        return false;
    }
}
