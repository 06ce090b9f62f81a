using DaxStack.Device.Cost;
using DaxStack.Device.Hosting;
using DaxStack.Device.Media;
using DaxStack.Device.Namespaces;
using DaxStack.Driver.Pmem;

namespace DaxStack.Driver.Tests.Nbd;

/// <summary>A small in-memory pmem device for tests that need a device but no server; disposing releases its bus.</summary>
internal sealed class NbdDeviceHolder : IDisposable
{
    private readonly NvdimmBus _bus = new(new CostProfileCatalog(new NvdimmOptions()));

    public NbdDeviceHolder(long size = 1 << 20)
    {
        var region = _bus.AddMemory(new NativeMedia(size));
        Device = new PmemDriver().AttachPmem(region, region.Namespaces[0]);
    }

    public PmemDevice Device { get; }

    public void Dispose() => _bus.Dispose();
}
