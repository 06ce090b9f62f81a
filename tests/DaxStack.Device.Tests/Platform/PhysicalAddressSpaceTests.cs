using DaxStack.Device.Cost;
using DaxStack.Device.Media;
using DaxStack.Device.Platform;

namespace DaxStack.Device.Tests.Platform;

public class PhysicalAddressSpaceTests
{
    [Test]
    public void RegionsArePlacedFromFourGibOnGibBoundaries()
    {
        using var space = new PhysicalAddressSpace();
        var r0 = new NvdimmRegion("region0", new NativeMedia(3L << 20), CostProfiles.OptaneAdr);
        var r1 = new NvdimmRegion("region1", new NativeMedia(1L << 20), CostProfiles.Dram);
        space.AddRegion(r0);
        space.AddRegion(r1);
        Assert.Multiple(() =>
        {
            Assert.That(r0.BaseAddress, Is.EqualTo(1L << 32));
            Assert.That(r1.BaseAddress, Is.EqualTo((1L << 32) + (1L << 30)));
            Assert.That(space.Resolve(r1.BaseAddress + 5, 10), Is.SameAs(r1));
        });
    }

    [Test]
    public void AccessOutsideEveryRegionIsRejectedNamingTheAddress()
    {
        using var d = new DeviceFixture();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => d.Cpu.Store(0x1000, new byte[8]));
        Assert.That(e!.Message, Does.Contain("0x1000"));
    }

    [Test]
    public void AccessRunningPastTheRegionEndIsRejected()
    {
        using var d = new DeviceFixture(size: 1 << 20);
        Assert.Throws<ArgumentOutOfRangeException>(() => d.Cpu.Load(d.Pa((1 << 20) - 4), new byte[8]));
    }

    [TestCase(-1L)]
    [TestCase(long.MinValue)]
    public void ResolvingARangeOfNegativeLengthIsRejected(long length)
    {
        using var d = new DeviceFixture();
        Assert.Throws<ArgumentOutOfRangeException>(() => d.Space.Resolve(d.Pa(4096), length));
    }

    [TestCase(long.MaxValue)]           // address + length overflows
    [TestCase(-64L)]
    public void AFlushOfARangeThatIsNotInsideARegionIsRejected(long length)
    {
        using var d = new DeviceFixture();
        d.Cpu.Store(d.Pa(0), new byte[8]);
        Assert.Throws<ArgumentOutOfRangeException>(() => d.Cpu.Flush(FlushKind.Clwb, d.Pa(0), length));
        Assert.That(d.Cpu.Stats.Clwb, Is.Zero);
    }

    [Test]
    public void EachThreadGetsItsOwnCpu()
    {
        using var d = new DeviceFixture();
        Cpu? other = null;
        var t = new Thread(() => other = d.Space.CurrentCpu);
        t.Start();
        t.Join();
        Assert.That(other, Is.Not.Null.And.Not.SameAs(d.Space.CurrentCpu));
    }

    [Test]
    public void CpusKeepSeparateClocks()
    {
        using var d = new DeviceFixture();
        var other = d.Space.CreateCpu();
        d.Cpu.Store(d.Pa(0), new byte[64]);
        d.Cpu.Clwb(d.Pa(0));
        d.Cpu.Sfence();
        Assert.Multiple(() =>
        {
            Assert.That(d.Cpu.Clock.Nanoseconds, Is.GreaterThan(0));
            Assert.That(other.Clock.Nanoseconds, Is.Zero);
            Assert.That(d.Cpu.Stats.Clwb, Is.EqualTo(1));
            Assert.That(d.Cpu.Stats.Sfence, Is.EqualTo(1));
        });
    }
}
