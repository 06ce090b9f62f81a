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
        PowerFail(platform, regionCrash);

        double before = cpu.CostState.Clock.Nanoseconds;
        cpu.Sfence();
        Assert.That(cpu.CostState.Clock.Nanoseconds - before, Is.EqualTo(CostProfiles.Dram.FenceNs), "a fence with nothing to wait for");

        // A persist of 384 bytes (6 write-backs, one per slot) costs what it does on a fresh
        // platform: no slot is held by a resolved write-back.
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

    /// <summary>
    /// Audit: a power failure left the DIMM's write side as it was: the media queue that 512 KiB of
    /// unfenced ntstores had backed up (32 times its length) made the first writes after the crash
    /// wait for room, although the crash had drained it. After the crash a persist of 16 KiB (a
    /// queue's worth of media units) costs what it costs on a fresh platform.
    /// </summary>
    [TestCase(false, TestName = "{m}(space crash)")]
    [TestCase(true, TestName = "{m}(region crash)")]
    public void AfterAPowerFailureTheMediaQueueIsIdle(bool regionCrash)
    {
        using var platform = new TestPlatform(CostProfiles.OptaneAdr);
        var (space, r) = (platform.Space, platform[0]);
        var cpu = space.CreateCpu();
        cpu.NtStore(r.BaseAddress, new byte[512 << 10]);
        PowerFail(platform, regionCrash);

        double after = NtPersist(cpu, r.BaseAddress + (768 << 10), 16 << 10);
        using var freshPlatform = new TestPlatform(CostProfiles.OptaneAdr);
        var freshCpu = freshPlatform.CreateCpu();
        double fresh = NtPersist(freshCpu, freshPlatform[0].BaseAddress + (768 << 10), 16 << 10);
        Assert.That(after, Is.EqualTo(fresh).Within(1e-6), "the same up to the rounding of a later clock");
    }

    /// <summary>
    /// Audit: the write-combining buffer kept its units across a power failure, so a line written
    /// back before the crash and written again after it merged there (no media write), although
    /// ADR had drained the buffer to the media. After the crash the write allocates its unit again.
    /// </summary>
    [TestCase(false, TestName = "{m}(space crash)")]
    [TestCase(true, TestName = "{m}(region crash)")]
    public void AfterAPowerFailureTheWriteCombiningBufferIsEmpty(bool regionCrash)
    {
        using var platform = new TestPlatform(CostProfiles.OptaneAdr);
        var (space, r) = (platform.Space, platform[0]);
        var cpu = space.CreateCpu();
        NtPersist(cpu, r.BaseAddress, 64);
        long written = r.Cost.MediaBytesWritten;
        NtPersist(cpu, r.BaseAddress, 64);
        Assert.That(r.Cost.MediaBytesWritten, Is.EqualTo(written), "a unit the buffer holds merges (no crash yet)");

        PowerFail(platform, regionCrash);
        NtPersist(cpu, r.BaseAddress, 64);
        Assert.That(r.Cost.MediaBytesWritten - written, Is.EqualTo(CostProfiles.OptaneAdr.MediaGranularity), "the unit is written to media again");
    }

    /// <summary>
    /// Audit: a load right after a power failure that continued the last load before it was charged
    /// the sequential read latency, as if the DIMM's read buffer had survived. It is a random one.
    /// </summary>
    [TestCase(false, TestName = "{m}(space crash)")]
    [TestCase(true, TestName = "{m}(region crash)")]
    public void AfterAPowerFailureTheFirstLoadIsNotSequential(bool regionCrash)
    {
        using var platform = new TestPlatform(CostProfiles.OptaneAdr);
        var (space, r) = (platform.Space, platform[0]);
        var cpu = space.CreateCpu();
        var buffer = new byte[256];
        cpu.Load(r.BaseAddress, buffer);
        double start = cpu.CostState.Clock.Nanoseconds;
        cpu.Load(r.BaseAddress + 256, buffer);
        double sequential = cpu.CostState.Clock.Nanoseconds - start;

        PowerFail(platform, regionCrash);
        start = cpu.CostState.Clock.Nanoseconds;
        cpu.Load(r.BaseAddress + 512, buffer);
        double afterCrash = cpu.CostState.Clock.Nanoseconds - start;
        var p = CostProfiles.OptaneAdr;
        Assert.Multiple(() =>
        {
            Assert.That(sequential, Is.LessThan(afterCrash), "before the crash the second load is sequential");
            Assert.That(afterCrash - sequential, Is.EqualTo(p.ReadLatencyRandomNs - p.ReadLatencySequentialNs).Within(1e-6));
        });
    }

    // A power failure of the platform's first region alone, or of the whole platform.
    private static void PowerFail(TestPlatform platform, bool regionCrash)
    {
        if (regionCrash)
            platform[0].Crash(CrashPolicy.Strict);
        else
            platform.Space.Crash(CrashPolicy.Strict);
    }

    private static double NtPersist(Cpu cpu, long address, int length)
    {
        double start = cpu.CostState.Clock.Nanoseconds;
        cpu.NtStore(address, new byte[length]);
        cpu.Sfence();
        return cpu.CostState.Clock.Nanoseconds - start;
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
