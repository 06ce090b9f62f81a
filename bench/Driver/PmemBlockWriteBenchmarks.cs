using BenchmarkDotNet.Attributes;
using DaxStack.Driver.Block;

namespace DaxStack.Bench.Driver;

/// <summary>
/// Durable block writes through the pmem driver (a FUA write bio: non-temporal stores and a
/// fence, with validation, bad-block check and queue selection) against the same instructions
/// issued on the device directly (ntstore + sfence, and the fused Persist the driver uses for the
/// last store of a FUA bio): the driver's overhead over the device's raw bandwidth, at 4 KiB and
/// 1 MiB. Bandwidth = Size / Mean.
/// </summary>
public class PmemBlockWriteBenchmarks : BlockBenchmarkBase
{
    private byte[] _data = null!;

    protected override void SetupBuffers()
    {
        _data = new byte[Size];
        new Random(5).NextBytes(_data);
    }

    protected override void CheckAfterRun() => Platform.AssertNothingInFlight(nameof(PmemBlockWriteBenchmarks));

    /// <summary>The device's raw durable write: ntstore of the range, sfence.</summary>
    [Benchmark(Baseline = true)]
    public void DeviceNtStoreSfence()
    {
        long pa = Platform.BaseAddress + Next();
        Platform.Cpu.NtStore(pa, _data);
        Platform.Cpu.Sfence();
    }

    /// <summary>The device's fused durable copy (ntstore + sfence in one step), which a FUA bio uses.</summary>
    [Benchmark]
    public void DevicePersist() => Platform.Cpu.Persist(Platform.BaseAddress + Next(), _data);

    /// <summary>A FUA write bio through the driver.</summary>
    [Benchmark]
    public BlkStatus BlockWriteFua() => Platform.Device.Write(Next(), _data, BioFlags.Fua);
}
