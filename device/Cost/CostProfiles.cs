using DaxStack.Device.Persistence;

namespace DaxStack.Device.Cost;

/// <summary>
/// The built-in cost profiles. Numbers from Yang et al., "An Empirical Guide to the Behavior
/// and Use of Scalable Persistent Memory", FAST'20 (Fig. 2 idle latency, Fig. 4 bandwidth,
/// Fig. 12 persist latency), and Izraelevitz et al., arXiv 1903.05714.
/// </summary>
public static class CostProfiles
{
    /// <summary>One first-generation Optane DC PMM, ADR platform.</summary>
    public static CostProfile OptaneAdr { get; } = new()
    {
        Name = "optane-adr",
        Domain = PersistenceDomain.Adr,
        ReadLatencySequentialNs = 169,  // FAST'20 Fig. 2
        ReadLatencyRandomNs = 305,      // FAST'20 Fig. 2
        ReadBandwidthGBps = 6.6,        // FAST'20 Fig. 4, one DIMM
        ClwbWriteLatencyNs = 62,        // FAST'20 Fig. 2
        NtWriteLatencyNs = 90,          // FAST'20 Fig. 2
        WriteBandwidthNtGBps = 2.3,     // FAST'20 Fig. 4, one DIMM
        WriteBandwidthClwbGBps = 1.8,   // FAST'20 Fig. 4, one DIMM
        MediaGranularity = 256,         // FAST'20 s.3: the XPLine
        WriteCombiningBytes = 16 * 1024,// FAST'20 Fig. 9: the XPBuffer
    };

    /// <summary>The same media with eADR: caches are in the persistence domain.</summary>
    public static CostProfile OptaneEadr { get; } = OptaneAdr with { Name = "optane-eadr", Domain = PersistenceDomain.Eadr };

    /// <summary>DRAM (FAST'20 Fig. 2 and Fig. 4 DRAM columns), 64-byte granularity.</summary>
    public static CostProfile Dram { get; } = new()
    {
        Name = "dram",
        Domain = PersistenceDomain.Adr,
        ReadLatencySequentialNs = 81,
        ReadLatencyRandomNs = 101,
        ReadBandwidthGBps = 105.0 / 6,
        ClwbWriteLatencyNs = 57,
        NtWriteLatencyNs = 87,
        WriteBandwidthNtGBps = 77.0 / 6,
        WriteBandwidthClwbGBps = 77.0 / 6,
        MediaGranularity = 64,
        WriteCombiningBytes = 0,
    };

    /// <summary>The built-in profiles by name.</summary>
    public static IReadOnlyList<CostProfile> BuiltIn { get; } = [OptaneAdr, OptaneEadr, Dram];

    /// <summary>Finds a built-in profile by name, or null.</summary>
    public static CostProfile? Find(string name) =>
        BuiltIn.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));
}
