using BenchmarkDotNet.Attributes;
using DaxStack.Driver.Block;

namespace DaxStack.Bench.Driver;

/// <summary>
/// Block reads through the pmem driver against loads issued on the device directly, at 4 KiB and
/// 1 MiB: the driver's overhead over the device's raw read bandwidth. Bandwidth = Size / Mean.
/// </summary>
public class PmemBlockReadBenchmarks : BlockBenchmarkBase
{
    private byte[] _buffer = null!;

    protected override void SetupBuffers() => _buffer = new byte[Size];

    /// <summary>The device's raw load of the range.</summary>
    [Benchmark(Baseline = true)]
    public void DeviceLoad() => Platform.Cpu.Load(Platform.BaseAddress + Next(), _buffer);

    /// <summary>A read bio through the driver.</summary>
    [Benchmark]
    public BlkStatus BlockRead() => Platform.Device.Read(Next(), _buffer);
}
