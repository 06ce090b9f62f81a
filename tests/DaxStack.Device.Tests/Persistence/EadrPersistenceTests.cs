using DaxStack.Device.Cost;
using DaxStack.Device.Crash;

namespace DaxStack.Device.Tests.Persistence;

/// <summary>eADR: the caches are in the persistence domain, so a visible store survives any crash.</summary>
public class EadrPersistenceTests
{
    [TestCase("strict")]
    [TestCase("random:7")]
    [TestCase("all")]
    public void StoreWithoutFlushSurvivesAnyCrash(string policy)
    {
        using var d = new DeviceFixture(CostProfiles.OptaneEadr);
        var data = DeviceFixture.Fill(200, 0x42);
        d.Cpu.Store(d.Pa(100), data);
        Assert.That(d.Region.InFlightLineCount, Is.Zero, "nothing is ever in flight under eADR");
        d.Space.Crash(CrashPolicy.Parse(policy));
        Assert.That(d.Load(100, 200), Is.EqualTo(data));
    }

    [Test]
    public void FlushesAndFencesAreHarmlessUnderEadr()
    {
        using var d = new DeviceFixture(CostProfiles.OptaneEadr);
        d.Cpu.NtStore(d.Pa(0), DeviceFixture.Fill(64, 1));
        d.Cpu.Clwb(d.Pa(0));
        d.Cpu.Clflush(d.Pa(64));
        d.Cpu.Sfence();
        d.Space.Crash(CrashPolicy.Strict);
        Assert.That(d.Load(0, 64), Is.EqualTo(DeviceFixture.Fill(64, 1)));
    }
}
