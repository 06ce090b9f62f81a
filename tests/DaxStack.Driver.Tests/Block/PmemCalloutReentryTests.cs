using DaxStack.Device.Media;
using DaxStack.Device.Namespaces;
using DaxStack.Device.Platform;
using DaxStack.Driver.Block;
using DaxStack.Driver.Dax;
using DaxStack.Driver.Pmem;
using DaxStack.Tests.Shared;

namespace DaxStack.Driver.Tests.Block;

/// <summary>
/// The source of <see cref="IBlockDeviceWriteFrom.WriteFrom"/> and the sink of
/// <see cref="IBlockDeviceReadTo.ReadTo"/> run while the device holds a queue and its region's
/// lock. I/O they submit to a device of the same region, or a DAX access they make to it, fails
/// at once with <see cref="LockRecursionException"/>: before, it nested silently on the region
/// lock (letting other CPUs in while the outer copy ran on) or waited for its own thread for
/// ever. The device is unharmed and every thread goes on using it.
/// </summary>
public class PmemCalloutReentryTests
{
    // A guard, not a measurement: a regression must fail the test instead of hanging the run.
    private static readonly TimeSpan HangBound = TimeSpan.FromSeconds(60);

    public enum Inner { WriteBio, ReadBio, FlushBio, FuaWriteBio, WriteFrom, ReadTo, DaxStore }

    private static void Submit(PmemDevice device, Inner inner)
    {
        var block = new byte[4096];
        switch (inner)
        {
            case Inner.WriteBio: device.Write(1 << 20, block); break;
            case Inner.ReadBio: device.Read(1 << 20, block); break;
            case Inner.FlushBio: device.Flush(); break;
            case Inner.FuaWriteBio: device.Write(1 << 20, block, BioFlags.Fua); break;
            case Inner.WriteFrom: device.WriteFrom(1 << 20, 4096, new BufferStoreSource(block), BioFlags.None, out _); break;
            case Inner.ReadTo: device.ReadTo(1 << 20, 4096, new BufferLoadSink(), out _); break;
            default:
                device.DirectAccess(256, 1, DaxAccessMode.Access, out var extent);
                extent.Window.Persist(0, block);
                break;
        }
    }

    [Test]
    public void IoFromAWriteFromSourceToTheSameDeviceFailsAtOnce([Values(1, 2)] int queues, [Values] Inner inner)
    {
        using var t = TestDevice.InMemory(queues: queues);
        var data = TestDevice.Pattern(8192, 1);
        var source = new CallbackSource(data, () => Submit(t.Device, inner));

        var e = Bounded(() => Assert.Throws<LockRecursionException>(() => t.Device.WriteFrom(0, data.Length, source, BioFlags.None, out _)));

        Assert.That(e!.Message, Does.Contain(inner == Inner.DaxStore ? "region0" : "pmem0").And.Contain("only copy bytes"));
        AssertDeviceStillWorks(t);
    }

    [Test]
    public void IoFromAReadToSinkToTheSameDeviceFailsAtOnce([Values(1, 2)] int queues, [Values] Inner inner)
    {
        using var t = TestDevice.InMemory(queues: queues);
        var sink = new CallbackSink(() => Submit(t.Device, inner));

        Bounded(() => Assert.Throws<LockRecursionException>(() => t.Device.ReadTo(0, 8192, sink, out _)));

        AssertDeviceStillWorks(t);
    }

    [Test]
    public void AFlushFromASourceToAnotherNamespaceOfTheRegionFailsEvenWhileItsQueueWaitsForTheRegion()
    {
        // Namespace B's queue is held by a bio that waits for the region lock the source's thread
        // holds: a flush of B from the source would wait for that queue for ever.
        string dir = Directory.CreateTempSubdirectory("daxstack-reentry-").FullName;
        try
        {
            using var bus = new NvdimmBus(TestDevice.Catalog());
            var region = bus.CreateImage(Path.Combine(dir, "pmem.img"), 8 << 20);
            var nsA = region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Raw, Size = 4 << 20 });
            var nsB = region.CreateNamespace(new NamespaceSpec { Mode = NamespaceMode.Raw, Size = 4 << 20 });
            var driver = new PmemDriver(new DaxStack.Driver.Hosting.PmemOptions { QueueCount = 1 });
            var a = driver.AttachPmem(region, nsA);
            var b = driver.AttachPmem(region, nsB);
            using var inside = new ManualResetEventSlim();
            using var release = new ManualResetEventSlim();
            Exception? reentry = null;
            var source = new CallbackSource(TestDevice.Pattern(4096, 2), () =>
            {
                inside.Set();
                release.Wait(HangBound);
                reentry = Assert.Throws<LockRecursionException>(() => b.Flush());
            });
            var owner = new Thread(() => a.WriteFrom(0, 4096, source, BioFlags.None, out _)) { IsBackground = true };
            BlkStatus waiterStatus = BlkStatus.IoError;
            var waiter = new Thread(() => waiterStatus = b.Write(0, TestDevice.Pattern(4096, 3), BioFlags.Fua)) { IsBackground = true };
            owner.Start();
            Assert.That(inside.Wait(HangBound), "the source was called");
            waiter.Start();
            Thread.Sleep(50);   // let B's bio take its queue and reach the region lock (the test holds either way)
            release.Set();

            Assert.That(owner.Join(HangBound), "the WriteFrom returned");
            Assert.That(waiter.Join(HangBound), "B's bio completed");
            Assert.Multiple(() =>
            {
                Assert.That(reentry?.Message, Does.Contain("pmem0.1").And.Contain("region0"));
                Assert.That(waiterStatus, Is.EqualTo(BlkStatus.Ok));
            });
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void ASourceMayWriteToADeviceOfAnotherRegion()
    {
        using var t = TestDevice.InMemory();
        var other = t.Bus.AddMemory(new NativeMedia(4 << 20));
        var otherDevice = new PmemDriver().AttachPmem(other, other.Namespaces[0]);
        var copy = TestDevice.Pattern(4096, 4);
        var data = TestDevice.Pattern(4096, 5);
        var source = new CallbackSource(data, () => Assert.That(otherDevice.Write(0, copy, BioFlags.Fua), Is.EqualTo(BlkStatus.Ok)));

        Assert.That(Bounded(() => t.Device.WriteFrom(0, 4096, source, BioFlags.Fua, out _)), Is.EqualTo(BlkStatus.Ok));

        var back = new byte[4096];
        otherDevice.Read(0, back);
        Assert.That(back, Is.EqualTo(copy));
        t.Device.Read(0, back);
        Assert.That(back, Is.EqualTo(data));
    }

    // Bios from another thread and from this one still run, and a flush leaves nothing in flight.
    private static void AssertDeviceStillWorks(TestDevice t)
    {
        var data = TestDevice.Pattern(4096, 9);
        Bounded(() =>
        {
            var other = new Thread(() => t.Device.Write(2 << 20, data, BioFlags.Fua));
            other.Start();
            other.Join();
            return t.Device.Flush();
        });
        var back = new byte[4096];
        Assert.That(t.Device.Read(2 << 20, back), Is.EqualTo(BlkStatus.Ok));
        Assert.Multiple(() =>
        {
            Assert.That(back, Is.EqualTo(data));
            Assert.That(t.Persisted(2 << 20, 4096), Is.EqualTo(data));
            Assert.That(t.Region.Region.InFlightLineCount, Is.Zero);
        });
    }

    private static T Bounded<T>(Func<T> action) => HangGuard.Run(action, HangBound);

    private sealed class CallbackSource(byte[] data, Action callback) : IStoreSource
    {
        private int _position;
        private bool _called;

        public int CopyTo(Span<byte> destination)
        {
            if (!_called)
            {
                _called = true;
                callback();
            }
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
