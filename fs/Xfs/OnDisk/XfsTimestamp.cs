namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>
/// An inode timestamp: seconds since the Unix epoch and nanoseconds. On disk it is either the
/// legacy pair of 32-bit fields (seconds, nanoseconds) or, with the bigtime feature, one 64-bit
/// count of nanoseconds since 1901-12-13 20:45:52 UTC (the smallest 32-bit time), which reaches 2486.
/// </summary>
/// <remarks>Models the kernel's <c>xfs_timestamp_t</c> with <c>xfs_inode_encode_bigtime</c> / <c>xfs_inode_from_disk_ts</c> (xfs_format.h, xfs_inode_buf.c).</remarks>
/// <param name="Seconds">Seconds since 1970-01-01 UTC (negative before).</param>
/// <param name="Nanoseconds">0 to 999 999 999.</param>
public readonly record struct XfsTimestamp(long Seconds, uint Nanoseconds)
{
    /// <summary>XFS_BIGTIME_EPOCH_OFFSET: seconds from the bigtime epoch to the Unix epoch (2^31).</summary>
    public const long BigTimeEpochOffset = 1L << 31;

    private const ulong NsPerSecond = 1_000_000_000;

    /// <summary>The earliest bigtime timestamp, 1901-12-13 20:45:52 UTC.</summary>
    public static XfsTimestamp Min => new(-BigTimeEpochOffset, 0);

    /// <summary>A timestamp for <paramref name="time"/>, truncated to nanoseconds.</summary>
    public static XfsTimestamp From(DateTimeOffset time)
    {
        long ticks = time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        long seconds = Math.DivRem(ticks, TimeSpan.TicksPerSecond, out long rem);
        if (rem < 0)
        {
            seconds--;
            rem += TimeSpan.TicksPerSecond;
        }
        return new XfsTimestamp(seconds, (uint)(rem * 100));
    }

    /// <summary>The timestamp as a point in time (to the 100 ns tick).</summary>
    public DateTimeOffset ToDateTimeOffset() =>
        DateTimeOffset.UnixEpoch.AddSeconds(Seconds).AddTicks(Nanoseconds / 100);

    /// <summary>The 64-bit on-disk value, bigtime or legacy.</summary>
    public ulong Encode(bool bigTime)
    {
        if (Nanoseconds >= NsPerSecond)
            throw new InvalidOperationException($"timestamp nanoseconds {Nanoseconds} out of range");
        if (bigTime)
        {
            if (Seconds < -BigTimeEpochOffset)
                throw new InvalidOperationException($"timestamp {Seconds} is before the bigtime epoch");
            return (ulong)(Seconds + BigTimeEpochOffset) * NsPerSecond + Nanoseconds;
        }
        if (Seconds is < int.MinValue or > int.MaxValue)
            throw new InvalidOperationException($"timestamp {Seconds} does not fit 32 bits without bigtime");
        return ((ulong)(uint)(int)Seconds << 32) | Nanoseconds;
    }

    /// <summary>Decodes the 64-bit on-disk value.</summary>
    public static XfsTimestamp Decode(ulong raw, bool bigTime)
    {
        if (bigTime)
        {
            ulong seconds = raw / NsPerSecond;
            return new XfsTimestamp((long)seconds - BigTimeEpochOffset, (uint)(raw % NsPerSecond));
        }
        return new XfsTimestamp((int)(raw >> 32), (uint)raw);
    }
}
