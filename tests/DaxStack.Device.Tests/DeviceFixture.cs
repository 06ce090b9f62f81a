using DaxStack.Device.Cost;
using DaxStack.Device.Media;
using DaxStack.Device.Platform;

namespace DaxStack.Device.Tests;

/// <summary>A one-region platform over native memory, for tests.</summary>
internal sealed class DeviceFixture : IDisposable
{
    public DeviceFixture(CostProfile? profile = null, long size = 1 << 20)
    {
        Space = new PhysicalAddressSpace();
        Region = new NvdimmRegion("region0", new NativeMedia(size), profile ?? CostProfiles.OptaneAdr);
        Space.AddRegion(Region);
        Cpu = Space.CreateCpu();
    }

    public PhysicalAddressSpace Space { get; }
    public NvdimmRegion Region { get; }
    public Cpu Cpu { get; }

    /// <summary>Physical address of region offset <paramref name="offset"/>.</summary>
    public long Pa(long offset) => Region.BaseAddress + offset;

    public byte[] Load(long offset, int length)
    {
        var b = new byte[length];
        Cpu.Load(Pa(offset), b);
        return b;
    }

    public byte[] Persisted(long offset, int length)
    {
        var b = new byte[length];
        Region.ReadPersisted(offset, b);
        return b;
    }

    public static byte[] Fill(int length, byte value) => Enumerable.Repeat(value, length).ToArray();

    public void Dispose() => Space.Dispose();
}
