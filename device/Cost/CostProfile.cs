using DaxStack.Device.Persistence;

namespace DaxStack.Device.Cost;

/// <summary>
/// A named set of modeled latencies and bandwidths (nanoseconds, GB/s = bytes per ns).
/// The built-in profiles and the sources of their numbers are in <see cref="CostProfiles"/>.
/// </summary>
public sealed record CostProfile
{
    /// <summary>Profile name (optane-adr, optane-eadr, dram, or a configured one).</summary>
    public required string Name { get; init; }

    /// <summary>Which persistence domain the platform has.</summary>
    public PersistenceDomain Domain { get; init; } = PersistenceDomain.Adr;

    /// <summary>Number of interleaved DIMMs the region spans (bandwidth scales with it).</summary>
    public int Dimms { get; init; } = 1;

    /// <summary>Idle load latency, sequential access (ns).</summary>
    public double ReadLatencySequentialNs { get; init; }

    /// <summary>Idle load latency, random access (ns).</summary>
    public double ReadLatencyRandomNs { get; init; }

    /// <summary>Latency of a load that hits a line already in the CPU cache (ns).</summary>
    public double CacheHitNs { get; init; } = 1;

    /// <summary>Read bandwidth of one DIMM (GB/s).</summary>
    public double ReadBandwidthGBps { get; init; }

    /// <summary>Cost of a store instruction into the cache (ns per 64-byte line touched).</summary>
    public double StoreNs { get; init; } = 1;

    /// <summary>Write latency to the persistence domain, store+clwb+fence of one line (ns).</summary>
    public double ClwbWriteLatencyNs { get; init; }

    /// <summary>Write latency to the persistence domain, ntstore+fence of one line (ns).</summary>
    public double NtWriteLatencyNs { get; init; }

    /// <summary>Media write bandwidth of one DIMM with non-temporal stores (GB/s).</summary>
    public double WriteBandwidthNtGBps { get; init; }

    /// <summary>Media write bandwidth of one DIMM with store+clwb (GB/s).</summary>
    public double WriteBandwidthClwbGBps { get; init; }

    /// <summary>Issue cost of one flush instruction (ns).</summary>
    public double FlushIssueNs { get; init; } = 1;

    /// <summary>Cost of a fence with nothing outstanding (ns).</summary>
    public double FenceNs { get; init; } = 1;

    /// <summary>Media access unit (the XPLine): writes smaller than this are read-modify-written (bytes).</summary>
    public int MediaGranularity { get; init; } = 256;

    /// <summary>On-DIMM write-combining buffer (the XPBuffer) in bytes; 0 for none.</summary>
    public int WriteCombiningBytes { get; init; } = 16 * 1024;
}
