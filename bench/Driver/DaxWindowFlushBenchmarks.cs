using BenchmarkDotNet.Attributes;
using DaxStack.Device.Cost;
using DaxStack.Device.Hosting;
using DaxStack.Device.Media;
using DaxStack.Device.Namespaces;
using DaxStack.Device.Platform;
using DaxStack.Driver.Dax;
using DaxStack.Driver.Hosting;
using DaxStack.Driver.Pmem;

namespace DaxStack.Bench.Driver;

/// <summary>
/// Wall-clock cost of one 64-byte store + write-back + sfence through a <see cref="DaxWindow"/>
/// from <see cref="IDaxOperations.DirectAccess"/> (what the fs DAX path and flush-from-userspace
/// code pay per line), against the same three instructions straight on the device's
/// <c>Cpu</c>: with <c>Clwb</c> (the Persist64 suite's shape) and with the one-line range flush
/// <c>Flush(Clwb, pa, 64)</c> that <see cref="DaxWindow.WriteBack"/> issues. Crash tracking is on;
/// destinations rotate over the consecutive lines of a 1 MiB namespace. Every case runs on the
/// benchmark thread's own CPU (<see cref="PhysicalAddressSpace.CurrentCpu"/>, the one a window
/// executes on), so the region's lock stays biased to it in all of them.
/// </summary>
/// <remarks>
/// Not part of bench/run-device-bench.sh (its filter is <c>*Persist*</c>): run it with
/// <c>--filter '*DaxWindowFlush*'</c>.
/// </remarks>
[MemoryDiagnoser]
public class DaxWindowFlushBenchmarks
{
    private const int Bytes = 1 << 20;
    private NvdimmBus _bus = null!;
    private NvdimmRegion _region = null!;
    private Cpu _cpu = null!;
    private long _base;
    private DaxWindow _window;
    private byte[] _source = null!;
    private long _next;

    [GlobalSetup]
    public void Setup()
    {
        _bus = new NvdimmBus(new CostProfileCatalog(new NvdimmOptions()));
        var region = _bus.AddMemory(new NativeMedia(Bytes));
        var device = new PmemDriver(new PmemOptions { QueueCount = 1 }).AttachPmem(region, region.Namespaces[0]);
        if (device.DirectAccess(0, Bytes >> 12, DaxAccessMode.Access, out var extent) != 0 || extent.Window.Length != Bytes)
            throw new InvalidOperationException("DirectAccess did not hand out the whole namespace");
        _region = region.Region;
        _window = extent.Window;
        _base = extent.Window.PhysicalAddress;
        _cpu = _bus.Space.CurrentCpu;
        // Touch every page once so no timed iteration pays the first-touch page fault.
        _cpu.Persist(_base, new byte[Bytes]);
        _source = new byte[64];
        new Random(7).NextBytes(_source);
        _next = 0;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        long inFlight = _region.InFlightLineCount;
        _bus.Dispose();
        if (inFlight != 0)
            throw new InvalidOperationException($"{inFlight} lines in flight after {nameof(DaxWindowFlushBenchmarks)}: the benchmark did not measure a complete persist");
    }

    /// <summary>store + clwb + sfence on the Cpu (the Persist64 suite's StoreClwbSfence).</summary>
    [Benchmark(Baseline = true)]
    public void CpuStoreClwbSfence()
    {
        var cpu = _cpu;
        long pa = _base + Next();
        cpu.Store(pa, _source);
        cpu.Clwb(pa);
        cpu.Sfence();
    }

    /// <summary>store + a 64-byte range clwb + sfence on the Cpu: what a window issues, without the window.</summary>
    [Benchmark]
    public void CpuStoreFlush64Sfence()
    {
        var cpu = _cpu;
        long pa = _base + Next();
        cpu.Store(pa, _source);
        cpu.Flush(FlushKind.Clwb, pa, 64);
        cpu.Sfence();
    }

    /// <summary>store + WriteBack(64) + sfence through the DAX window.</summary>
    [Benchmark]
    public void WindowStoreWriteBackSfence()
    {
        long off = Next();
        _window.Store(off, _source);
        _window.WriteBack(off, 64);
        _window.Sfence();
    }

    private long Next()
    {
        long off = _next;
        _next = off + 64 == Bytes ? 0 : off + 64;
        return off;
    }
}
