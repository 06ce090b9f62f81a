namespace DaxStack.Device.Cost;

/// <summary>
/// What the cost model remembers about one emulated CPU between operations: its clock, its
/// write-backs in flight (a fence waits for the last of them; a new one waits for a free slot),
/// and where its last load ended (to tell sequential from random reads). The state is the CPU's,
/// shared by every region it touches; each region's <see cref="CostModel"/> keeps its own DIMMs.
/// </summary>
public sealed class CpuCostState
{
    // When each of the last CostProfile.MaxWriteBackSlots write-backs reached the persistence
    // domain, as a ring: a write-back may start once the one WriteBackSlots before it has landed.
    internal readonly double[] SlotFreeAt = new double[CostProfile.MaxWriteBackSlots];
    internal long WriteBacksIssued;
    internal CostModel? LastLoadModel;

    /// <summary>The CPU's modeled clock.</summary>
    public SimClock Clock { get; } = new();

    /// <summary>
    /// After a power failure resolved every write-back this CPU had in flight: none is left to wait
    /// for, neither by a fence nor for a write-back slot. Landing times past the clock are brought
    /// back to it (the ring stays in issue order: earlier entries are at or before the clock).
    /// </summary>
    internal void ForgetWriteBacksInFlight()
    {
        double now = Clock.Nanoseconds;
        if (WriteBackDoneAt > now)
            WriteBackDoneAt = now;
        var slots = SlotFreeAt;
        for (int i = 0; i < slots.Length; i++)
        {
            if (slots[i] > now)
                slots[i] = now;
        }
    }

    /// <summary>
    /// After a power failure of the DIMMs behind <see cref="LastLoadModel"/> (or of every DIMM, when
    /// <paramref name="model"/> is null): their read buffers came back empty, so the next load is
    /// not a sequential one.
    /// </summary>
    internal void ForgetLastLoad(CostModel? model = null)
    {
        if (model != null && !ReferenceEquals(LastLoadModel, model))
            return;
        LastLoadEnd = -1;
        LastLoadModel = null;
    }

    /// <summary>Modeled time at which the last of this CPU's issued write-backs reaches the persistence domain.</summary>
    public double WriteBackDoneAt { get; set; }

    /// <summary>
    /// Number of write-backs issued since the last fence. Only a fence or a power failure brings it
    /// down (write-backs that complete early, past the CPU's or the tracker's limits, stay counted),
    /// so a long stream without a fence may pass 2^31: a long.
    /// </summary>
    public long OutstandingWriteBacks { get; set; }

    /// <summary>Region-relative offset just past the last load, for sequential-read detection; -1 if none.</summary>
    public long LastLoadEnd { get; set; } = -1;
}
