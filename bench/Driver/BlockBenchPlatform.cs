using DaxStack.Device.Cost;
using DaxStack.Device.Hosting;
using DaxStack.Device.Media;
using DaxStack.Device.Namespaces;
using DaxStack.Device.Platform;
using DaxStack.Driver.Hosting;
using DaxStack.Driver.Pmem;

namespace DaxStack.Bench.Driver;

/// <summary>
/// An in-memory optane-adr namespace (crash tracking on) with the pmem driver attached, one
/// submission queue, and a CPU of the same address space for the raw-device baselines.
/// </summary>
internal sealed class BlockBenchPlatform : IDisposable
{
    private readonly NvdimmBus _bus;

    public BlockBenchPlatform(long bytes)
    {
        _bus = new NvdimmBus(new CostProfileCatalog(new NvdimmOptions()));
        var region = _bus.AddMemory(new NativeMedia(bytes));
        Device = new PmemDriver(new PmemOptions { QueueCount = 1 }).AttachPmem(region, region.Namespaces[0]);
        Cpu = _bus.Space.CreateCpu();
        BaseAddress = Device.Namespace.PhysicalAddress;
        Region = region.Region;
        // Touch every page once so no timed iteration pays the first-touch page fault.
        var zero = new byte[1 << 20];
        for (long off = 0; off < bytes; off += zero.Length)
            Cpu.Persist(BaseAddress + off, zero);
    }

    public PmemDevice Device { get; }

    public Cpu Cpu { get; }

    public long BaseAddress { get; }

    public NvdimmRegion Region { get; }

    public void AssertNothingInFlight(string after)
    {
        if (Region.InFlightLineCount != 0)
            throw new InvalidOperationException($"{Region.InFlightLineCount} lines in flight after {after}: the benchmark did not measure a durable write");
    }

    public void Dispose() => _bus.Dispose();
}
