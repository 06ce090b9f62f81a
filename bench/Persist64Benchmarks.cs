using BenchmarkDotNet.Attributes;
using DaxStack.Device.Platform;

namespace DaxStack.Bench;

/// <summary>
/// Wall-clock cost of persisting one 64-byte line with crash tracking on (DESIGN.md section 7:
/// at most 50 ns, and at least 4x faster than libpmem's real <c>pmem_memcpy_persist</c> of
/// 64 B). Destinations rotate over the consecutive lines of a 64 KiB window, like a log
/// append, the same pattern the libpmem helper (bench/native/pmem_persist_bench.c) uses.
/// The baseline is a plain 64-byte <see cref="Span{T}.CopyTo"/> into native memory.
/// </summary>
[MemoryDiagnoser]
public unsafe class Persist64Benchmarks
{
    /// <summary>Bytes persisted per operation: one cache line.</summary>
    public const int Size = Cpu.LineSize;

    private const int Window = 64 * 1024;

    private BenchPlatform _platform = null!;
    private Cpu _cpu = null!;
    private long _base;
    private byte* _source;
    private byte* _native;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _platform = new BenchPlatform(Window);
        _cpu = _platform.Cpu;
        _base = _platform.BaseAddress;
        _source = _platform.AllocateSource(Size, seed: 7);
        _native = _platform.AllocateLikeMedia(Window);
        _next = 0;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _platform.AssertNothingInFlight(nameof(Persist64Benchmarks));
        _platform.Dispose();
    }

    /// <summary>The machine's own cost of moving 64 bytes (no persistence model).</summary>
    [Benchmark(Baseline = true)]
    public void CopyTo() => Source.CopyTo(new Span<byte>(_native + NextOffset(), Size));

    /// <summary>store + clwb + sfence: the persist DESIGN.md section 7 sets the 50 ns target for.</summary>
    [Benchmark]
    public void StoreClwbSfence()
    {
        long pa = _base + NextOffset();
        _cpu.Store(pa, Source);
        _cpu.Clwb(pa);
        _cpu.Sfence();
    }

    /// <summary>Non-temporal store + sfence of the same line.</summary>
    [Benchmark]
    public void NtStoreSfence()
    {
        long pa = _base + NextOffset();
        _cpu.NtStore(pa, Source);
        _cpu.Sfence();
    }

    /// <summary>The fused persist (libpmem's <c>pmem_memcpy_persist</c> shape).</summary>
    [Benchmark]
    public void FusedPersist() => _cpu.Persist(_base + NextOffset(), Source);

    private ReadOnlySpan<byte> Source => new(_source, Size);

    private int NextOffset()
    {
        int off = _next;
        _next = off + Size == Window ? 0 : off + Size;
        return off;
    }
}
