namespace DaxStack.Device.Platform;

/// <summary>
/// Counts of the instructions one CPU executed and the bytes they moved. An operation on no bytes
/// (an empty load, store, non-temporal store or flush range) executes none and is not counted; a
/// fence always is.
/// </summary>
public sealed class CpuStats
{
    public long Loads;
    public long BytesLoaded;
    /// <summary>Lines loads found in the modeled cache.</summary>
    public long CacheHitLines;
    /// <summary>Lines loads had to read from the media.</summary>
    public long CacheMissLines;
    public long Stores;
    public long BytesStored;
    public long NtStores;
    public long BytesNtStored;
    public long Clflush;
    public long Clflushopt;
    public long Clwb;
    public long Sfence;
    public long Mfence;
    public long MachineChecks;

    /// <summary>Adds <paramref name="other"/>'s counts to this one.</summary>
    public void Add(CpuStats other)
    {
        Loads += other.Loads;
        BytesLoaded += other.BytesLoaded;
        CacheHitLines += other.CacheHitLines;
        CacheMissLines += other.CacheMissLines;
        Stores += other.Stores;
        BytesStored += other.BytesStored;
        NtStores += other.NtStores;
        BytesNtStored += other.BytesNtStored;
        Clflush += other.Clflush;
        Clflushopt += other.Clflushopt;
        Clwb += other.Clwb;
        Sfence += other.Sfence;
        Mfence += other.Mfence;
        MachineChecks += other.MachineChecks;
    }

    /// <summary>A copy of the current counts.</summary>
    public CpuStats Snapshot()
    {
        var s = new CpuStats();
        s.Add(this);
        return s;
    }
}
