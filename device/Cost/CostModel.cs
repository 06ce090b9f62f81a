namespace DaxStack.Device.Cost;

/// <summary>
/// Charges each device operation its modeled latency on the calling CPU's clock and counts
/// media bytes written (in media-granularity units) against bytes requested. One per region.
/// Callers hold the region lock, so the model needs no locking of its own.
/// </summary>
public sealed class CostModel
{
    public CostModel(CostProfile profile) => Profile = profile;

    /// <summary>The profile whose numbers this model charges.</summary>
    public CostProfile Profile { get; }

    /// <summary>Bytes the device actually wrote to media (whole media units).</summary>
    public long MediaBytesWritten { get; private set; }

    /// <summary>Bytes written by stores (what programs asked for).</summary>
    public long BytesRequested { get; private set; }

    public void Load(CpuCostState cpu, long offset, int length, bool cacheHit)
    {
        if (cacheHit)
        {
            cpu.Clock.Advance(Profile.CacheHitNs);
            return;
        }
        bool sequential = offset == cpu.LastLoadEnd;
        double latency = sequential ? Profile.ReadLatencySequentialNs : Profile.ReadLatencyRandomNs;
        cpu.Clock.Advance(latency + length / (Profile.ReadBandwidthGBps * Profile.Dimms));
        cpu.LastLoadEnd = offset + length;
    }

    public void Store(CpuCostState cpu, long offset, int length)
    {
        BytesRequested += length;
        cpu.Clock.Advance(Profile.StoreNs * Lines(offset, length));
    }

    public void NtStore(CpuCostState cpu, long offset, int length)
    {
        BytesRequested += length;
        cpu.Clock.Advance(Profile.StoreNs * Lines(offset, length));
        WriteBack(cpu, length, Profile.NtWriteLatencyNs, Profile.WriteBandwidthNtGBps);
    }

    public void Flush(CpuCostState cpu, FlushKind kind, long lineOffset, bool dirty)
    {
        cpu.Clock.Advance(Profile.FlushIssueNs);
        if (!dirty || Profile.Domain == Persistence.PersistenceDomain.Eadr)
            return;
        WriteBack(cpu, 64, Profile.ClwbWriteLatencyNs, Profile.WriteBandwidthClwbGBps);
        if (kind == FlushKind.Clflush)
            cpu.Clock.AdvanceTo(cpu.WriteBackDoneAt);
    }

    public void Fence(CpuCostState cpu, FenceKind kind)
    {
        cpu.Clock.Advance(Profile.FenceNs);
        cpu.Clock.AdvanceTo(cpu.WriteBackDoneAt);
        cpu.OutstandingWriteBacks = 0;
    }

    private void WriteBack(CpuCostState cpu, int bytes, double latency, double bandwidth)
    {
        MediaBytesWritten += Math.Max(bytes, Profile.MediaGranularity);
        double start = Math.Max(cpu.Clock.Nanoseconds, cpu.WriteBackDoneAt - latency);
        cpu.WriteBackDoneAt = start + latency + bytes / (bandwidth * Profile.Dimms);
        cpu.OutstandingWriteBacks++;
    }

    private static int Lines(long offset, int length) => (int)(((offset + length + 63) >> 6) - (offset >> 6));
}
