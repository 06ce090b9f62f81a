using DaxStack.Device.Cost;
using DaxStack.Device.Media;
using DaxStack.Device.Platform;

namespace DaxStack.Device.Tests.Cost;

/// <summary>
/// The write path's structure: a single persist sees the write latency and the DIMM's per-line
/// ingest; a long stream fills the write-combining buffer and settles at the media bandwidth;
/// CPUs and regions keep their own state.
/// </summary>
public class WritePipelineTests
{
    private static readonly CostProfile Optane = CostProfiles.OptaneAdr;

    [Test]
    public void AnIdleFourKiBPersistSeesTheLatencyAndTheDimmIngestNotTheMediaBandwidth()
    {
        using var d = new DeviceFixture(Optane);
        d.Cpu.NtStore(d.Pa(0), new byte[4096]);
        d.Cpu.Sfence();
        double expected = Optane.NtWriteLatencyNs + 63 * Optane.DimmWriteIngestNs;
        Assert.Multiple(() =>
        {
            Assert.That(d.Cpu.Clock.Nanoseconds, Is.EqualTo(expected));
            Assert.That(d.Cpu.Clock.Nanoseconds, Is.LessThan(4096 / Optane.WriteBandwidthNtGBps), "faster than the media: the buffer absorbs it");
        });
    }

    [TestCase(true)]
    [TestCase(false)]
    public void ALongStreamSettlesAtTheMediaWriteBandwidth(bool nt)
    {
        const int chunk = 4096;
        const long total = 4L << 20;
        using var d = new DeviceFixture(Optane, size: total);
        var data = new byte[chunk];
        double start = 0;
        for (long off = 0; off < total; off += chunk)
        {
            if (off == total / 2)
                start = d.Cpu.Clock.Nanoseconds;
            if (nt)
                d.Cpu.NtStore(d.Pa(off), data);
            else
            {
                d.Cpu.Store(d.Pa(off), data);
                d.Cpu.Flush(FlushKind.Clwb, d.Pa(off), chunk);
            }
            d.Cpu.Sfence();
        }
        double gbps = total / 2 / (d.Cpu.Clock.Nanoseconds - start);
        double media = nt ? Optane.WriteBandwidthNtGBps : Optane.WriteBandwidthClwbGBps;
        Assert.That(gbps, Is.EqualTo(media).Within(1).Percent);
    }

    [Test]
    public void AFullBufferStallsTheCpuWhenItRunsOutOfWriteBackSlots()
    {
        using var d = new DeviceFixture(Optane, size: 4 << 20);
        d.Cpu.NtStore(d.Pa(0), new byte[2 << 20]);
        // Without a fence the CPU still cannot run ahead of the DIMM by more than its slots.
        double mediaTime = (2 << 20) / Optane.WriteBandwidthNtGBps;
        Assert.That(d.Cpu.Clock.Nanoseconds, Is.GreaterThan(0.95 * mediaTime));
    }

    [Test]
    public void ACpuThatIsBehindWaitsForBufferRoomButIsNotChargedTheOtherCpusTime()
    {
        using var d = new DeviceFixture(Optane, size: 4 << 20);
        d.Cpu.NtStore(d.Pa(0), new byte[1 << 20]);
        d.Cpu.Sfence();
        var late = d.Space.CreateCpu();
        late.NtStore(d.Pa(2 << 20), new byte[64]);
        late.Sfence();
        double bufferDrain = Optane.WriteCombiningBytes / Optane.WriteBandwidthNtGBps;
        Assert.Multiple(() =>
        {
            Assert.That(late.Clock.Nanoseconds, Is.GreaterThan(Optane.NtWriteLatencyNs), "the busy DIMM makes it wait");
            Assert.That(late.Clock.Nanoseconds, Is.LessThan(Optane.NtWriteLatencyNs + bufferDrain));
            Assert.That(late.Clock.Nanoseconds, Is.LessThan(d.Cpu.Clock.Nanoseconds / 10));
        });
    }

    [Test]
    public void OneCpuFencesItsWriteBacksInEveryRegionAndEachRegionChargesItsOwnProfile()
    {
        using var space = new PhysicalAddressSpace();
        var optane = new NvdimmRegion("region0", new NativeMedia(1 << 20), CostProfiles.OptaneAdr);
        var dram = new NvdimmRegion("region1", new NativeMedia(1 << 20), CostProfiles.Dram);
        space.AddRegion(optane);
        space.AddRegion(dram);
        var cpu = space.CreateCpu();
        cpu.Store(optane.BaseAddress, new byte[64]);                 // t = 1
        cpu.Clwb(optane.BaseAddress);                                // departs at 1, lands at 1 + 62
        cpu.NtStore(dram.BaseAddress, new byte[64]);                 // departs at 2, lands at 2 + 87
        cpu.Sfence();
        double optaneDone = CostProfiles.OptaneAdr.StoreNs + CostProfiles.OptaneAdr.ClwbWriteLatencyNs;
        double dramDone = CostProfiles.OptaneAdr.StoreNs + CostProfiles.OptaneAdr.FlushIssueNs + CostProfiles.Dram.NtWriteLatencyNs;
        Assert.Multiple(() =>
        {
            Assert.That(cpu.Clock.Nanoseconds, Is.EqualTo(Math.Max(optaneDone, dramDone)));
            Assert.That(optane.Cost.MediaBytesWritten, Is.EqualTo(256));
            Assert.That(dram.Cost.MediaBytesWritten, Is.EqualTo(64));
            Assert.That(space.InFlightLines(), Is.Empty);
        });
    }

    [Test]
    public void ALoadInAnotherRegionIsNotSequentialEvenAtTheNextOffset()
    {
        using var space = new PhysicalAddressSpace();
        var r0 = new NvdimmRegion("region0", new NativeMedia(1 << 20), CostProfiles.OptaneAdr);
        var r1 = new NvdimmRegion("region1", new NativeMedia(1 << 20), CostProfiles.OptaneAdr);
        space.AddRegion(r0);
        space.AddRegion(r1);
        var cpu = space.CreateCpu();
        var buffer = new byte[64];
        cpu.Load(r0.BaseAddress, buffer);
        double first = cpu.Clock.Nanoseconds;
        cpu.Load(r1.BaseAddress + 64, buffer);
        Assert.That(cpu.Clock.Nanoseconds - first, Is.EqualTo(CostProfiles.OptaneAdr.ReadLatencyRandomNs));
    }
}
