namespace DaxStack.Fs.Vfs;

/// <summary>A time stamp in seconds and nanoseconds since the Unix epoch.</summary>
/// <remarks>Models the kernel's <c>struct timespec64</c>.</remarks>
public readonly record struct Timespec(long Seconds, long Nanoseconds)
{
    /// <summary>The current wall-clock time (<c>current_time()</c>).</summary>
    public static Timespec Now()
    {
        long ticks = DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks;
        return new Timespec(ticks / TimeSpan.TicksPerSecond, ticks % TimeSpan.TicksPerSecond * 100);
    }
}
