using DaxStack.Device.Cost;
using DaxStack.Device.Crash;
using DaxStack.Device.Media;
using DaxStack.Device.Platform;
using DaxStack.Tests.Shared;

namespace DaxStack.Device.Tests.Platform;

/// <summary>
/// A load sink (<see cref="Cpu.LoadTo"/>) runs while its thread holds the region's lock, and a
/// store source (<see cref="Cpu.NtStoreFrom"/>) while its chunk is a store in progress, which
/// every other use of the region waits for. One that touches the same region again, through any
/// CPU or by inspecting it, must fail at once with <see cref="LockRecursionException"/>: before,
/// the owner CPU nested silently (its inner exit let other CPUs in while the outer copy ran on)
/// and any other CPU waited for its own thread for ever. Afterwards the region is as a source
/// that throws leaves it, and every CPU, on any thread, goes on using it.
/// </summary>
public class CalloutReentryTests
{
    // A guard, not a measurement: a regression must fail the test instead of hanging the run.
    private static readonly TimeSpan HangBound = TimeSpan.FromSeconds(60);

    [TestCase(false, TestName = "AStoreSourceThatStoresToItsRegionFailsAtOnce(same CPU)")]
    [TestCase(true, TestName = "AStoreSourceThatStoresToItsRegionFailsAtOnce(another CPU)")]
    public void AStoreSourceThatStoresToItsRegionFailsAtOnce(bool anotherCpu)
    {
        using var d = new DeviceFixture();
        var other = d.Space.CreateCpu();
        var inner = anotherCpu ? other : d.Cpu;
        var data = DeviceFixture.Fill(128, 0x5a);
        var source = new CallbackSource(data, () => inner.Store(d.Pa(8192), new byte[64]));

        var e = Bounded(() => Assert.Throws<LockRecursionException>(() => d.Cpu.NtStoreFrom(d.Pa(0), data.Length, source)));

        Assert.That(e!.Message, Does.Contain("region0").And.Contain("a callback may only copy bytes"));
        AssertRegionStillWorks(d);
        Assert.That(d.Load(8192, 64), Is.All.Zero, "the re-entrant store never happened");
    }

    [TestCase(false, TestName = "AStoreSourceThatStoresFromASourceIntoItsRegionFailsAtOnce(same CPU)")]
    [TestCase(true, TestName = "AStoreSourceThatStoresFromASourceIntoItsRegionFailsAtOnce(another CPU)")]
    public void AStoreSourceThatStoresFromASourceIntoItsRegionFailsAtOnce(bool anotherCpu)
    {
        using var d = new DeviceFixture();
        var other = d.Space.CreateCpu();
        var inner = anotherCpu ? other : d.Cpu;
        var data = DeviceFixture.Fill(128, 0x5a);
        // Into other pages: a store of this kind from another thread would run at the same time.
        var source = new CallbackSource(data, () => inner.NtStoreFrom(d.Pa(65536), 64, new CallbackSource(new byte[64], () => { })));

        Bounded(() => Assert.Throws<LockRecursionException>(() => d.Cpu.NtStoreFrom(d.Pa(0), data.Length, source)));

        Assert.That(d.Region.InFlightLines().Select(l => l.PhysicalAddress - d.Region.BaseAddress), Is.EqualTo(new long[] { 0, 64 }),
            "only the outer chunk is in flight (stored with its old bytes): the re-entrant store was not recorded");
        AssertRegionStillWorks(d);
    }

    [Test]
    public void AStoreSourceThatInspectsItsRegionFailsInsteadOfWaitingForItself()
    {
        using var d = new DeviceFixture();
        var source = new CallbackSource(DeviceFixture.Fill(64, 0x5a), () => d.Region.InFlightLines());

        Bounded(() => Assert.Throws<LockRecursionException>(() => d.Cpu.NtStoreFrom(d.Pa(0), 64, source)));

        AssertRegionStillWorks(d);
    }

    [TestCase(false, TestName = "ALoadSinkThatLoadsFromItsRegionFailsAtOnce(same CPU)")]
    [TestCase(true, TestName = "ALoadSinkThatLoadsFromItsRegionFailsAtOnce(another CPU)")]
    public void ALoadSinkThatLoadsFromItsRegionFailsAtOnce(bool anotherCpu)
    {
        using var d = new DeviceFixture();
        var other = d.Space.CreateCpu();
        var inner = anotherCpu ? other : d.Cpu;
        var sink = new CallbackSink(() => inner.Load(d.Pa(4096), new byte[64]));

        Bounded(() => Assert.Throws<LockRecursionException>(() => d.Cpu.LoadTo(d.Pa(0), 256, sink)));

        AssertRegionStillWorks(d);
    }

    [Test]
    public void ASinkThatInspectsItsRegionFailsInsteadOfWaitingForItself()
    {
        using var d = new DeviceFixture();
        var sink = new CallbackSink(() => d.Region.InFlightLines());

        Bounded(() => Assert.Throws<LockRecursionException>(() => d.Cpu.LoadTo(d.Pa(0), 64, sink)));

        AssertRegionStillWorks(d);
    }

    [Test]
    public void ASourceFailingOnReentryLeavesTheChunkItWasGivenStoredAsAFailingSourceDoes()
    {
        using var d = new DeviceFixture();
        var old = DeviceFixture.Fill(256, 0x11);
        d.Cpu.Persist(d.Pa(0), old);
        var other = d.Space.CreateCpu();
        var source = new CallbackSource(DeviceFixture.Fill(256, 0x22), () => other.Clwb(d.Pa(0)));

        Bounded(() => Assert.Throws<LockRecursionException>(() => d.Cpu.NtStoreFrom(d.Pa(0), 256, source)));

        // The source threw before it wrote: the chunk it was handed counts as stored with its old
        // bytes, in flight until this CPU's fence, as for any source that throws.
        Assert.That(d.Region.InFlightLineCount, Is.EqualTo(4));
        d.Cpu.Sfence();
        Assert.That(d.Region.InFlightLineCount, Is.Zero);
        Assert.That(d.Persisted(0, 256), Is.EqualTo(old));
    }

    [Test]
    public void ACallbackMayUseAnotherRegion()
    {
        using var d = new DeviceFixture();
        // The space disposes the region, and the region its media.
        var second = new NvdimmRegion("region1", new NativeMedia(1 << 20), CostProfiles.OptaneAdr);
        long secondBase = d.Space.AddRegion(second);
        var other = d.Space.CreateCpu();
        var data = DeviceFixture.Fill(64, 0x33);
        var source = new CallbackSource(data, () => other.Persist(secondBase, DeviceFixture.Fill(64, 0x44)));

        Assert.That(Bounded(() => d.Cpu.NtStoreFrom(d.Pa(0), 64, source)), Is.EqualTo(64));

        var back = new byte[64];
        other.Load(secondBase, back);
        Assert.That(back, Is.All.EqualTo(0x44));
        Assert.That(d.Load(0, 64), Is.EqualTo(data));
    }

    [Test]
    public void AnotherThreadWaitingWhileACalloutRunsIsNotTakenForAReentry()
    {
        using var d = new DeviceFixture();
        var other = d.Space.CreateCpu();
        using var inside = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var source = new CallbackSource(DeviceFixture.Fill(64, 0x55), () =>
        {
            inside.Set();
            release.Wait();
        });
        Exception? failure = null;
        var owner = new Thread(() => d.Cpu.NtStoreFrom(d.Pa(0), 64, source));
        var waiter = new Thread(() =>
        {
            try
            {
                other.Persist(d.Pa(4096), DeviceFixture.Fill(64, 0x66));
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        owner.Start();
        Assert.That(inside.Wait(HangBound), "the source was called");
        waiter.Start();
        Thread.Sleep(20);   // let the waiter reach the lock (it must wait, not throw, either way)
        release.Set();

        Assert.That(owner.Join(HangBound) && waiter.Join(HangBound), "both finish");
        Assert.That(failure, Is.Null);
        Assert.That(d.Load(4096, 64), Is.All.EqualTo(0x66));
    }

    // The region is usable afterwards: the owner enters again (its mark was not left set), another
    // CPU on another thread persists (the shared lock was not left taken), and nothing stays in flight.
    private static void AssertRegionStillWorks(DeviceFixture d)
    {
        d.Cpu.Sfence();
        Bounded(() =>
        {
            var t = new Thread(() => d.Space.CreateCpu().Persist(d.Pa(12288), DeviceFixture.Fill(64, 0x77)));
            t.Start();
            t.Join();
            d.Cpu.Store(d.Pa(16384), DeviceFixture.Fill(64, 0x78));
            d.Cpu.Clwb(d.Pa(16384));
            d.Cpu.Sfence();
            return 0;
        });
        Assert.Multiple(() =>
        {
            Assert.That(d.Persisted(12288, 64), Is.All.EqualTo(0x77));
            Assert.That(d.Persisted(16384, 64), Is.All.EqualTo(0x78));
            Assert.That(d.Region.InFlightLineCount, Is.Zero);
        });
        d.Space.Crash(CrashPolicy.Strict);
        Assert.That(d.Load(16384, 64), Is.All.EqualTo(0x78));
    }

    private static T Bounded<T>(Func<T> action) => HangGuard.Run(action, HangBound);

    private sealed class CallbackSource(byte[] data, Action callback) : IStoreSource
    {
        private int _position;

        public int CopyTo(Span<byte> destination)
        {
            callback();
            int n = Math.Min(destination.Length, data.Length - _position);
            data.AsSpan(_position, n).CopyTo(destination);
            _position += n;
            return n;
        }
    }

    private sealed class CallbackSink(Action callback) : ILoadSink
    {
        public int CopyFrom(ReadOnlySpan<byte> source)
        {
            callback();
            return source.Length;
        }
    }
}
