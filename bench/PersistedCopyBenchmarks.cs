using BenchmarkDotNet.Attributes;
using DaxStack.Device.Cost;
using DaxStack.Device.Platform;

namespace DaxStack.Bench;

/// <summary>
/// Wall-clock cost of a bulk persisted copy with crash tracking on, against a plain
/// <see cref="Span{T}.CopyTo"/> of the same size into native memory in the same run
/// (DESIGN.md section 7: within 2x). Three ways to persist: store + clwb over the range +
/// sfence, non-temporal store + sfence, and the fused <see cref="Cpu.Persist"/>.
/// Destinations rotate over a window of at least four copies so no case copies onto a
/// destination it just wrote, and the baseline rotates the same way.
/// </summary>
[MemoryDiagnoser]
public unsafe class PersistedCopyBenchmarks
{
    private BenchPlatform _platform = null!;
    private Cpu _cpu = null!;
    private long _base;
    private byte* _source;
    private byte* _native;
    private int _window;
    private int _next;

    /// <summary>Bytes copied per operation: a page and a huge page.</summary>
    [Params(4 * 1024, 2 * 1024 * 1024)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _window = Math.Max(4 * Size, 64 * 1024);
        _platform = new BenchPlatform(_window);
        _cpu = _platform.Cpu;
        _base = _platform.BaseAddress;
        _source = _platform.AllocateSource(Size, seed: 7);
        _native = _platform.AllocateLikeMedia(_window);
        _next = 0;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _platform.AssertNothingInFlight(nameof(PersistedCopyBenchmarks));
        _platform.Dispose();
    }

    /// <summary>The machine's own copy of the same size (no persistence model).</summary>
    [Benchmark(Baseline = true)]
    public void CopyTo() => Source.CopyTo(new Span<byte>(_native + NextOffset(), Size));

    /// <summary>Store of the whole range, clwb of every line, sfence.</summary>
    [Benchmark]
    public void StoreClwbSfence()
    {
        long pa = _base + NextOffset();
        _cpu.Store(pa, Source);
        _cpu.Flush(FlushKind.Clwb, pa, Size);
        _cpu.Sfence();
    }

    /// <summary>Non-temporal store of the whole range, sfence (the kernel's memcpy_flushcache + pmem_wmb).</summary>
    [Benchmark]
    public void NtStoreSfence()
    {
        long pa = _base + NextOffset();
        _cpu.NtStore(pa, Source);
        _cpu.Sfence();
    }

    /// <summary>The fused persisted copy (libpmem's pmem_memcpy_persist shape).</summary>
    [Benchmark]
    public void FusedPersist() => _cpu.Persist(_base + NextOffset(), Source);

    private ReadOnlySpan<byte> Source => new(_source, Size);

    private int NextOffset()
    {
        int off = _next;
        _next = off + Size == _window ? 0 : off + Size;
        return off;
    }
}
