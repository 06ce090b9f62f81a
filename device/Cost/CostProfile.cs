using System.Globalization;
using DaxStack.Device.Persistence;

namespace DaxStack.Device.Cost;

/// <summary>
/// A named set of modeled latencies, bandwidths and sizes that <see cref="CostModel"/> charges
/// (nanoseconds; GB/s, which is bytes per nanosecond; bytes). The built-in profiles and the
/// sources of their numbers are in <see cref="CostProfiles"/>. Per-DIMM values describe one
/// DIMM (or one DRAM channel); a region spanning <see cref="Dimms"/> interleaved DIMMs has that
/// many of each.
/// </summary>
/// <remarks>
/// Custom profiles are built from a built-in one by setting properties by name (see
/// <see cref="CostProfileCatalog"/>), so every setting here is a plain property with a default.
/// <see cref="Validate"/> states which values are allowed; <see cref="CostModel"/> calls it.
/// </remarks>
public sealed record CostProfile
{
    /// <summary>Largest <see cref="WriteBackSlots"/> a profile may ask for.</summary>
    public const int MaxWriteBackSlots = 64;

    /// <summary>Largest <see cref="Dimms"/> a profile may ask for (the model keeps state for each DIMM).</summary>
    public const int MaxDimms = 64;

    /// <summary>
    /// Largest <see cref="WriteCombiningBytes"/> (64 MiB, 4096 times Optane's XPBuffer): the model
    /// keeps an entry for every unit the buffer holds on every DIMM, so a larger buffer could pass
    /// validation and then not fit in memory when a region is made.
    /// </summary>
    public const int MaxWriteCombiningBytes = 64 << 20;

    /// <summary>
    /// Most write-combining buffer units a region's DIMMs may hold together (<see cref="Dimms"/>
    /// times <see cref="WriteCombiningBytes"/> / <see cref="MediaGranularity"/>): the model keeps
    /// about 40 bytes for each, some 40 MiB per region at this size. Each limit alone allows 64
    /// DIMMs of a million units, which would need gigabytes.
    /// </summary>
    public const int MaxBufferedUnits = 1 << 20;

    /// <summary>
    /// Largest <see cref="CacheBytes"/> (256 MiB): the model keeps 12 bytes for every 4 KiB the
    /// cache can hold of each region, 768 KiB of bookkeeping per region at this size.
    /// </summary>
    public const int MaxCacheBytes = 256 << 20;

    /// <summary>
    /// Largest value of a setting in nanoseconds (one second). Larger values, finite as they may be,
    /// overflow the clocks to infinity within a few operations.
    /// </summary>
    public const double MaxSettingNs = 1e9;

    /// <summary>
    /// Smallest bandwidth a profile may ask for (GB/s, 1 KB/s): a line or media unit then takes a
    /// finite time that a clock can add up for as long as any program runs, where a bandwidth near
    /// zero would make one line take an infinite time.
    /// </summary>
    public const double MinBandwidthGBps = 1e-6;

    /// <summary>Profile name (optane-adr, optane-eadr, dram, or a configured one).</summary>
    public required string Name { get; init; }

    /// <summary>
    /// The memory technology modeled, which names the published measurements the profile is checked
    /// against by <c>daxstack bench cost-model</c>: "optane" or "dram", in any case (other values have none). Default "optane".
    /// </summary>
    public string Technology { get; init; } = "optane";

    /// <summary>Which persistence domain the platform has. Default ADR.</summary>
    public PersistenceDomain Domain { get; init; } = PersistenceDomain.Adr;

    /// <summary>Number of interleaved DIMMs (or memory channels) the region spans, 1 to <see cref="MaxDimms"/>. Bandwidth scales with it. Default 1.</summary>
    public int Dimms { get; init; } = 1;

    /// <summary>Interleave granularity across <see cref="Dimms"/> (bytes, a power of two of at least 256). Default 4096.</summary>
    public int InterleaveBytes { get; init; } = 4096;

    /// <summary>Idle latency of a load that continues a sequential stream (ns, first 64-byte line).</summary>
    public double ReadLatencySequentialNs { get; init; }

    /// <summary>Idle latency of a load to a random address (ns, first 64-byte line).</summary>
    public double ReadLatencyRandomNs { get; init; }

    /// <summary>Latency of a load that hits a line held in the CPU cache (ns per 64-byte line). Default 1.</summary>
    public double CacheHitNs { get; init; } = 1;

    /// <summary>
    /// The CPU's last-level cache as the cost model sees it (bytes; 0 for none, so that every load
    /// goes to the media; otherwise a power of two from 4096 to <see cref="MaxCacheBytes"/>): lines
    /// loaded or stored stay cached, and later loads of them cost <see cref="CacheHitNs"/>, until
    /// clflush, clflushopt, a non-temporal store, a line of another page that takes their page's
    /// place (the model is a direct-mapped cache of 4 KiB sectors) or a power failure removes them.
    /// Default 32 MiB.
    /// </summary>
    public int CacheBytes { get; init; } = 32 << 20;

    /// <summary>Read bandwidth of one DIMM (GB/s): the rate at which the lines after the first of a load stream in.</summary>
    public double ReadBandwidthGBps { get; init; }

    /// <summary>Cost of a store instruction into the cache (ns per 64-byte line touched). Default 1.</summary>
    public double StoreNs { get; init; } = 1;

    /// <summary>Idle time for a clwb/clflushopt/clflush write-back of one dirty line to reach the persistence domain (ns).</summary>
    public double ClwbWriteLatencyNs { get; init; }

    /// <summary>Idle time for a non-temporal store of one line to reach the persistence domain (ns).</summary>
    public double NtWriteLatencyNs { get; init; }

    /// <summary>
    /// Write-backs one CPU can have in flight towards the persistence domain (its fill / write-combining
    /// buffers); a further flush or non-temporal store waits for the oldest to land. 1 to
    /// <see cref="MaxWriteBackSlots"/>. Default 6.
    /// </summary>
    public int WriteBackSlots { get; init; } = 6;

    /// <summary>
    /// Time one DIMM takes to accept one 64-byte write into its write-combining buffer (ns): the
    /// rate at which a single persist larger than a few lines proceeds when the buffer has room.
    /// </summary>
    public double DimmWriteIngestNs { get; init; }

    /// <summary>Media write bandwidth of one DIMM for lines written by non-temporal stores (GB/s).</summary>
    public double WriteBandwidthNtGBps { get; init; }

    /// <summary>
    /// Media write bandwidth of one DIMM for lines written back by clwb/clflushopt/clflush (GB/s).
    /// Lower than <see cref="WriteBandwidthNtGBps"/> on Optane: a store stream also reads every line
    /// for ownership before it can be written back.
    /// </summary>
    public double WriteBandwidthClwbGBps { get; init; }

    /// <summary>Issue cost of one flush instruction (ns). Default 1.</summary>
    public double FlushIssueNs { get; init; } = 1;

    /// <summary>
    /// Cost of a fence beyond waiting for outstanding write-backs (ns). A CPU with write-backs
    /// outstanding to several regions pays the largest of their profiles' values; with none
    /// outstanding, the smallest of the platform's. Default 2.
    /// </summary>
    public double FenceNs { get; init; } = 2;

    /// <summary>Media access unit, the XPLine on Optane (bytes, a power of two from 64 to <see cref="InterleaveBytes"/>): a write of less costs a whole unit. Default 256.</summary>
    public int MediaGranularity { get; init; } = 256;

    /// <summary>On-DIMM write-combining buffer, the XPBuffer on Optane (bytes, a multiple of <see cref="MediaGranularity"/> up to <see cref="MaxWriteCombiningBytes"/>; 0 for none). Default 16 KiB.</summary>
    public int WriteCombiningBytes { get; init; } = 16 * 1024;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting that the model cannot use.</summary>
    public void Validate()
    {
        Require(Enum.IsDefined(Domain), nameof(Domain), "must be Adr or Eadr");
        Require(Dimms is >= 1 and <= MaxDimms, nameof(Dimms), $"must be from 1 to {MaxDimms}");
        Require(InterleaveBytes >= 256 && IsPowerOfTwo(InterleaveBytes), nameof(InterleaveBytes), "must be a power of two of at least 256");
        Require(MediaGranularity >= 64 && IsPowerOfTwo(MediaGranularity) && MediaGranularity <= InterleaveBytes,
            nameof(MediaGranularity), "must be a power of two from 64 to InterleaveBytes");
        Require(WriteCombiningBytes >= 0 && WriteCombiningBytes <= MaxWriteCombiningBytes && WriteCombiningBytes % MediaGranularity == 0,
            nameof(WriteCombiningBytes), $"must be a multiple of MediaGranularity from 0 to {MaxWriteCombiningBytes} (64 MiB)");
        if (Dimms is >= 1 and <= MaxDimms && MediaGranularity >= 64 && WriteCombiningBytes is >= 0 and <= MaxWriteCombiningBytes)
        {
            long units = (long)Dimms * (WriteCombiningBytes / MediaGranularity);
            Require(units <= MaxBufferedUnits, nameof(WriteCombiningBytes),
                $"with {Dimms} Dimms and a MediaGranularity of {MediaGranularity} makes {units} buffer units, more than the {MaxBufferedUnits} the model keeps per region");
        }
        Require(CacheBytes == 0 || (CacheBytes >= 4096 && CacheBytes <= MaxCacheBytes && IsPowerOfTwo(CacheBytes)),
            nameof(CacheBytes), $"must be 0 or a power of two from 4096 to {MaxCacheBytes} (256 MiB)");
        Require(WriteBackSlots is >= 1 and <= MaxWriteBackSlots, nameof(WriteBackSlots), $"must be from 1 to {MaxWriteBackSlots}");
        foreach (var (value, name) in new[]
        {
            (ReadBandwidthGBps, nameof(ReadBandwidthGBps)), (WriteBandwidthNtGBps, nameof(WriteBandwidthNtGBps)),
            (WriteBandwidthClwbGBps, nameof(WriteBandwidthClwbGBps)),
        })
            Require(value >= MinBandwidthGBps && double.IsFinite(value), name,
                string.Create(CultureInfo.InvariantCulture, $"must be a finite number of GB/s of at least {MinBandwidthGBps:0e0}"));
        foreach (var (value, name) in new[]
        {
            (ReadLatencySequentialNs, nameof(ReadLatencySequentialNs)), (ReadLatencyRandomNs, nameof(ReadLatencyRandomNs)),
            (CacheHitNs, nameof(CacheHitNs)), (StoreNs, nameof(StoreNs)), (ClwbWriteLatencyNs, nameof(ClwbWriteLatencyNs)),
            (NtWriteLatencyNs, nameof(NtWriteLatencyNs)), (DimmWriteIngestNs, nameof(DimmWriteIngestNs)),
            (FlushIssueNs, nameof(FlushIssueNs)), (FenceNs, nameof(FenceNs)),
        })
            Require(value is >= 0 and <= MaxSettingNs, name,
                string.Create(CultureInfo.InvariantCulture, $"must be a number of nanoseconds from 0 to {MaxSettingNs:0e0}"));
    }

    private void Require(bool ok, string setting, string rule)
    {
        if (!ok)
            throw new ArgumentException($"cost profile '{Name}': {setting} {rule}");
    }

    private static bool IsPowerOfTwo(int v) => v > 0 && (v & (v - 1)) == 0;
}
