using DaxStack.Device.Cost;
using DaxStack.Device.Hosting;
using DaxStack.Device.Media;
using DaxStack.Device.Namespaces;
using DaxStack.Driver.Hosting;
using DaxStack.Driver.Pmem;

namespace DaxStack.Fs.Tests;

/// <summary>A pmem block device on an in-memory region or an image file, for filesystem tests.</summary>
internal sealed class FsTestDevice : IDisposable
{
    private FsTestDevice(NvdimmBus bus, BusRegion region, PmemDevice device)
    {
        Bus = bus;
        Region = region;
        Device = device;
    }

    public NvdimmBus Bus { get; }

    public BusRegion Region { get; }

    public PmemDevice Device { get; }

    /// <summary>A label-less in-memory region (one raw namespace) of <paramref name="size"/> bytes.</summary>
    public static FsTestDevice InMemory(long size, int logicalBlockSize = 0)
    {
        var bus = new NvdimmBus(new CostProfileCatalog(new NvdimmOptions()));
        var region = bus.AddMemory(new NativeMedia(size));
        return Attach(bus, region, logicalBlockSize);
    }

    /// <summary>The raw namespace of the label-less image <paramref name="path"/>.</summary>
    public static FsTestDevice Image(string path, bool readOnly = false)
    {
        var bus = new NvdimmBus(new CostProfileCatalog(new NvdimmOptions()));
        var region = bus.OpenImage(path, readOnly: readOnly);
        return Attach(bus, region, 0);
    }

    private static FsTestDevice Attach(NvdimmBus bus, BusRegion region, int logicalBlockSize)
    {
        var driver = new PmemDriver(new PmemOptions { LogicalBlockSize = logicalBlockSize, QueueCount = 1 });
        return new FsTestDevice(bus, region, driver.AttachPmem(region, region.Namespaces[0]));
    }

    /// <summary>A sparse file of <paramref name="size"/> bytes at a new path in <paramref name="directory"/>.</summary>
    public static string SparseImage(string directory, string name, long size)
    {
        string path = Path.Combine(directory, name);
        using var f = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        f.SetLength(size);
        return path;
    }

    public void Dispose() => Bus.Dispose();
}
