using DaxStack.Device.Cost;
using DaxStack.Device.Crash;
using DaxStack.Device.Media;
using DaxStack.Device.Platform;

namespace DaxStack.Device.Tests.Platform;

/// <summary>
/// A thread's CPU (<see cref="PhysicalAddressSpace.CurrentCpu"/>) is retired once its thread has
/// ended: the platform's CPUs stay bounded in a process whose threads come and go, the space's
/// modeled time keeps what the retired CPUs were charged, and what such a CPU left in flight is
/// resolved as for any retired CPU (a crash under the strict policy loses it).
/// </summary>
public class ThreadCpuRetirementTests
{
    // Runs 'work' on a new thread and waits for the thread to end; returns the CPU it was given.
    private static Cpu OnEndedThread(PhysicalAddressSpace space, Action<Cpu> work)
    {
        Cpu? cpu = null;
        var thread = new Thread(() =>
        {
            cpu = space.CurrentCpu;
            work(cpu);
        });
        thread.Start();
        thread.Join();
        return cpu!;
    }

    // Collects until 'done' holds (the ended threads' statics, then the reapers' finalizers);
    // false if it never does.
    private static bool CollectUntil(Func<bool> done)
    {
        for (int i = 0; i < 100 && !done(); i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            if (!done())
                Thread.Sleep(10);
        }
        return done();
    }

    [Test]
    public void AThreadsCpuIsRetiredOnceTheThreadHasEndedAndItsTimeStaysCounted()
    {
        using var d = new DeviceFixture();
        var cpu = OnEndedThread(d.Space, c => c.Persist(d.Pa(0), DeviceFixture.Fill(256, 0x5A)));
        double charged = cpu.Clock.Nanoseconds;
        Assert.That(charged, Is.GreaterThan(0));
        Assert.That(CollectUntil(() => cpu.IsRetired), Is.True, "the ended thread's CPU was never retired");
        Assert.Multiple(() =>
        {
            Assert.That(d.Space.Cpus, Is.EqualTo(new[] { d.Cpu }));
            Assert.That(d.Space.ModeledNanoseconds, Is.EqualTo(charged + d.Cpu.Clock.Nanoseconds).Within(1e-6), "the retired CPU's time is still in the space's total");
            Assert.That(cpu.Stats.Stores + cpu.Stats.NtStores, Is.GreaterThan(0), "a retired CPU keeps its counters");
            Assert.That(d.Persisted(0, 256), Is.EqualTo(DeviceFixture.Fill(256, 0x5A)), "what it persisted stays persisted");
        });
        // The calling thread's own CPU is not touched.
        var mine = d.Space.CurrentCpu;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.That(mine.IsRetired, Is.False);
        Assert.DoesNotThrow(() => mine.Persist(d.Pa(512), new byte[8]));
    }

    [Test]
    public void ThreadsThatComeAndGoLeaveTheNumberOfCpusBounded()
    {
        using var d = new DeviceFixture();
        var cpus = new List<Cpu>();
        for (int i = 0; i < 300; i++)
            cpus.Add(OnEndedThread(d.Space, c => c.Store(d.Pa(i % 16 * 64), new byte[8])));
        Assert.That(CollectUntil(() => cpus.All(c => c.IsRetired)), Is.True,
            $"{cpus.Count(c => !c.IsRetired)} of 300 ended threads' CPUs still in the platform");
        Assert.That(d.Space.Cpus, Is.EqualTo(new[] { d.Cpu }));
    }

    [TestCase("strict")]
    [TestCase("all")]
    public void WhatAnEndedThreadLeftInFlightIsResolvedByTheCrashPolicy(string policy)
    {
        using var d = new DeviceFixture();
        var data = DeviceFixture.Fill(64, 0xC3);
        var cpu = OnEndedThread(d.Space, c =>
        {
            c.Store(d.Pa(0), data);
            c.Clwb(d.Pa(0));            // written back, never fenced
            c.NtStore(d.Pa(64), data);  // never fenced
        });
        Assert.That(CollectUntil(() => cpu.IsRetired), Is.True);
        Assert.That(d.Region.InFlightLineCount, Is.EqualTo(2), "the lines stay in flight");
        d.Space.Crash(policy == "strict" ? CrashPolicy.Strict : CrashPolicy.AllPersisted);
        var expected = policy == "strict" ? new byte[64] : data;
        Assert.Multiple(() =>
        {
            Assert.That(d.Persisted(0, 64), Is.EqualTo(expected));
            Assert.That(d.Persisted(64, 64), Is.EqualTo(expected));
        });
    }

    [Test]
    public void AThreadThatUsedASpaceDisposedSinceEndsWithoutHarm()
    {
        var space = new PhysicalAddressSpace();
        var region = new NvdimmRegion("region0", new NativeMedia(1 << 20), CostProfiles.OptaneAdr);
        long pa = space.AddRegion(region);
        var started = new ManualResetEventSlim();
        var release = new ManualResetEventSlim();
        Cpu? cpu = null;
        var thread = new Thread(() =>
        {
            cpu = space.CurrentCpu;
            cpu.Store(pa, new byte[8]);
            started.Set();
            release.Wait();
        });
        thread.Start();
        started.Wait();
        space.Dispose();
        release.Set();
        thread.Join();
        // The reaper finds the space disposed and leaves the CPU alone; the finalizer thread survives.
        for (int i = 0; i < 5; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        Assert.That(cpu!.IsRetired, Is.False);
        var after = new PhysicalAddressSpace();
        Assert.That(OnEndedThread(after, _ => { }).Id, Is.Zero, "a new space works as before");
        after.Dispose();
    }
}
