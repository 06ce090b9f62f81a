using DaxStack.Device.Cost;
using DaxStack.Device.Hosting;
using DaxStack.Device.Persistence;

namespace DaxStack.Device.Tests.Cost;

/// <summary>
/// The cost of single instructions, per profile, computed from the profile's own numbers: the
/// built-in profiles and a custom one defined through configuration.
/// </summary>
public class CostProfileArithmeticTests
{
    private static readonly CostProfileCatalog Catalog = new(new NvdimmOptions
    {
        Profiles =
        {
            ["custom-2dimm"] = new CustomProfileOptions
            {
                Base = "optane-adr",
                Set =
                {
                    ["Dimms"] = "2",
                    ["ReadLatencyRandomNs"] = "400",
                    ["ReadBandwidthGBps"] = "4",
                    ["NtWriteLatencyNs"] = "150",
                    ["ClwbWriteLatencyNs"] = "100",
                    ["StoreNs"] = "2",
                    ["FenceNs"] = "3",
                },
            },
        },
    });

    private static readonly string[] Profiles = ["optane-adr", "optane-eadr", "dram", "custom-2dimm"];

    private static DeviceFixture Fixture(string name) => new(Catalog.Get(name), size: 1 << 20);

    [Test]
    public void TheCustomProfileKeepsItsBaseValuesWhereItSetsNothing()
    {
        var p = Catalog.Get("custom-2dimm");
        Assert.Multiple(() =>
        {
            Assert.That(p.Dimms, Is.EqualTo(2));
            Assert.That(p.NtWriteLatencyNs, Is.EqualTo(150));
            Assert.That(p.ReadLatencySequentialNs, Is.EqualTo(CostProfiles.OptaneAdr.ReadLatencySequentialNs));
            Assert.That(p.MediaGranularity, Is.EqualTo(256));
        });
    }

    [TestCaseSource(nameof(Profiles))]
    public void ARandomLoadCostsTheRandomLatencyAndTheNextLineTheSequentialOne(string name)
    {
        using var d = Fixture(name);
        var p = d.Region.Cost.Profile;
        d.Load(8192, 64);
        double random = d.Cpu.Clock.Nanoseconds;
        d.Load(8192 + 64, 64);
        Assert.Multiple(() =>
        {
            Assert.That(random, Is.EqualTo(p.ReadLatencyRandomNs));
            Assert.That(d.Cpu.Clock.Nanoseconds - random, Is.EqualTo(p.ReadLatencySequentialNs));
        });
    }

    [TestCaseSource(nameof(Profiles))]
    public void TheLinesAfterTheFirstOfALoadStreamAtTheReadBandwidthOfTheDimmsTheyAreOn(string name)
    {
        using var d = Fixture(name);
        var p = d.Region.Cost.Profile;
        d.Load(0, 4096);
        int dimmsUsed = Math.Min(Math.Max(4096 / p.InterleaveBytes, 1), p.Dimms);
        double expected = p.ReadLatencyRandomNs + 63 * 64 / (p.ReadBandwidthGBps * dimmsUsed);
        Assert.That(d.Cpu.Clock.Nanoseconds, Is.EqualTo(expected).Within(1e-9));
    }

    [TestCaseSource(nameof(Profiles))]
    public void AStoreCostsItsInstructionsPerLineTouched(string name)
    {
        using var d = Fixture(name);
        d.Cpu.Store(d.Pa(60), new byte[100]); // bytes 60..159: lines 0, 1 and 2
        Assert.That(d.Cpu.Clock.Nanoseconds, Is.EqualTo(3 * d.Region.Cost.Profile.StoreNs));
    }

    [TestCaseSource(nameof(Profiles))]
    public void AnNtStoreAndFenceOfOneLineCostTheNonTemporalWriteLatency(string name)
    {
        using var d = Fixture(name);
        d.Cpu.NtStore(d.Pa(0), new byte[64]);
        d.Cpu.Sfence();
        Assert.That(d.Cpu.Clock.Nanoseconds, Is.EqualTo(d.Region.Cost.Profile.NtWriteLatencyNs));
    }

    [TestCaseSource(nameof(Profiles))]
    public void AStoreClwbAndFenceCostTheWriteBackLatencyOnAdrAndOnlyIssueOnEadr(string name)
    {
        using var d = Fixture(name);
        var p = d.Region.Cost.Profile;
        d.Cpu.Store(d.Pa(0), new byte[64]);
        d.Cpu.Clwb(d.Pa(0));
        d.Cpu.Sfence();
        double expected = p.Domain == PersistenceDomain.Adr
            ? p.StoreNs + p.ClwbWriteLatencyNs
            : p.StoreNs + p.FlushIssueNs + p.FenceNs;
        Assert.That(d.Cpu.Clock.Nanoseconds, Is.EqualTo(expected));
    }

    [TestCaseSource(nameof(Profiles))]
    public void AFenceWithNothingOutstandingCostsAlmostNothing(string name)
    {
        using var d = Fixture(name);
        var p = d.Region.Cost.Profile;
        d.Cpu.Sfence();
        double first = d.Cpu.Clock.Nanoseconds;
        d.Cpu.NtStore(d.Pa(0), new byte[64]);
        d.Cpu.Sfence();
        double afterPersist = d.Cpu.Clock.Nanoseconds;
        d.Cpu.Mfence();
        Assert.Multiple(() =>
        {
            Assert.That(first, Is.EqualTo(p.FenceNs));
            Assert.That(d.Cpu.Clock.Nanoseconds - afterPersist, Is.EqualTo(p.FenceNs));
            Assert.That(p.FenceNs, Is.LessThanOrEqualTo(5));
        });
    }

    [TestCaseSource(nameof(Profiles))]
    public void ARandomSixtyFourByteWriteCostsOneMediaUnit(string name)
    {
        using var d = Fixture(name);
        d.Cpu.NtStore(d.Pa(12345 * 64 % (1 << 20)), new byte[64]);
        d.Cpu.Sfence();
        Assert.Multiple(() =>
        {
            Assert.That(d.Region.Cost.BytesRequested, Is.EqualTo(64));
            Assert.That(d.Region.Cost.MediaBytesWritten, Is.EqualTo(d.Region.Cost.Profile.MediaGranularity));
        });
    }

    [TestCaseSource(nameof(Profiles))]
    public void AnInvalidSettingIsRejectedWhenARegionIsCreatedNamingTheSetting(string name)
    {
        var bad = Catalog.Get(name) with { WriteBackSlots = 0 };
        var e = Assert.Throws<ArgumentException>(() => new CostModel(bad));
        Assert.That(e!.Message, Does.Contain("WriteBackSlots").And.Contain(name));
    }
}
