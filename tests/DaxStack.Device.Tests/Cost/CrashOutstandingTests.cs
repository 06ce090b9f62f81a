using DaxStack.Device.Cost;
using DaxStack.Device.Crash;
using DaxStack.Device.Media;
using DaxStack.Device.Platform;

namespace DaxStack.Device.Tests.Cost;

public class CrashOutstandingTests
{
    /// <summary>
    /// Audit: a power failure of the whole space drops every CPU's outstanding write-backs
    /// (PhysicalAddressSpace.Crash), but a power failure of one region (NvdimmRegion.Crash) left
    /// the write-backs to that region counted as outstanding, although the crash resolved them as
    /// it does for the space: 10 ntstore lines to region 0 and 3 clwb lines to region 1, region 0
    /// crashed, and the CPU still counted 13 outstanding instead of region 1's 3.
    /// </summary>
    [Test]
    public void ARegionCrashDropsTheOutstandingWriteBacksToThatRegionOnly()
    {
        using var space = new PhysicalAddressSpace();
        var r0 = new NvdimmRegion("r0", new NativeMedia(1 << 20), CostProfiles.OptaneAdr);
        var r1 = new NvdimmRegion("r1", new NativeMedia(1 << 20), CostProfiles.OptaneAdr);
        space.AddRegion(r0);
        space.AddRegion(r1);
        var cpu = space.CreateCpu();
        var other = space.CreateCpu();
        cpu.NtStore(r0.BaseAddress, new byte[640]);
        cpu.Store(r1.BaseAddress, new byte[192]);
        cpu.Flush(FlushKind.Clwb, r1.BaseAddress, 192);
        other.NtStore(r0.BaseAddress + 4096, new byte[64]);
        Assert.That(cpu.CostState.OutstandingWriteBacks, Is.EqualTo(13));

        r0.Crash(CrashPolicy.Strict);

        Assert.Multiple(() =>
        {
            Assert.That(cpu.CostState.OutstandingWriteBacks, Is.EqualTo(3), "region 1's write-backs are still outstanding");
            Assert.That(other.CostState.OutstandingWriteBacks, Is.Zero);
            Assert.That(r1.InFlightLineCount, Is.EqualTo(3));
        });
        cpu.Sfence();
        Assert.Multiple(() =>
        {
            Assert.That(cpu.CostState.OutstandingWriteBacks, Is.Zero);
            Assert.That(r1.InFlightLineCount, Is.Zero, "the fence still completes region 1's write-backs");
        });
        space.Crash(CrashPolicy.Strict);
        Assert.That(cpu.CostState.OutstandingWriteBacks, Is.Zero);
    }
}
