namespace DaxStack.Device.Persistence;

/// <summary>Which part of the platform survives power failure.</summary>
public enum PersistenceDomain
{
    /// <summary>
    /// Asynchronous DRAM Refresh: the memory controller's write queues are persistent, CPU caches
    /// are not. A store persists only once its line is written back (clflush; clflushopt or clwb
    /// followed by a fence; a non-temporal store followed by a fence) or evicted.
    /// </summary>
    Adr,

    /// <summary>Extended ADR: CPU caches are flushed on power failure, so a visible store is persistent.</summary>
    Eadr,
}
