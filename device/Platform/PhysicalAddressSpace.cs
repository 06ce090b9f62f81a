using System.Runtime.CompilerServices;
using DaxStack.Device.Cost;
using DaxStack.Device.Crash;
using DaxStack.Device.Diagnostics;
using DaxStack.Device.Persistence;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DaxStack.Device.Platform;

/// <summary>
/// The emulated machine's physical address space: the NVDIMM regions at their base addresses,
/// and the CPUs that execute loads, stores, flushes and fences on physical addresses.
/// A page frame number is <c>physical address &gt;&gt; 12</c>.
/// </summary>
public sealed class PhysicalAddressSpace : IDisposable
{
    /// <summary>Page size in bytes.</summary>
    public const int PageSize = 4096;

    /// <summary>Physical address of the first region (4 GiB, above where DRAM would sit).</summary>
    public const long FirstRegionBase = 1L << 32;

    /// <summary>Regions are placed on 1 GiB boundaries.</summary>
    public const long RegionAlignment = 1L << 30;

    private volatile NvdimmRegion[] _regions = [];
    private readonly object _gate = new();
    // The CPUs, replaced (under _gate) when one is added or retired, so that a power failure can
    // read them under a region's lock without taking _gate.
    private volatile Cpu[] _cpus = [];
    private long _nextCpuId;    // under _gate: the id of the next CPU (ids are never handed out twice)
    private readonly ThreadLocal<Cpu> _current;
    private readonly ILogger _logger;
    private volatile bool _disposed;

    // The CPU the calling thread was last handed by CurrentCpu, of whichever space: a one-entry
    // cache in front of _current. ThreadLocal<Cpu>.Value runs shared generic code that looks its
    // thread-static slot array up through the runtime (several ns), and a DAX window asks for the
    // CPU on every load, store, flush and fence; a plain thread-static of a non-generic class is
    // an inlined read. The cache only remembers what _current handed out, so a thread still gets
    // one CPU per space. It keeps the last space a thread asked alive until the thread asks
    // another (Dispose forgets it for the disposing thread).
    [ThreadStatic]
    private static Cpu? t_lastCpu;

    /// <summary>
    /// The objects that hold this space's counts (each CPU's stats and clock, each region's cost
    /// model), kept up to date as CPUs and regions are added and CPUs retired. They hold no
    /// reference back to the space, so a meter can keep them, and read the last counts, after the
    /// space is collected.
    /// </summary>
    internal sealed class CountHolders
    {
        // Each live CPU's stats and clock; once a CPU has been retired, preceded by one entry with
        // the sums of every retired CPU's, replaced (never added to) at each retirement. A reader
        // takes the array once, so it counts each CPU once, in its own entry or in the sums, and
        // the array does not grow with the CPUs that come and go.
        private volatile (CpuStats Stats, SimClock Clock)[] _cpus = [];
        private volatile CostModel[] _regions = [];
        private bool _hasRetired;   // under the space's gate: _cpus[0] holds the retired CPUs' sums

        public (CpuStats Stats, SimClock Clock)[] Cpus => _cpus;

        public CostModel[] Regions => _regions;

        // Under the space's gate.
        internal void AddCpu(Cpu cpu) => _cpus = [.. _cpus, (cpu.Stats, cpu.Clock)];

        // Under the space's gate, once 'cpu' executes no more: its counts move into the sums. New
        // objects, not the old sums added to, so a reader holding the previous array (with the
        // old sums and the CPU's own entry) does not count the CPU twice.
        internal void RetireCpu(Cpu cpu)
        {
            var cpus = _cpus;
            var stats = new CpuStats();
            var clock = new SimClock();
            int first = 0;
            if (_hasRetired)
            {
                stats.Add(cpus[0].Stats);
                clock.Advance(cpus[0].Clock.Nanoseconds);
                first = 1;
            }
            stats.Add(cpu.Stats);
            clock.Advance(cpu.Clock.Nanoseconds);
            var next = new (CpuStats, SimClock)[cpus.Length - first];
            next[0] = (stats, clock);
            int n = 1;
            for (int i = first; i < cpus.Length; i++)
            {
                if (!ReferenceEquals(cpus[i].Stats, cpu.Stats))
                    next[n++] = cpus[i];
            }
            _cpus = next;
            _hasRetired = true;
        }

        internal void AddRegion(NvdimmRegion region) => _regions = [.. _regions, region.Cost];
    }

    internal CountHolders Counts { get; } = new();

    /// <summary>An empty address space; <paramref name="logger"/> receives region and power-failure events.</summary>
    public PhysicalAddressSpace(ILogger? logger = null)
    {
        _current = new ThreadLocal<Cpu>(() => ThreadCpuReaper.Register(AddCpu(threadCpu: true)));
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The regions in address order.</summary>
    public IReadOnlyList<NvdimmRegion> Regions => _regions;

    // The same array without the interface: the fence loop indexes it per region.
    internal NvdimmRegion[] RegionArray => _regions;

    /// <summary>
    /// The <see cref="Cost.CostProfile.FenceNs"/> every region shares, or NaN when there are none
    /// or they differ: a fence then has no choice of cost to make (see <see cref="Cpu.Sfence"/>).
    /// </summary>
    internal double UniformFenceNs { get; private set; } = double.NaN;

    /// <summary>
    /// The CPU the calling thread executes on (one per thread, created on first use). Once the
    /// thread has ended, its CPU is retired (see <see cref="RetireCpu"/> for what that keeps and
    /// drops) when the garbage collector finds the thread gone, so a process whose threads come
    /// and go (the thread pool's, say) does not pile CPUs up in the platform.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The space has been disposed.</exception>
    public Cpu CurrentCpu
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            var cpu = t_lastCpu;
            if (cpu is not null && ReferenceEquals(cpu.Space, this) && !_disposed)
                return cpu;
            return CurrentCpuSlow();
        }
    }

    // The thread's first question to this space since it last asked another: through _current,
    // which creates the CPU on first use and throws once the space is disposed.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private Cpu CurrentCpuSlow()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var cpu = _current.Value!;
        t_lastCpu = cpu;
        return cpu;
    }

    /// <summary>The CPUs of the platform: every one created so far (by <see cref="CreateCpu"/> or for a thread) and not retired (a thread's is retired some time after the thread ends).</summary>
    public IReadOnlyList<Cpu> Cpus
    {
        get { lock (_gate) return [.. _cpus]; }
    }

    /// <summary>
    /// The modeled nanoseconds charged so far to every CPU the space has had, retired ones
    /// included: unlike a sum over <see cref="Cpus"/>, it never goes down when a CPU is retired.
    /// </summary>
    public double ModeledNanoseconds
    {
        get
        {
            double total = 0;
            foreach (var (_, clock) in Counts.Cpus)
                total += clock.Nanoseconds;
            return total;
        }
    }

    /// <summary>Places <paramref name="region"/> after the last one, on a 1 GiB boundary, and returns its base address.</summary>
    public long AddRegion(NvdimmRegion region)
    {
        ArgumentNullException.ThrowIfNull(region);
        lock (_gate)
        {
            if (region.BaseAddress >= 0)
                throw new InvalidOperationException($"{region.Name} is already in an address space");
            var regions = _regions;
            long next = FirstRegionBase;
            if (regions.Length > 0)
                next = (regions[^1].EndAddress + RegionAlignment - 1) / RegionAlignment * RegionAlignment;
            region.BaseAddress = next;
            region.Id = regions.Length;
            region.Space = this;
            // Set before the region is published (a volatile write): a CPU that sees the region
            // sees this too, and one that does not yet takes the slower exact path at worst.
            double fenceNs = region.Cost.FenceNs;
            UniformFenceNs = regions.Length == 0 || UniformFenceNs == fenceNs ? fenceNs : double.NaN;
            _regions = [.. regions, region];
            Counts.AddRegion(region);
            DeviceLog.RegionAdded(_logger, region.Name, next, region.Size, region.Cost.Profile.Name);
            return next;
        }
    }

    /// <summary>
    /// A new CPU context with its own modeled clock and counters, and an id no other CPU of the
    /// space has had. Retire it with <see cref="RetireCpu"/> when done with it, or it stays in the
    /// platform for the space's life.
    /// </summary>
    public Cpu CreateCpu() => AddCpu(threadCpu: false);

    private Cpu AddCpu(bool threadCpu)
    {
        lock (_gate)
        {
            var cpu = new Cpu(this, _nextCpuId++, threadCpu);
            _cpus = [.. _cpus, cpu];
            Counts.AddCpu(cpu);
            return cpu;
        }
    }

    /// <summary>
    /// Takes <paramref name="cpu"/>, made by <see cref="CreateCpu"/>, out of the platform for good
    /// (CPU hot-unplug): it leaves <see cref="Cpus"/>, a power failure no longer looks at it, and
    /// every instruction on it from now on throws <see cref="ObjectDisposedException"/>. Retiring
    /// a CPU again does nothing.
    /// </summary>
    /// <remarks>
    /// <para>What stays: its id, which no later CPU gets (a region lock may still be biased to
    /// it); its clock and counters, which keep what they held; and its counts in the totals of
    /// <see cref="Diagnostics.DeviceMetrics"/>, which never go down (every retired CPU's are summed
    /// in one entry, so the meter's bookkeeping does not grow with them).</para>
    /// <para>Its write-backs not yet fenced (clwb, clflushopt, non-temporal stores) are never
    /// fenced, as if the CPU never fenced again: the lines they cover stay in flight until a power
    /// failure leaves them as its policy chooses, the region is written back
    /// (<see cref="NvdimmRegion.WriteBackAll"/>, an orderly exit, the model's own eviction), or
    /// another CPU writes them back and fences. Fence first (<see cref="Cpu.Sfence"/>) to make
    /// them persistent.</para>
    /// <para>As any use of a CPU, the call must not overlap an instruction on it from another
    /// thread (the pmem driver retires a queue's CPU once the queue is drained). A thread's CPU
    /// (<see cref="CurrentCpu"/>) cannot be retired: it is the thread's for the thread's life, and
    /// the thread would find it again on its next instruction.</para>
    /// <para>Models CPU hot-unplug (the kernel's <c>remove_cpu</c>), except that a retired CPU
    /// never comes back.</para>
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="cpu"/> belongs to another address space.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="cpu"/> is a thread's CPU.</exception>
    public void RetireCpu(Cpu cpu)
    {
        ArgumentNullException.ThrowIfNull(cpu);
        if (!ReferenceEquals(cpu.Space, this))
            throw new ArgumentException($"cpu{cpu.Id} belongs to another address space", nameof(cpu));
        if (cpu.IsThreadCpu)
            throw new InvalidOperationException(
                $"cpu{cpu.Id} is a thread's CPU (PhysicalAddressSpace.CurrentCpu), which stays that thread's for its life: only a CPU made with CreateCpu can be retired");
        lock (_gate)
            Retire(cpu);
    }

    // Under _gate: takes 'cpu' out of the platform, unless it is out already.
    private void Retire(Cpu cpu)
    {
        if (cpu.IsRetired)
            return;
        _cpus = [.. _cpus.Where(c => c != cpu)];
        Counts.RetireCpu(cpu);
        cpu.Retire();
    }

    // A thread's CPU whose thread has ended (ThreadCpuReaper, on the finalizer thread): no
    // instruction can run on it any more, so it is retired as RetireCpu retires a CPU made with
    // CreateCpu. Nothing to do once the space is disposed.
    internal void RetireEndedThreadCpu(Cpu cpu)
    {
        lock (_gate)
        {
            if (!_disposed)
                Retire(cpu);
        }
    }

    /// <summary>The region containing [<paramref name="physicalAddress"/>, +<paramref name="length"/>); throws if the range is not inside one region, or <see cref="ObjectDisposedException"/> if that region has been disposed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public NvdimmRegion Resolve(long physicalAddress, long length)
    {
        // A negative length would pass the check against the region's end below.
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        foreach (var r in _regions)
        {
            if ((ulong)(physicalAddress - r.BaseAddress) < (ulong)r.Size)
            {
                r.ThrowIfReleased();
                if (length > r.EndAddress - physicalAddress)
                    ThrowCrossesRegion(physicalAddress, length, r);
                return r;
            }
        }
        ThrowUnmapped(physicalAddress);
        return null!;
    }

    /// <summary>Power failure of the whole platform: every region's in-flight lines are left as <paramref name="policy"/> chooses.</summary>
    public void Crash(CrashPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var choose = policy.Begin();
        DeviceLog.PowerFailure(_logger, policy.ToString()!, _regions.Sum(r => r.InFlightLineCount));
        // Each region's failure drops the CPUs' write-backs to it (ForgetOutstanding below).
        foreach (var r in _regions)
            r.CrashWith(choose);
    }

    // During a power failure of 'region', under its lock: every CPU's write-backs to it not yet
    // fenced were resolved by the failure. A CPU created meanwhile has none to the region yet; a
    // retired one has none left to resolve.
    internal void ForgetOutstanding(NvdimmRegion region)
    {
        foreach (var cpu in _cpus)
            cpu.ForgetOutstanding(region);
    }

    /// <summary>Every line not yet persistent on the platform, in address order.</summary>
    public IReadOnlyList<InFlightLine> InFlightLines()
    {
        var all = new List<InFlightLine>();
        foreach (var r in _regions)
            all.AddRange(r.InFlightLines());
        return all;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowUnmapped(long pa) =>
        throw new ArgumentOutOfRangeException(nameof(pa), $"physical address 0x{pa:x} is not backed by any NVDIMM region");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowCrossesRegion(long pa, long length, NvdimmRegion r) =>
        throw new ArgumentOutOfRangeException(nameof(length), $"access [0x{pa:x}, +{length}) runs past the end of {r.Name} at 0x{r.EndAddress:x}");

    /// <summary>Orderly shutdown: writes back every region and releases the media.</summary>
    public void Dispose()
    {
        _disposed = true;
        if (ReferenceEquals(t_lastCpu?.Space, this))
            t_lastCpu = null;
        foreach (var r in _regions)
            r.Dispose();
        _current.Dispose();
    }
}
