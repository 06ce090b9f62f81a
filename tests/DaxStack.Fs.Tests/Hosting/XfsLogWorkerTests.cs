using DaxStack.Device.Crash;
using DaxStack.Fs.Hosting;
using DaxStack.Fs.Tests.Xfs.Mount;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace DaxStack.Fs.Tests.Hosting;

/// <summary>AddXfsLike and the log worker: options bound and validated, mounts registered, committed transactions made durable without any force.</summary>
public class XfsLogWorkerTests
{
    private static IHost BuildHost(string? interval, Action<XfsLogOptions>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        if (interval != null)
            builder.Configuration.AddInMemoryCollection([new("Xfs:Log:PushInterval", interval)]);
        builder.Services.AddXfsLike(configure);
        return builder.Build();
    }

    [Test]
    public void ThePushIntervalDefaultsTo30SecondsAndBindsFromXfsLog()
    {
        using (var host = BuildHost(null))
            Assert.That(host.Services.GetRequiredService<IOptions<XfsLogOptions>>().Value.PushInterval, Is.EqualTo(TimeSpan.FromSeconds(30)));
        using (var host = BuildHost("00:00:05"))
            Assert.That(host.Services.GetRequiredService<IOptions<XfsLogOptions>>().Value.PushInterval, Is.EqualTo(TimeSpan.FromSeconds(5)));
    }

    [Test]
    public void AnIntervalOutOfRangeFailsTheHostStartNamingTheSetting()
    {
        using var host = BuildHost("00:00:00");
        var e = Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.That(e!.Message, Does.Contain("Xfs:Log:PushInterval"));
    }

    [Test]
    public void AddingItTwiceRegistersOneWorkerAndOneRegistry()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddLogging();
        services.AddXfsLike();
        services.AddXfsLike();
        using var sp = services.BuildServiceProvider();
        Assert.Multiple(() =>
        {
            Assert.That(sp.GetServices<IHostedService>().Count(), Is.EqualTo(1));
            Assert.That(sp.GetServices<XfsMountRegistry>().Count(), Is.EqualTo(1));
            Assert.That(sp.GetServices<IHostedService>().Single(), Is.SameAs(sp.GetRequiredService<XfsLogWorker>()));
        });
    }

    [Test]
    public async Task ACommittedTransactionBecomesDurableWithinAPushIntervalWithoutAForce()
    {
        using var fs = MountedFs.Create();
        using var host = BuildHost("00:00:00.050");
        var registry = host.Services.GetRequiredService<XfsMountRegistry>();
        var worker = host.Services.GetRequiredService<XfsLogWorker>();
        registry.Register(fs.Mount);
        await host.StartAsync();
        var (ino, seq) = fs.AllocateInode();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (fs.Mount.ForcedSequence < seq && DateTime.UtcNow < deadline)
            await Task.Delay(20);
        await host.StopAsync();
        Assert.That(worker.Rounds, Is.Positive, "the worker ran");
        Assert.That(fs.Mount.ForcedSequence, Is.GreaterThanOrEqualTo(seq), "the worker forced the log");
        fs.CrashAndRemount(CrashPolicy.Strict);
        Assert.That(fs.IsAllocated(ino), Is.True);
    }

    [Test]
    public async Task BeforeTheFirstPushAStrictCrashLosesTheCommit()
    {
        using var fs = MountedFs.Create();
        using var host = BuildHost("01:00:00");
        host.Services.GetRequiredService<XfsMountRegistry>().Register(fs.Mount);
        await host.StartAsync();
        var (ino, _) = fs.AllocateInode();
        await Task.Delay(200);
        long rounds = host.Services.GetRequiredService<XfsLogWorker>().Rounds;
        await host.StopAsync();
        Assert.That(rounds, Is.Zero);
        fs.CrashAndRemount(CrashPolicy.Strict);
        Assert.That(fs.IsAllocated(ino), Is.False);
    }

    [Test]
    public void APushWritesForcedBuffersHomeAndUnmountLeavesTheRegistry()
    {
        using var fs = MountedFs.Create();
        using var host = BuildHost(null);
        var registry = host.Services.GetRequiredService<XfsMountRegistry>();
        var worker = host.Services.GetRequiredService<XfsLogWorker>();
        registry.Register(fs.Mount);
        fs.AllocateInode();
        worker.PushAll();
        Assert.Multiple(() =>
        {
            Assert.That(fs.Mount.Log!.PinnedBuffers, Is.Zero, "everything went home");
            Assert.That(fs.Mount.Log.Checkpoints, Is.EqualTo(1));
        });
        fs.Mount.Unmount();
        Assert.That(registry.Mounts, Is.Empty);
        worker.PushAll();
    }
}
