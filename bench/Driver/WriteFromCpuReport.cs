using System.Diagnostics;
using DaxStack.Driver.Block;

namespace DaxStack.Bench.Driver;

/// <summary>
/// <c>dotnet run -c Release --project bench -- write-from-cpu [PASSES]</c>: the CPU time the
/// driver spends per GB written in 256 KiB requests, flushed every 64 MiB, as write bios from a
/// buffer and as <see cref="IBlockDeviceWriteFrom.WriteFrom"/> (the NBD server's in-place path),
/// alternating pass by pass. CPU time (this process's, <see cref="Process.TotalProcessorTime"/>)
/// rather than wall-clock: on a shared machine it is what separates two versions of the write
/// path; <see cref="PmemWriteFromBenchmarks"/> gives the wall-clock.
/// </summary>
internal static class WriteFromCpuReport
{
    private const int RequestBytes = 256 << 10;
    private const long PassBytes = 256L << 20;
    private const long FlushEvery = 64L << 20;

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        int passes = 6;
        if (args.Length > 0 && (!int.TryParse(args[0], out passes) || passes < 1))
        {
            error.WriteLine($"write-from-cpu: '{args[0]}' is not a positive number of passes");
            return 64;
        }
        using var platform = new BlockBenchPlatform(PassBytes);
        var data = new byte[RequestBytes];
        new Random(9).NextBytes(data);
        var source = new ArraySource(data);
        var bios = new List<double>();
        var writeFrom = new List<double>();
        output.WriteLine($"write-from-cpu: {passes} passes of {PassBytes >> 20} MiB per path in {RequestBytes >> 10} KiB requests, a flush every {FlushEvery >> 20} MiB (optane-adr, crash tracking on)");
        // One untimed pass of each first: JIT tiers and the tracker's tables settle.
        for (int pass = -1; pass < passes; pass++)
        {
            double b = Pass(platform, off => platform.Device.Write(off, data, BioFlags.None));
            double w = Pass(platform, off =>
            {
                source.Rewind();
                return platform.Device.WriteFrom(off, RequestBytes, source, BioFlags.None, out _);
            });
            if (pass < 0)
                continue;
            bios.Add(b);
            writeFrom.Add(w);
            output.WriteLine($"pass {pass + 1}: write bios {b,6:F0} ms CPU/GB   WriteFrom {w,6:F0} ms CPU/GB");
        }
        bios.Sort();
        writeFrom.Sort();
        output.WriteLine($"median: write bios {bios[bios.Count / 2]:F0} ms CPU/GB, WriteFrom {writeFrom[writeFrom.Count / 2]:F0} ms CPU/GB (measured CPU time)");
        platform.AssertNothingInFlight("write-from-cpu");
        return 0;
    }

    // One pass over the device; returns ms of this process's CPU time per GB written.
    private static double Pass(BlockBenchPlatform platform, Func<long, BlkStatus> write)
    {
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var before = process.TotalProcessorTime;
        for (long off = 0; off < PassBytes; off += RequestBytes)
        {
            var status = write(off);
            if (status != BlkStatus.Ok)
                throw new InvalidOperationException($"a write at {off} failed: {status}");
            if ((off + RequestBytes) % FlushEvery == 0 && platform.Device.Flush() != BlkStatus.Ok)
                throw new InvalidOperationException("a flush failed");
        }
        process.Refresh();
        return (process.TotalProcessorTime - before).TotalMilliseconds * (1e9 / PassBytes);
    }
}
