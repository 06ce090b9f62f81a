using BenchmarkDotNet.Attributes;
using DaxStack.Driver.Block;

namespace DaxStack.Bench.Driver;

/// <summary>
/// A burst of large writes followed by one flush, as an NBD client streams them: the burst's
/// bytes in 256 KiB requests, each written either by a write bio from a buffer (the NBD server's
/// buffered path) or received straight into the device (<see cref="IBlockDeviceWriteFrom"/>, its
/// in-place path, here from a memory source), then a flush bio. With crash tracking on, every
/// request keeps the old bytes of its range until the flush, so a longer burst keeps more of them.
/// Bandwidth = Burst / Mean; the WriteFrom case is what the in-place path costs the server.
/// </summary>
[MemoryDiagnoser]
public class PmemWriteFromBenchmarks
{
    private const int RequestBytes = 256 << 10;
    private const long Window = 128L << 20;
    private BlockBenchPlatform _platform = null!;
    private byte[] _data = null!;
    private ArraySource _source = null!;
    private long _next;

    /// <summary>Bytes written between flushes: 8 MiB (fio's 1 MiB writes, fsync every 8) or 64 MiB (a long copy).</summary>
    [Params(8 << 20, 64 << 20)]
    public int Burst { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _platform = new BlockBenchPlatform(Window);
        _data = new byte[RequestBytes];
        new Random(9).NextBytes(_data);
        _source = new ArraySource(_data);
        _next = 0;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _platform.AssertNothingInFlight(nameof(PmemWriteFromBenchmarks));
        _platform.Dispose();
    }

    /// <summary>Write bios from a buffer, then a flush.</summary>
    [Benchmark(Baseline = true)]
    public BlkStatus WriteBios()
    {
        var device = _platform.Device;
        for (int done = 0; done < Burst; done += RequestBytes)
        {
            var status = device.Write(Next(), _data, BioFlags.None);
            if (status != BlkStatus.Ok)
                return status;
        }
        return device.Flush();
    }

    /// <summary>The same requests received straight into the device, then a flush.</summary>
    [Benchmark]
    public BlkStatus WriteFrom()
    {
        var device = _platform.Device;
        for (int done = 0; done < Burst; done += RequestBytes)
        {
            _source.Rewind();
            var status = device.WriteFrom(Next(), RequestBytes, _source, BioFlags.None, out _);
            if (status != BlkStatus.Ok)
                return status;
        }
        return device.Flush();
    }

    private long Next()
    {
        long off = _next;
        _next = off + RequestBytes >= Window ? 0 : off + RequestBytes;
        return off;
    }
}
