using DaxStack.Device.Cost;
using DaxStack.Device.Crash;
using DaxStack.Device.Platform;

namespace DaxStack.Device.Tests.Cost;

/// <summary>
/// The count of a CPU's write-backs since its last fence. Nothing but a fence or a power failure
/// bounds it: the CPU's pending-run limit and the tracker's eviction of lines past
/// LineTracker.MaxInFlightLines complete write-backs early but do not take them off the count, and
/// every write-back (each non-temporal store line, each flush of a line stored to again) adds one.
/// </summary>
public class OutstandingWriteBackCountTests
{
    /// <summary>
    /// Audit: the count was an int, so 2^31 write-backs without a fence (128 GiB written back, as
    /// a long copy with non-temporal stores may do) wrapped it negative. Making that many takes
    /// minutes, so the count starts just below 2^31 here, through its public setter.
    /// </summary>
    [Test]
    public void TheCountPassesTwoToTheThirtyOneWithoutWrappingAndARegionCrashOrFenceClearsIt()
    {
        using var space = new TestPlatform(CostProfiles.OptaneAdr, CostProfiles.OptaneAdr);
        var (r0, r1) = (space[0], space[1]);
        var cpu = space.CreateCpu();
        const long start = int.MaxValue - 5;
        cpu.CostState.OutstandingWriteBacks = (int)start;

        cpu.NtStore(r0.BaseAddress, new byte[640]);                 // 10 lines
        cpu.Store(r1.BaseAddress, new byte[4096]);
        cpu.Flush(FlushKind.Clwb, r1.BaseAddress, 4096);            // 64 lines
        Assert.That(cpu.CostState.OutstandingWriteBacks, Is.EqualTo(start + 74));

        r0.Crash(CrashPolicy.Strict);
        Assert.That(cpu.CostState.OutstandingWriteBacks, Is.EqualTo(start + 64), "only region 0's ten are dropped");

        cpu.Sfence();
        Assert.That(cpu.CostState.OutstandingWriteBacks, Is.Zero);
    }

    [Test]
    public void TheCostModelCountsALongRunOfWriteBacksInFull()
    {
        // The cost model's own entry point takes a line count as a long: a clean run costs only
        // its issue, and a dirty one adds every line to the count.
        var model = new CostModel(CostProfiles.OptaneAdr with { Name = "slotless", WriteBackSlots = 64 });
        var cpu = new CpuCostState { OutstandingWriteBacks = int.MaxValue };
        model.Flush(cpu, FlushKind.Clwb, 0, 4, dirty: true);
        model.NtStore(cpu, 4096, 128);
        Assert.That(cpu.OutstandingWriteBacks, Is.EqualTo((long)int.MaxValue + 6));
        model.Fence(cpu, FenceKind.Sfence);
        Assert.That(cpu.OutstandingWriteBacks, Is.Zero);
    }
}
