using BenchmarkDotNet.Attributes;

namespace DaxStack.Bench.Driver;

/// <summary>
/// What the block-driver suites share: a 16 MiB <see cref="BlockBenchPlatform"/>, the request
/// size parameter (4 KiB and 1 MiB) and request offsets rotating over the device.
/// </summary>
[MemoryDiagnoser]
public abstract class BlockBenchmarkBase
{
    private const long Window = 16L << 20;
    private long _next;

    /// <summary>Bytes per request.</summary>
    [Params(4096, 1 << 20)]
    public int Size { get; set; }

    /// <summary>The device under test.</summary>
    internal BlockBenchPlatform Platform { get; private set; } = null!;

    [GlobalSetup]
    public void Setup()
    {
        Platform = new BlockBenchPlatform(Window);
        _next = 0;
        SetupBuffers();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        CheckAfterRun();
        Platform.Dispose();
    }

    /// <summary>Allocates the suite's buffers once <see cref="Size"/> is known.</summary>
    protected abstract void SetupBuffers();

    /// <summary>Checks the device state after the run (nothing by default).</summary>
    protected virtual void CheckAfterRun()
    {
    }

    /// <summary>The next request offset.</summary>
    protected long Next()
    {
        long off = _next;
        _next = off + Size >= Window ? 0 : off + Size;
        return off;
    }
}
