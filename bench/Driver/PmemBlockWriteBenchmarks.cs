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
[MemoryDiagnoser]
public class PmemBlockWriteBenchmarks
{
    private const long Window = 16L << 20;
    private BlockBenchPlatform _platform = null!;
    private byte[] _data = null!;
    private long _next;

    /// <summary>Bytes per request.</summary>
    [Params(4096, 1 << 20)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _platform = new BlockBenchPlatform(Window);
        _data = new byte[Size];
        new Random(5).NextBytes(_data);
        _next = 0;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _platform.AssertNothingInFlight(nameof(PmemBlockWriteBenchmarks));
        _platform.Dispose();
    }

    /// <summary>The device's raw durable write: ntstore of the range, sfence.</summary>
    [Benchmark(Baseline = true)]
    public void DeviceNtStoreSfence()
    {
        long pa = _platform.BaseAddress + Next();
        _platform.Cpu.NtStore(pa, _data);
        _platform.Cpu.Sfence();
    }

    /// <summary>The device's fused durable copy (ntstore + sfence in one step), which a FUA bio uses.</summary>
    [Benchmark]
    public void DevicePersist() => _platform.Cpu.Persist(_platform.BaseAddress + Next(), _data);

    /// <summary>A FUA write bio through the driver.</summary>
    [Benchmark]
    public BlkStatus BlockWriteFua() => _platform.Device.Write(Next(), _data, BioFlags.Fua);

    private long Next()
    {
        long off = _next;
        _next = off + Size >= Window ? 0 : off + Size;
        return off;
    }
}
