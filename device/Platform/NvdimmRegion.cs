using DaxStack.Device.Cost;
using DaxStack.Device.Crash;
using DaxStack.Device.Media;
using DaxStack.Device.Persistence;
using DaxStack.Device.Poison;

namespace DaxStack.Device.Platform;

/// <summary>
/// One NVDIMM region: a contiguous range of the physical address space backed by one media
/// (one image), with its persistence state, poison list and cost model. Namespaces are ranges
/// of a region. CPU instructions reach a region through <see cref="Cpu"/>, never directly.
/// </summary>
/// <remarks>Models the kernel's <c>struct nd_region</c> (one interleave set).</remarks>
public sealed unsafe class NvdimmRegion : IDisposable
{
    internal RegionLock Lock;
    internal readonly LineTracker Tracker;

    // The media's first byte, read once: IMedia.Pointer is an interface call, too dear for every
    // load and store. The mapping never moves while the region lives (the tracker keeps it too).
    internal readonly byte* MediaBase;

    // Read on every instruction that resolves an address or picks a persistence path: fields,
    // not IMedia.Length (an interface call) or Cost.Profile.Domain (three dependent loads).
    // Neither changes while the region lives.
    private readonly long _size;
    internal readonly bool IsAdr;
    private bool _disposed;     // under the lock
    // Orders the media's flushes (msync of an image) against its release: a crash or write-back
    // flushes after leaving the lock, and a dispose running meanwhile must not unmap the media
    // under that flush, nor may a flush start once it is unmapped.
    private readonly object _mediaGate = new();
    private bool _mediaReleased;    // under _mediaGate

    // The bytes a CPU may address: the size while the region lives, 0 once it is disposed and its
    // media released. Cpu's range check reads this instead of the size, so after a dispose every
    // address misses it and takes the slow path (PhysicalAddressSpace.Resolve), which reports the
    // release instead of loading or storing through the unmapped media. That check is made
    // before the instruction takes the region's lock, so it cannot stop one that passed it just
    // before the dispose: the dispose closes the lock as well (see Dispose), and such an
    // instruction finds the lock closed and throws the same ObjectDisposedException.
    internal long Reach;

    public NvdimmRegion(string name, IMedia media, CostProfile profile)
    {
        ArgumentNullException.ThrowIfNull(media);
        ArgumentNullException.ThrowIfNull(profile);
        if (media.Length % PhysicalAddressSpace.PageSize != 0)
            throw new ArgumentException($"region size {media.Length} is not a multiple of the page size", nameof(media));
        Name = name;
        Media = media;
        Cost = new CostModel(profile, media.Length);
        MediaBase = media.Pointer;
        _size = media.Length;
        Reach = _size;
        IsAdr = profile.Domain == PersistenceDomain.Adr;
        Tracker = new LineTracker(MediaBase, media.Length);
        Lock = RegionLock.Create(name);
        Poison = new PoisonList(media.Length);
    }

    /// <summary>Region name (region0, region1, ...).</summary>
    public string Name { get; }

    /// <summary>Index in the address space, assigned when added.</summary>
    public int Id { get; internal set; } = -1;

    // The address space the region was added to, whose CPUs' write-backs a crash of this region resolves.
    internal PhysicalAddressSpace? Space { get; set; }

    /// <summary>First physical address, assigned when added to a <see cref="PhysicalAddressSpace"/>.</summary>
    public long BaseAddress { get; internal set; } = -1;

    /// <summary>Size in bytes.</summary>
    public long Size => _size;

    /// <summary>One past the last physical address.</summary>
    public long EndAddress => BaseAddress + Size;

    /// <summary>The persisted bytes.</summary>
    public IMedia Media { get; }

    /// <summary>The cost model charging operations on this region.</summary>
    public CostModel Cost { get; }

    /// <summary>ADR or eADR, from the cost profile.</summary>
    public PersistenceDomain Domain => IsAdr ? PersistenceDomain.Adr : PersistenceDomain.Eadr;

    /// <summary>Poisoned sectors (media errors).</summary>
    public PoisonList Poison { get; }

    /// <summary>Number of lines holding stores that are not yet persistent.</summary>
    public long InFlightLineCount
    {
        get
        {
            Lock.Enter();
            try { return Tracker.DirtyLineCount; }
            finally { Lock.Exit(); }
        }
    }

    /// <summary>The most lines in flight per region before the model writes pages back on its own (32 MiB of data).</summary>
    public const long MaxInFlightLines = LineTracker.MaxInFlightLines;

    /// <summary>
    /// Lines the persistence model wrote back on its own because more than
    /// <see cref="MaxInFlightLines"/> were in flight (as a cache evicts dirty lines).
    /// </summary>
    public long EvictedLineCount
    {
        get
        {
            Lock.Enter();
            try { return Tracker.EvictedLineCount; }
            finally { Lock.Exit(); }
        }
    }

    /// <summary>True if <paramref name="physicalAddress"/> is inside this region.</summary>
    public bool Contains(long physicalAddress) => physicalAddress >= BaseAddress && physicalAddress < EndAddress;

    /// <summary>The lines not yet persistent, with their persisted content and store history, in address order.</summary>
    public IReadOnlyList<InFlightLine> InFlightLines()
    {
        Lock.Enter();
        try { return Tracker.Snapshot(BaseAddress); }
        finally { Lock.Exit(); }
    }

    /// <summary>
    /// Reads what is persistent at region offset <paramref name="offset"/>: the content a crash
    /// under <see cref="CrashPolicy.Strict"/> would leave. Does not charge the cost model.
    /// </summary>
    public void ReadPersisted(long offset, Span<byte> destination)
    {
        ThrowIfReleased();
        CheckRange(offset, destination.Length);
        Lock.Enter();
        try
        {
            // Again under the lock: a dispose may have come between the check and the entry.
            ThrowIfReleased();
            Tracker.ReadPersisted(offset, destination);
        }
        finally { Lock.Exit(); }
    }

    /// <summary>
    /// Power failure of this region: every in-flight line is left as the policy chooses, and the
    /// media then holds exactly what survived. The cost model's DIMMs come back empty and idle
    /// (write-combining buffer, media queue and read buffer drained), and the CPUs' write-backs
    /// to the region are resolved. Prefer <see cref="PhysicalAddressSpace.Crash"/>,
    /// which fails every region at once.
    /// </summary>
    public void Crash(CrashPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        CrashWith(policy.Begin());
    }

    internal void CrashWith(Func<InFlightLine, int> choose)
    {
        Lock.Enter();
        try
        {
            // A disposed region has nothing in flight (its dispose wrote everything back), so
            // nothing below touches its media; only the flush is skipped (FlushMedia).
            if (Domain == PersistenceDomain.Eadr)
                Tracker.Reset(); // caches are flushed on power failure: everything visible survives
            else
                Tracker.Crash(BaseAddress, choose);
            // Under the lock, with the tracker's reset: a CPU's thread that runs on through the
            // failure issues its next write-back after both, and its fence completes it.
            Space?.ForgetOutstanding(this);
            Cost.PowerFailure();
        }
        finally { Lock.Exit(); }
        FlushMedia();
    }

    /// <summary>Orderly shutdown of the caches: every store is written back (what an image holds after a clean exit).</summary>
    public void WriteBackAll()
    {
        Lock.Enter();
        try { Tracker.Reset(); }
        finally { Lock.Exit(); }
        FlushMedia();
    }

    // Writes the media back to its image, unless a dispose has released it (which wrote it back
    // itself). Outside the lock, so that CPUs run on while an image is written; a dispose waits
    // for the flush before it releases the media.
    private void FlushMedia()
    {
        lock (_mediaGate)
        {
            if (!_mediaReleased)
                Media.Flush();
        }
    }

    internal void CheckRange(long offset, long length)
    {
        if (offset < 0 || length < 0 || offset > Size - length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, {offset}+{length}) is outside {Name} (size {Size})");
    }

    // A disposed region's media is unmapped: an access must fail before it reaches it.
    internal void ThrowIfReleased()
    {
        if (Volatile.Read(ref Reach) == 0)
            throw new ObjectDisposedException(Name, $"{Name} at 0x{BaseAddress:x} has been disposed: its media is released");
    }

    /// <summary>
    /// Writes back every store (orderly exit) and releases the media; a CPU access to the region
    /// then throws <see cref="ObjectDisposedException"/>. Safe while other threads execute on the
    /// region: it waits for an instruction in progress to finish, and every instruction after it
    /// (or waiting for the region meanwhile) throws instead of touching the media. Safe to call
    /// more than once. A crash's or <see cref="WriteBackAll"/>'s write-back of the image in progress
    /// on another thread finishes before the media is released. Throws
    /// <see cref="LockRecursionException"/> from a load sink or store source running on the region
    /// (it would wait for its own thread).
    /// </summary>
    public void Dispose()
    {
        // The shared path: a non-CPU caller keeps the owner's bias and waits for the owner (or any
        // CPU) inside to leave; under the lock the region is marked released and the lock closed,
        // so that no instruction can enter again once the media goes.
        Lock.Enter();
        try
        {
            if (_disposed)
                return;
            _disposed = true;
            Tracker.Reset();
            Volatile.Write(ref Reach, 0);
            Lock.Close();
        }
        finally { Lock.Exit(); }
        lock (_mediaGate)
        {
            _mediaReleased = true;
            Media.Flush();
            Media.Dispose();
        }
    }
}
