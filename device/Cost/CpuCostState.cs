namespace DaxStack.Device.Cost;

/// <summary>
/// What the cost model remembers about one emulated CPU between operations: its clock, when
/// its outstanding write-backs complete (a fence waits for that), and where its last load
/// ended (to tell sequential from random reads).
/// </summary>
public sealed class CpuCostState
{
    /// <summary>The CPU's modeled clock.</summary>
    public SimClock Clock { get; } = new();

    /// <summary>Modeled time at which this CPU's last issued write-back reaches the persistence domain.</summary>
    public double WriteBackDoneAt { get; set; }

    /// <summary>Number of write-backs issued since the last fence.</summary>
    public int OutstandingWriteBacks { get; set; }

    /// <summary>Region-relative offset just past the last load, for sequential-read detection; -1 if none.</summary>
    public long LastLoadEnd { get; set; } = -1;
}
