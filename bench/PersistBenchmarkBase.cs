using BenchmarkDotNet.Attributes;
using DaxStack.Device.Platform;

namespace DaxStack.Bench;

/// <summary>
/// What the persist suites share: an ADR region with crash tracking on (<see cref="BenchPlatform"/>),
/// a source buffer, destinations rotating over a window of at least four copies (64 KiB at least),
/// the plain <see cref="Span{T}.CopyTo"/> baseline into native memory rotating the same way, and
/// the two persist shapes that take the whole range at once (ntstore + sfence, fused Persist).
/// </summary>
[MemoryDiagnoser]
public abstract unsafe class PersistBenchmarkBase
{
    private BenchPlatform _platform = null!;
    private byte* _source;
    private byte* _native;
    private byte* _side;
    private int _size;      // BytesPerOp, read once so the timed paths make no virtual call
    private int _window;
    private int _next;

    /// <summary>The CPU the benchmarks run on.</summary>
    protected Cpu Cpu { get; private set; } = null!;

    /// <summary>Physical address of the region's first byte.</summary>
    protected long Base { get; private set; }

    /// <summary>Bytes persisted per operation.</summary>
    protected abstract int BytesPerOp { get; }

    [GlobalSetup]
    public void Setup()
    {
        _size = BytesPerOp;
        _window = Math.Max(4 * _size, 64 * 1024);
        _platform = new BenchPlatform(_window);
        Cpu = _platform.Cpu;
        Base = _platform.BaseAddress;
        _source = _platform.AllocateSource(_size, seed: 7);
        _native = _platform.AllocateLikeMedia(_window);
        _side = _platform.AllocateLikeMedia(_window);
        _next = 0;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _platform.AssertNothingInFlight(GetType().Name);
        _platform.Dispose();
    }

    /// <summary>The machine's own copy of the same size (no persistence model).</summary>
    [Benchmark(Baseline = true)]
    public void CopyTo() => Source.CopyTo(new Span<byte>(_native + NextOffset(), _size));

    /// <summary>
    /// Two plain copies, no persistence model: the destination's old bytes into a side buffer,
    /// then the new bytes over them. The copying that a store whose old content must stay
    /// recoverable until its fence implies when the media is updated in place (crash tracking in
    /// the store and ntstore cases), done the plain way; a single pass over both can do better
    /// once the range outgrows the cache. The fused persist, which no crash can split, keeps none.
    /// </summary>
    [Benchmark]
    public void TwoCopies()
    {
        int off = NextOffset();
        new ReadOnlySpan<byte>(_native + off, _size).CopyTo(new Span<byte>(_side + off, _size));
        Source.CopyTo(new Span<byte>(_native + off, _size));
    }

    /// <summary>Non-temporal store of the whole range, sfence (the kernel's memcpy_flushcache + pmem_wmb).</summary>
    [Benchmark]
    public void NtStoreSfence()
    {
        long pa = Base + NextOffset();
        Cpu.NtStore(pa, Source);
        Cpu.Sfence();
    }

    /// <summary>The fused persisted copy (libpmem's pmem_memcpy_persist shape).</summary>
    [Benchmark]
    public void FusedPersist() => Cpu.Persist(Base + NextOffset(), Source);

    /// <summary>The bytes to persist.</summary>
    protected ReadOnlySpan<byte> Source => new(_source, _size);

    /// <summary>The next destination offset in the window.</summary>
    protected int NextOffset()
    {
        int off = _next;
        _next = off + _size == _window ? 0 : off + _size;
        return off;
    }
}
