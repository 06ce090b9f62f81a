using DaxStack.Device.Platform;
using DaxStack.Device.Poison;
using DaxStack.Tests.Shared;

namespace DaxStack.Device.Tests.Platform;

/// <summary>
/// Loads whose bytes go straight from pmem to a sink (<see cref="Cpu.LoadTo"/>): the sink sees what
/// <see cref="Cpu.Load"/> would return (stores not yet persisted included), with the same modeled
/// cost and counters for the bytes it takes, and poison stops the load before the sink sees anything.
/// </summary>
public class LoadToTests
{
    [TestCase(1, 1)]
    [TestCase(4096, 4096)]
    [TestCase(300_000, 300_000)]
    [TestCase(300_000, 70_001)]    // the sink takes only part
    [TestCase(4096, 0)]
    public void TheSinkGetsWhatALoadWouldReturnAtTheCostOfLoadingWhatItTook(int length, int takes)
    {
        using var a = new DeviceFixture(size: 1 << 20);
        using var b = new DeviceFixture(size: 1 << 20);
        var persisted = Random(1, 1 << 20);
        var inFlight = Random(2, 5000);
        foreach (var d in new[] { a, b })
        {
            d.Cpu.Persist(d.Pa(0), persisted);
            d.Cpu.Store(d.Pa(1000), inFlight);    // loads see stores before they persist
        }
        var expected = new byte[takes];
        if (takes > 0)
            a.Cpu.Load(a.Pa(77), expected);
        var sink = new BufferLoadSink(takes);

        int taken = b.Cpu.LoadTo(b.Pa(77), length, sink);

        Assert.That(taken, Is.EqualTo(takes));
        Assert.That(sink.Taken, Is.EqualTo(expected));
        Assert.That(b.Cpu.Clock.Nanoseconds, Is.EqualTo(a.Cpu.Clock.Nanoseconds));
        Assert.That(b.Cpu.Stats.Loads, Is.EqualTo(a.Cpu.Stats.Loads));
        Assert.That(b.Cpu.Stats.BytesLoaded, Is.EqualTo(a.Cpu.Stats.BytesLoaded));
    }

    [Test]
    public void PoisonAnywhereInTheRangeIsAMachineCheckBeforeTheSinkSeesAnything()
    {
        using var d = new DeviceFixture(size: 1 << 20);
        d.Region.Poison.Add(200_000, 64);
        var sink = new BufferLoadSink(int.MaxValue);

        var e = Assert.Throws<MachineCheckException>(() => d.Cpu.LoadTo(d.Pa(4096), 300_000, sink));

        Assert.That(e!.PhysicalAddress, Is.EqualTo(d.Pa(200_000 - 200_000 % 512)), "the poisoned sector's start");
        Assert.That(sink.Calls, Is.Zero);
        Assert.That(d.Cpu.Stats.MachineChecks, Is.EqualTo(1));
        Assert.That(d.Cpu.LoadTo(d.Pa(0), 4096, sink), Is.EqualTo(4096), "outside the poison it loads");
    }

    [Test]
    public void ASinkThatClaimsMoreThanItWasOfferedIsRefusedAndTheRegionStaysUsable()
    {
        using var d = new DeviceFixture();
        Assert.That(() => d.Cpu.LoadTo(d.Pa(0), 4096, new OverclaimingSink()), Throws.InvalidOperationException.With.Message.Contains("4097 of 4096"));
        Assert.That(() => d.Cpu.LoadTo(d.Pa(0), -1, new OverclaimingSink()), Throws.InstanceOf<ArgumentOutOfRangeException>());
        d.Cpu.Store(d.Pa(0), new byte[8]);
    }

    [Test]
    public void ARefusedSinkIsChargedNothing()
    {
        using var d = new DeviceFixture();
        Assert.That(() => d.Cpu.LoadTo(d.Pa(d.Region.Size - 64), 64, new OverclaimingSink()), Throws.InvalidOperationException);
        Assert.Multiple(() =>
        {
            Assert.That(d.Cpu.Stats.Loads, Is.Zero);
            Assert.That(d.Cpu.Stats.BytesLoaded, Is.Zero, "no more than the 64 bytes offered can have been loaded");
            Assert.That(d.Cpu.Clock.Nanoseconds, Is.Zero);
        });
    }

    private static byte[] Random(int seed, int length)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    private sealed class OverclaimingSink : ILoadSink
    {
        public int CopyFrom(ReadOnlySpan<byte> source) => source.Length + 1;
    }
}
