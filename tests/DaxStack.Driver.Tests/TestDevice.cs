using DaxStack.Device.Cost;
using DaxStack.Device.Hosting;
using DaxStack.Device.Media;
using DaxStack.Device.Namespaces;
using DaxStack.Driver.Hosting;
using DaxStack.Driver.Pmem;

namespace DaxStack.Driver.Tests;

/// <summary>An in-memory or file-backed bus with the pmem driver attached to its first namespace.</summary>
internal sealed class TestDevice : IDisposable
{
    private TestDevice(NvdimmBus bus, BusRegion region, PmemDevice device)
    {
        Bus = bus;
        Region = region;
        Device = device;
    }

    public NvdimmBus Bus { get; }

    public BusRegion Region { get; }

    public PmemDevice Device { get; }

    public static CostProfileCatalog Catalog() => new(new NvdimmOptions());

    /// <summary>A label-less in-memory region (one raw namespace) of <paramref name="size"/> bytes.</summary>
    public static TestDevice InMemory(long size = 16 << 20, int logicalBlockSize = 0, int queues = 2, string? profile = null)
    {
        var bus = new NvdimmBus(Catalog());
        var region = bus.AddMemory(new NativeMedia(size), profile);
        return Attach(bus, region, region.Namespaces[0], logicalBlockSize, queues);
    }

    /// <summary>The first namespace of an image file.</summary>
    public static TestDevice Image(string path, bool readOnly = false, int queues = 2)
    {
        var bus = new NvdimmBus(Catalog());
        var region = bus.OpenImage(path, readOnly: readOnly);
        return Attach(bus, region, region.Namespaces[0], 0, queues);
    }

    public static TestDevice Attach(NvdimmBus bus, BusRegion region, NvdimmNamespace ns, int logicalBlockSize = 0, int queues = 2)
    {
        var driver = new PmemDriver(new PmemOptions { LogicalBlockSize = logicalBlockSize, QueueCount = queues });
        return new TestDevice(bus, region, driver.AttachPmem(region, ns));
    }

    /// <summary>The bytes the media holds durably (what a crash would leave), without disturbing the caches.</summary>
    public byte[] Persisted(long offset, int length)
    {
        var bytes = new byte[length];
        Region.Region.ReadPersisted(Device.Namespace.Offset + offset, bytes);
        return bytes;
    }

    public static byte[] Pattern(int length, int seed)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    public void Dispose() => Bus.Dispose();
}
