using DaxStack.Device.Cost;
using DaxStack.Device.Media;
using DaxStack.Device.Platform;

namespace DaxStack.Device.Tests.Crash;

/// <summary>An address space with one small in-memory region and one CPU, for crash tests.</summary>
internal sealed class SmallPlatform : IDisposable
{
    public SmallPlatform(CostProfile? profile = null, int size = PhysicalAddressSpace.PageSize)
    {
        Space = new PhysicalAddressSpace();
        Region = new NvdimmRegion("region0", new NativeMedia(size), profile ?? CostProfiles.OptaneAdr);
        Base = Space.AddRegion(Region);
        Cpu = Space.CreateCpu();
    }

    public PhysicalAddressSpace Space { get; }

    public NvdimmRegion Region { get; }

    /// <summary>Physical address of the region's first byte.</summary>
    public long Base { get; }

    /// <summary>The first CPU.</summary>
    public Cpu Cpu { get; }

    /// <summary>The persisted bytes of the region at <paramref name="offset"/> (the media itself once nothing is in flight).</summary>
    public byte[] Persisted(long offset, int length)
    {
        var bytes = new byte[length];
        Region.ReadPersisted(offset, bytes);
        return bytes;
    }

    /// <summary>What the first CPU loads at region offset <paramref name="offset"/>.</summary>
    public byte[] Load(long offset, int length)
    {
        var bytes = new byte[length];
        Cpu.Load(Base + offset, bytes);
        return bytes;
    }

    public void Dispose() => Space.Dispose();
}
