using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters.Json;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;

namespace DaxStack.Bench;

/// <summary>
/// The BenchmarkDotNet configuration of the device suites: BenchmarkDotNet's defaults, run in
/// process, with the full JSON report that <c>report</c> (see <see cref="Report.DeviceBenchReport"/>)
/// reads. Job characteristics given on the command line (<c>--iterationCount</c>,
/// <c>--warmupCount</c>, ...) apply on top of this job.
/// </summary>
public static class BenchConfig
{
    /// <summary>Creates the configuration.</summary>
    public static IConfig Create()
    {
        // In process: the default toolchain would generate and `dotnet build` a host project that
        // rebuilds device/ in its shared obj folder, colliding with other builds of the tree.
        // Marked as the default job so command-line job options refine it instead of adding a
        // second job beside it.
        // A 200 ms floor per iteration: on a busy 2-core machine the pilot stage, timed while
        // tiered compilation is still promoting methods, otherwise settles on iterations of a
        // few milliseconds that any other process's time slice distorts.
        var job = Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithMinIterationTime(TimeInterval.FromMilliseconds(200))
            .WithId("InProcess")
            .AsDefault();
        return ManualConfig.Create(DefaultConfig.Instance)
            .AddJob(job)
            .AddExporter(JsonExporter.Full);
    }
}
