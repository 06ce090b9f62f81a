using DaxStack.Device.Cost;
using DaxStack.Device.Crash;
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
        using var space = new TestPlatform(CostProfiles.OptaneAdr, CostProfiles.OptaneAdr);
        var (r0, r1) = (space[0], space[1]);
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
        space.Space.Crash(CrashPolicy.Strict);
        Assert.That(cpu.CostState.OutstandingWriteBacks, Is.Zero);
    }

    /// <summary>
    /// Audit: a power failure resolves the write-backs in flight, but the CPU still waited for them:
    /// its next fence advanced the clock to their landing time, and its next write-backs waited for
    /// the slots they had held. After the crash, a persist costs what it costs on a fresh platform.
    /// </summary>
    [TestCase(false, TestName = "{m}(space crash)")]
    [TestCase(true, TestName = "{m}(region crash)")]
    public void AfterAPowerFailureTheCpuDoesNotWaitForTheWriteBacksItResolved(bool regionCrash)
    {
        using var platform = new TestPlatform(CostProfiles.Dram);
        var (space, r) = (platform.Space, platform[0]);
        var cpu = space.CreateCpu();
        // 64 KiB written back and not fenced: the last landings lie past the clock.
        cpu.Store(r.BaseAddress, new byte[64 << 10]);
        cpu.Flush(FlushKind.Clwb, r.BaseAddress, 64 << 10);
        Assert.That(cpu.CostState.WriteBackDoneAt, Is.GreaterThan(cpu.CostState.Clock.Nanoseconds));
        if (regionCrash)
            r.Crash(CrashPolicy.Strict);
        else
            space.Crash(CrashPolicy.Strict);

        double before = cpu.CostState.Clock.Nanoseconds;
        cpu.Sfence();
        Assert.That(cpu.CostState.Clock.Nanoseconds - before, Is.EqualTo(CostProfiles.Dram.FenceNs), "a fence with nothing to wait for");

        // A persist of 384 bytes (6 write-backs, one per slot) costs what it does on a fresh
        // platform: no slot is held by a resolved write-back. (DRAM: no media queue that the 64 KiB
        // left busy; the DIMM's own queues are not reset by a crash.)
        double after = Persist384(cpu, r.BaseAddress + (128 << 10));
        using var freshPlatform = new TestPlatform(CostProfiles.Dram);
        var fresh = freshPlatform[0];
        var freshCpu = freshPlatform.CreateCpu();
        freshCpu.Sfence();
        Assert.That(after, Is.EqualTo(Persist384(freshCpu, fresh.BaseAddress + (128 << 10))).Within(1e-6), "the same up to the rounding of a later clock");
    }

    [Test]
    public void ACrashOfOneRegionKeepsTheWaitForAnotherRegionsWriteBacks()
    {
        using var space = new TestPlatform(CostProfiles.OptaneAdr, CostProfiles.OptaneAdr);
        var (r0, r1) = (space[0], space[1]);
        var cpu = space.CreateCpu();
        cpu.Store(r1.BaseAddress, new byte[64 << 10]);
        cpu.Flush(FlushKind.Clwb, r1.BaseAddress, 64 << 10);
        cpu.NtStore(r0.BaseAddress, new byte[64]);
        double landing = cpu.CostState.WriteBackDoneAt;
        r0.Crash(CrashPolicy.Strict);
        cpu.Sfence();
        Assert.That(cpu.CostState.Clock.Nanoseconds, Is.GreaterThanOrEqualTo(landing - 1e-6), "region 1's write-backs are still waited for");
    }

    private static double Persist384(Cpu cpu, long address)
    {
        double start = cpu.CostState.Clock.Nanoseconds;
        cpu.Store(address, new byte[384]);
        cpu.Flush(FlushKind.Clwb, address, 384);
        cpu.Sfence();
        return cpu.CostState.Clock.Nanoseconds - start;
    }
}
