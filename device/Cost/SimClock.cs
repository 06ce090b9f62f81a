namespace DaxStack.Device.Cost;

/// <summary>
/// Modeled time of one emulated CPU, in nanoseconds. Every device operation the CPU executes
/// charges its modeled latency here; nothing is ever spun in real time.
/// </summary>
public sealed class SimClock
{
    /// <summary>Modeled nanoseconds elapsed on this CPU.</summary>
    public double Nanoseconds { get; private set; }

    /// <summary>Charges <paramref name="ns"/> modeled nanoseconds.</summary>
    public void Advance(double ns)
    {
        if (ns > 0)
            Nanoseconds += ns;
    }

    /// <summary>Moves the clock forward to <paramref name="ns"/> if it is behind (waiting for an event).</summary>
    public void AdvanceTo(double ns)
    {
        if (ns > Nanoseconds)
            Nanoseconds = ns;
    }

    /// <summary>Sets the clock back to zero.</summary>
    public void Reset() => Nanoseconds = 0;
}
