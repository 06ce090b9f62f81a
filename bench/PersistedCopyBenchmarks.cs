using BenchmarkDotNet.Attributes;
using DaxStack.Device.Cost;

namespace DaxStack.Bench;

/// <summary>
/// Wall-clock cost of a bulk persisted copy with crash tracking on, against a plain
/// <see cref="Span{T}.CopyTo"/> of the same size into native memory in the same run
/// (DESIGN.md section 7: within 2x). Three ways to persist: store + clwb over the range +
/// sfence, non-temporal store + sfence, and the fused <see cref="Device.Platform.Cpu.Persist"/>.
/// Destinations rotate over a window of at least four copies so no case copies onto a
/// destination it just wrote, and the baseline rotates the same way.
/// </summary>
public class PersistedCopyBenchmarks : PersistBenchmarkBase
{
    /// <summary>Bytes copied per operation: a page and a huge page.</summary>
    [Params(4 * 1024, 2 * 1024 * 1024)]
    public int Size { get; set; }

    protected override int BytesPerOp => Size;

    /// <summary>Store of the whole range, clwb of every line, sfence.</summary>
    [Benchmark]
    public void StoreClwbSfence()
    {
        long pa = Base + NextOffset();
        Cpu.Store(pa, Source);
        Cpu.Flush(FlushKind.Clwb, pa, Size);
        Cpu.Sfence();
    }
}
