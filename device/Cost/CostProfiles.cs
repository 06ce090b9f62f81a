using DaxStack.Device.Persistence;

namespace DaxStack.Device.Cost;

/// <summary>
/// The built-in cost profiles. Sources: Yang et al., "An Empirical Guide to the Behavior and Use
/// of Scalable Persistent Memory", FAST'20, with the figure data the NVSL/OptaneStudy repository
/// publishes (graphs/*.csv); Izraelevitz et al., "Basic Performance Measurements of the Intel
/// Optane DC Persistent Memory Module", arXiv 1903.05714. <c>daxstack bench cost-model</c>
/// checks what the model makes of these numbers against the published figures.
/// </summary>
public static class CostProfiles
{
    /// <summary>One first-generation Optane DC PMM on an ADR platform (use <c>Dimms = 6</c> for six interleaved).</summary>
    public static CostProfile OptaneAdr { get; } = new()
    {
        Name = "optane-adr",
        Technology = "optane",
        Domain = PersistenceDomain.Adr,
        Dimms = 1,
        InterleaveBytes = 4096,         // Optane interleave sets stripe 4 KiB per DIMM (FAST'20 s.2)
        ReadLatencySequentialNs = 169,  // FAST'20 Fig. 2: 169.4 ns, idle sequential 64 B loads
        ReadLatencyRandomNs = 305,      // FAST'20 Fig. 2: 305.0 ns, idle random 64 B loads
        ReadBandwidthGBps = 6.6,        // FAST'20 Fig. 4, one DIMM (peak 6.5); 6 DIMMs 39.4 GB/s (Izraelevitz et al.)
        StoreNs = 1,                    // a store into L1 retires in a few cycles
        ClwbWriteLatencyNs = 62,        // FAST'20 Fig. 2: store+clwb+fence of one line, 62.3 ns
        NtWriteLatencyNs = 90,          // FAST'20 Fig. 2: ntstore+fence of one line, 90.4 ns
        WriteBackSlots = 6,             // FAST'20 Fig. 4, one thread: 6 lines x 64 B / 90 ns = 4.3 GB/s,
                                        // as one thread writes to 6 DIMMs (about 4.1 GB/s); see Dram too
        DimmWriteIngestNs = 24,         // FAST'20 Fig. 12: a persist costs 22.6 (ntstore) to 26.3 (store+clwb)
                                        // ns more per added line from 64 B to 4 KiB, one DIMM's stripe
        WriteBandwidthNtGBps = 2.3,     // FAST'20 Fig. 4, one DIMM, ntstore (peak 2.22)
        WriteBandwidthClwbGBps = 1.8,   // FAST'20 Fig. 4, one DIMM, store+clwb (peak 1.79)
        FlushIssueNs = 1,               // clwb/clflushopt issue; the write-back itself is asynchronous
        FenceNs = 2,                    // sfence with nothing outstanding: a few cycles
        MediaGranularity = 256,         // FAST'20 s.3: the 256-byte XPLine
        WriteCombiningBytes = 16 * 1024,// FAST'20 Fig. 9: write amplification rises past a 16 KiB hot region (the XPBuffer)
        CacheBytes = 32 << 20,          // not from the papers: the order of a server socket's last-level cache
                                        // (tens of MiB), a power of two for the direct-mapped sector model
    };

    /// <summary>
    /// The same media with eADR: caches are in the persistence domain, so flushes cost only their
    /// issue and a fence with no non-temporal stores outstanding a few ns (DESIGN.md s.9).
    /// </summary>
    public static CostProfile OptaneEadr { get; } = OptaneAdr with { Name = "optane-eadr", Domain = PersistenceDomain.Eadr };

    /// <summary>DDR4 DRAM on six interleaved channels, 64-byte granularity, no write-combining buffer.</summary>
    public static CostProfile Dram { get; } = new()
    {
        Name = "dram",
        Technology = "dram",
        Domain = PersistenceDomain.Adr,
        Dimms = 6,                      // six channels per socket, as FAST'20's machine
        InterleaveBytes = 256,          // channels interleave at fine granularity
        ReadLatencySequentialNs = 81,   // FAST'20 Fig. 2: 81.4 ns
        ReadLatencyRandomNs = 101,      // FAST'20 Fig. 2: 101.5 ns
        ReadBandwidthGBps = 105.0 / 6,  // FAST'20 Fig. 4: 105 GB/s over six channels
        StoreNs = 1,
        ClwbWriteLatencyNs = 57,        // FAST'20 Fig. 2: 57.3 ns
        NtWriteLatencyNs = 87,          // FAST'20 Fig. 2: 86.9 ns
        WriteBackSlots = 6,             // FAST'20 Fig. 4, one thread, ntstore: 4.31 GB/s x 86.9 ns / 64 B = 5.9 lines in flight
        DimmWriteIngestNs = 64 / (77.0 / 6), // a channel accepts writes at its write bandwidth (no buffer)
        WriteBandwidthNtGBps = 77.0 / 6,     // FAST'20 Fig. 4: 77 GB/s over six channels
        WriteBandwidthClwbGBps = 77.0 / 6,   // DESIGN.md s.9 gives DRAM one write bandwidth
        FlushIssueNs = 1,
        FenceNs = 2,
        MediaGranularity = 64,          // cache-line granularity: no amplification
        WriteCombiningBytes = 0,
        CacheBytes = 32 << 20,          // the same CPU as the Optane profiles
    };

    /// <summary>The built-in profiles by name.</summary>
    public static IReadOnlyList<CostProfile> BuiltIn { get; } = [OptaneAdr, OptaneEadr, Dram];

    /// <summary>Finds a built-in profile by name, or null.</summary>
    public static CostProfile? Find(string name) =>
        BuiltIn.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));
}
