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
public class Persist64Benchmarks : PersistBenchmarkBase
{
    /// <summary>Bytes persisted per operation: one cache line.</summary>
    public const int Size = Cpu.LineSize;

    protected override int BytesPerOp => Size;

    /// <summary>store + clwb + sfence: the persist DESIGN.md section 7 sets the 50 ns target for.</summary>
    [Benchmark]
    public void StoreClwbSfence()
    {
        long pa = Base + NextOffset();
        Cpu.Store(pa, Source);
        Cpu.Clwb(pa);
        Cpu.Sfence();
    }
}
