using BenchmarkDotNet.Attributes;
using DaxStack.Driver.Block;

namespace DaxStack.Bench.Driver;

/// <summary>
/// Block reads through the pmem driver against loads issued on the device directly, at 4 KiB and
/// 1 MiB: the driver's overhead over the device's raw read bandwidth. Bandwidth = Size / Mean.
/// </summary>
[MemoryDiagnoser]
public class PmemBlockReadBenchmarks
{
    private const long Window = 16L << 20;
    private BlockBenchPlatform _platform = null!;
    private byte[] _buffer = null!;
    private long _next;

    /// <summary>Bytes per request.</summary>
    [Params(4096, 1 << 20)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _platform = new BlockBenchPlatform(Window);
        _buffer = new byte[Size];
        _next = 0;
    }

    [GlobalCleanup]
    public void Cleanup() => _platform.Dispose();

    /// <summary>The device's raw load of the range.</summary>
    [Benchmark(Baseline = true)]
    public void DeviceLoad() => _platform.Cpu.Load(_platform.BaseAddress + Next(), _buffer);

    /// <summary>A read bio through the driver.</summary>
    [Benchmark]
    public BlkStatus BlockRead() => _platform.Device.Read(Next(), _buffer);

    private long Next()
    {
        long off = _next;
        _next = off + Size >= Window ? 0 : off + Size;
        return off;
    }
}
