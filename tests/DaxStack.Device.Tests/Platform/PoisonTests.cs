using DaxStack.Device.Poison;

namespace DaxStack.Device.Tests.Platform;

public class PoisonTests
{
    [Test]
    public void LoadFromAPoisonedLineRaisesAMachineCheckNamingTheAddress()
    {
        using var d = new DeviceFixture();
        d.Region.Poison.Add(4096 + 600, 10);          // poisons sector 9 (4608..5120)
        var e = Assert.Throws<MachineCheckException>(() => d.Load(4000, 1024));
        Assert.Multiple(() =>
        {
            Assert.That(e!.PhysicalAddress, Is.EqualTo(d.Pa(4608)));
            Assert.That(e.Message, Does.Contain($"0x{d.Pa(4608):x}"));
            Assert.That(d.Cpu.Stats.MachineChecks, Is.EqualTo(1));
        });
    }

    [Test]
    public void LoadsBesideThePoisonStillWork()
    {
        using var d = new DeviceFixture();
        d.Region.Poison.Add(4608, 512);
        Assert.DoesNotThrow(() => d.Load(4096, 512));
        Assert.DoesNotThrow(() => d.Load(5120, 512));
    }

    [Test]
    public void ClearingRemovesThePoison()
    {
        using var d = new DeviceFixture();
        d.Region.Poison.Add(0, 2048);
        d.Region.Poison.Clear(512, 512);
        Assert.Multiple(() =>
        {
            Assert.DoesNotThrow(() => d.Load(512, 512));
            Assert.Throws<MachineCheckException>(() => d.Load(0, 8));
            Assert.Throws<MachineCheckException>(() => d.Load(1024, 8));
            Assert.That(d.Region.Poison.Ranges, Has.Count.EqualTo(2));
        });
    }

    [Test]
    public void StoresDoNotClearPoison()
    {
        using var d = new DeviceFixture();
        d.Region.Poison.Add(0, 512);
        d.Cpu.Store(d.Pa(0), new byte[512]);
        Assert.Throws<MachineCheckException>(() => d.Load(0, 8));
    }

    [Test]
    public void AnEmptyLoadFromPoisonedMemoryConsumesNoPoison()
    {
        using var d = new DeviceFixture();
        d.Region.Poison.Add(0, 512);
        Assert.DoesNotThrow(() => d.Cpu.Load(d.Pa(64), Span<byte>.Empty));
        Assert.That(d.Region.Poison.TryFindPoison(64, 0, out _), Is.False, "an empty range holds no poisoned byte");
        Assert.That(d.Cpu.Stats.MachineChecks, Is.Zero);
    }

    [Test]
    public void ALookupRunningPastTheEndOfTheAddressSpaceStillFindsThePoison()
    {
        var list = new PoisonList();
        list.Add(8192, 512);
        Assert.Multiple(() =>
        {
            Assert.That(list.TryFindPoison(4096, long.MaxValue, out long first), Is.True);
            Assert.That(first, Is.EqualTo(8192));
            Assert.That(list.TryFindPoison(9000, long.MaxValue, out _), Is.False, "poison before the range");
            Assert.That(list.TryFindPoison(-4096, long.MaxValue, out first), Is.True);
            Assert.That(first, Is.EqualTo(8192));
        });
    }

    [TestCase(0L, long.MaxValue)]
    [TestCase(long.MaxValue - 10, 5L)]
    public void PoisoningARangeWhoseEndOverflowsIsRejected(long offset, long length)
    {
        var list = new PoisonList();
        Assert.Throws<ArgumentOutOfRangeException>(() => list.Add(offset, length));
        Assert.That(list.IsEmpty, Is.True);
    }

    [Test]
    public void ClearingARangeWhoseEndOverflowsIsRejectedNotIgnored()
    {
        var list = new PoisonList();
        list.Add(0, 4096);
        Assert.Throws<ArgumentOutOfRangeException>(() => list.Clear(512, long.MaxValue));
        Assert.Throws<ArgumentOutOfRangeException>(() => list.Clear(-512, 1024));
        Assert.That(list.Ranges, Is.EqualTo(new[] { new PoisonList.BadRange(0, 4096) }));
    }

    [Test]
    public void AdjacentRangesMerge()
    {
        var list = new PoisonList();
        list.Add(0, 512);
        list.Add(512, 100);
        Assert.That(list.Ranges, Is.EqualTo(new[] { new PoisonList.BadRange(0, 1024) }));
    }

    [TestCase(1L << 20, 512L)]          // wholly past the end
    [TestCase((1L << 20) - 512, 1024L)] // running past it
    public void PoisonOutsideTheRegionIsRefusedAndTheListKept(long offset, long length)
    {
        using var d = new DeviceFixture(size: 1 << 20);
        d.Region.Poison.Add(0, 512);
        Assert.Throws<ArgumentOutOfRangeException>(() => d.Region.Poison.Add(offset, length));
        Assert.That(d.Region.Poison.Ranges, Is.EqualTo(new[] { new PoisonList.BadRange(0, 512) }));
    }

    [Test]
    public void ALoadedListIsKeptInWholeSectorsInsideTheRegion()
    {
        using var d = new DeviceFixture(size: 1 << 20);
        d.Region.Poison.Load([new PoisonList.BadRange(600, 10)]);
        Assert.That(d.Region.Poison.Ranges, Is.EqualTo(new[] { new PoisonList.BadRange(512, 512) }));
        Assert.Throws<ArgumentOutOfRangeException>(() => d.Region.Poison.Load([new PoisonList.BadRange(0, 512), new PoisonList.BadRange(1 << 20, 512)]));
        Assert.Throws<ArgumentOutOfRangeException>(() => d.Region.Poison.Load([new PoisonList.BadRange(0, 0)]));
        Assert.That(d.Region.Poison.Ranges, Is.EqualTo(new[] { new PoisonList.BadRange(512, 512) }), "a refused load changes nothing");
    }
}
