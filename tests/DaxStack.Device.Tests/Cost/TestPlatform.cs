using DaxStack.Device.Cost;
using DaxStack.Device.Media;
using DaxStack.Device.Platform;

namespace DaxStack.Device.Tests.Cost;

/// <summary>An address space with one 1 MiB native-memory region per profile given, in that order (r0, r1, ...).</summary>
internal sealed class TestPlatform : IDisposable
{
    private readonly NvdimmRegion[] _regions;

    public TestPlatform(params CostProfile[] profiles)
    {
        _regions = new NvdimmRegion[profiles.Length];
        for (int i = 0; i < profiles.Length; i++)
        {
            _regions[i] = new NvdimmRegion($"r{i}", new NativeMedia(1 << 20), profiles[i]);
            Space.AddRegion(_regions[i]);
        }
    }

    public PhysicalAddressSpace Space { get; } = new();

    /// <summary>Region <paramref name="index"/> (named r<paramref name="index"/>).</summary>
    public NvdimmRegion this[int index] => _regions[index];

    public Cpu CreateCpu() => Space.CreateCpu();

    public void Dispose() => Space.Dispose();
}
