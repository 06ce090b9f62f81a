using System.Runtime.InteropServices;
using DaxStack.Device.Cost;
using DaxStack.Device.Media;
using DaxStack.Device.Platform;

namespace DaxStack.Bench;

/// <summary>
/// The emulated machine every device benchmark runs on: one <see cref="CostProfiles.OptaneAdr"/>
/// region over <see cref="NativeMedia"/> in a <see cref="PhysicalAddressSpace"/>, and one CPU
/// context. The region is ADR, so crash tracking is on: every store is recorded by the
/// persistence model until a write-back and a fence make it persistent.
/// </summary>
/// <remarks>
/// The constructor proves tracking is engaged (a store leaves one line in flight, clwb+sfence
/// retires it) and pre-touches the media so the first measured iteration pays no page faults.
/// The buffers it hands out are placed so that every case copies between addresses with the
/// same alignment: a copy's speed depends on where source and destination sit within a page
/// (4 KiB aliasing), and the media's own placement is the allocator's choice, so the baseline's
/// destination copies it rather than the ratio measuring the allocator.
/// </remarks>
internal sealed unsafe class BenchPlatform : IDisposable
{
    private const int PageSize = 4096;
    private readonly List<nint> _buffers = [];

    public BenchPlatform(long regionBytes)
    {
        Space = new PhysicalAddressSpace();
        Region = new NvdimmRegion("region0", new NativeMedia(regionBytes), CostProfiles.OptaneAdr);
        BaseAddress = Space.AddRegion(Region);
        Cpu = Space.CreateCpu();
        NativeMemory.Clear(Region.Media.Pointer, (nuint)regionBytes);
        VerifyCrashTracking();
    }

    /// <summary>The address space holding the region.</summary>
    public PhysicalAddressSpace Space { get; }

    /// <summary>The ADR region under test.</summary>
    public NvdimmRegion Region { get; }

    /// <summary>Physical address of the region's first byte.</summary>
    public long BaseAddress { get; }

    /// <summary>The CPU context the benchmarks execute on.</summary>
    public Cpu Cpu { get; }

    /// <summary>Throws unless the region has nothing in flight (every benchmark operation must end persisted).</summary>
    public void AssertNothingInFlight(string after)
    {
        long n = Region.InFlightLineCount;
        if (n != 0)
            throw new InvalidOperationException($"{n} lines still in flight after {after}: the benchmark does not measure a complete persist");
    }

    /// <summary>A page-aligned native buffer of <paramref name="bytes"/> (filled from <paramref name="seed"/>), freed with the platform.</summary>
    public byte* AllocateSource(int bytes, int seed)
    {
        byte* p = Allocate(bytes, 0);
        new Random(seed).NextBytes(new Span<byte>(p, bytes));
        return p;
    }

    /// <summary>A zeroed native buffer of <paramref name="bytes"/> at the media's offset within a page, freed with the platform.</summary>
    public byte* AllocateLikeMedia(int bytes) => Allocate(bytes, (int)((nuint)Region.Media.Pointer & (PageSize - 1)));

    public void Dispose()
    {
        Space.Dispose();
        foreach (var b in _buffers)
            NativeMemory.AlignedFree((void*)b);
        _buffers.Clear();
    }

    private byte* Allocate(int bytes, int pageOffset)
    {
        byte* block = (byte*)NativeMemory.AlignedAlloc((nuint)(bytes + PageSize), PageSize);
        _buffers.Add((nint)block);
        NativeMemory.Clear(block, (nuint)(bytes + PageSize));
        return block + pageOffset;
    }

    private void VerifyCrashTracking()
    {
        Span<byte> line = stackalloc byte[Cpu.LineSize];
        line.Fill(0xA5);
        Cpu.Store(BaseAddress, line);
        if (Region.InFlightLineCount != 1)
            throw new InvalidOperationException("crash tracking is off: a store to the ADR region left no line in flight");
        Cpu.Clwb(BaseAddress);
        Cpu.Sfence();
        AssertNothingInFlight("clwb+sfence");
        line.Clear();
        Cpu.Persist(BaseAddress, line);
    }
}
