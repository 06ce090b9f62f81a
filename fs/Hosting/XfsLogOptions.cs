namespace DaxStack.Fs.Hosting;

/// <summary>
/// Settings of the XFS-like filesystem's journal, bound from the "Xfs:Log" configuration section
/// (<c>DAXSTACK_Xfs__Log__PushInterval=00:00:05</c>, <c>--Xfs:Log:PushInterval=00:00:05</c>).
/// </summary>
/// <remarks>Models the sysctl <c>fs.xfs.xfssyncd_centisecs</c> (default 3000: 30 s), the period of the kernel's <c>xfs_log_worker</c>.</remarks>
public sealed class XfsLogOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Xfs:Log";

    /// <summary>Shortest allowed <see cref="PushInterval"/> (xfssyncd_centisecs minimum, 1 centisecond).</summary>
    public static readonly TimeSpan MinPushInterval = TimeSpan.FromMilliseconds(10);

    /// <summary>Longest allowed <see cref="PushInterval"/> (xfssyncd_centisecs maximum, 720000 centiseconds: 2 hours).</summary>
    public static readonly TimeSpan MaxPushInterval = TimeSpan.FromHours(2);

    /// <summary>
    /// How often the log worker forces every mounted filesystem's CIL and writes the forced
    /// buffers home, so a committed transaction becomes durable within about this long without
    /// an fsync. Default 30 s; range 10 ms to 2 h.
    /// </summary>
    public TimeSpan PushInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The problems with these settings (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (PushInterval < MinPushInterval || PushInterval > MaxPushInterval)
            errors.Add($"Xfs:Log:PushInterval must be between {MinPushInterval} and {MaxPushInterval} (is {PushInterval})");
        return errors;
    }
}
