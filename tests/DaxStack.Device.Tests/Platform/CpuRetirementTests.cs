using DaxStack.Device.Cost;
using DaxStack.Device.Crash;
using DaxStack.Device.Diagnostics;
using DaxStack.Device.Media;
using DaxStack.Device.Platform;
using DaxStack.Tests.Shared;

namespace DaxStack.Device.Tests.Platform;

/// <summary>
/// CPU hot-unplug (<see cref="PhysicalAddressSpace.RetireCpu"/>): a retired CPU leaves the
/// platform for good, its id is never handed out again, it executes nothing more, and the
/// write-backs it left unfenced stay in flight until a power failure or a write-back resolves them.
/// </summary>
public class CpuRetirementTests
{
    private static readonly (string Name, Action<Cpu, long> Run)[] Instructions =
    [
        ("load", (c, pa) => c.Load(pa, new byte[8])),
        ("load-to", (c, pa) => c.LoadTo(pa, 8, new BufferLoadSink())),
        ("store", (c, pa) => c.Store(pa, new byte[8])),
        ("nt-store", (c, pa) => c.NtStore(pa, new byte[8])),
        ("nt-store-from", (c, pa) => c.NtStoreFrom(pa, 8, new BufferStoreSource(new byte[8]))),
        ("persist", (c, pa) => c.Persist(pa, new byte[8])),
        ("clwb", (c, pa) => c.Clwb(pa)),
        ("clflushopt", (c, pa) => c.Clflushopt(pa)),
        ("clflush", (c, pa) => c.Clflush(pa)),
        ("clwb range", (c, pa) => c.Flush(FlushKind.Clwb, pa, 4096)),
        ("sfence", (c, _) => c.Sfence()),
        ("mfence", (c, _) => c.Mfence()),
    ];

    private static IEnumerable<string> InstructionNames => Instructions.Select(i => i.Name);

    [Test]
    public void ARetiredCpuLeavesTheCpusOfTheSpace()
    {
        using var d = new DeviceFixture();
        var a = d.Space.CreateCpu();
        var b = d.Space.CreateCpu();
        d.Space.RetireCpu(a);
        Assert.Multiple(() =>
        {
            Assert.That(d.Space.Cpus, Is.EquivalentTo(new[] { d.Cpu, b }));
            Assert.That(a.IsRetired, Is.True);
            Assert.That(b.IsRetired, Is.False);
        });
    }

    /// <summary>
    /// A region's lock is biased to a CPU by its id: a new CPU that got a retired CPU's id, or the
    /// id of one still running (ids were the number of CPUs there were), would share its bias.
    /// </summary>
    [Test]
    public void ACpuIdIsNeverHandedOutAgain()
    {
        using var d = new DeviceFixture();
        var seen = new HashSet<long> { d.Cpu.Id };
        var live = new List<Cpu> { d.Cpu };
        for (int i = 0; i < 50; i++)
        {
            var cpu = d.Space.CreateCpu();
            Assert.That(seen.Add(cpu.Id), Is.True, $"cpu{cpu.Id} was handed out before");
            live.Add(cpu);
            // Retire every other one, the oldest first, so that the count of CPUs goes down too.
            if (i % 2 == 1)
            {
                d.Space.RetireCpu(live[1]);
                live.RemoveAt(1);
            }
        }
        Assert.That(d.Space.Cpus.Select(c => c.Id), Is.Unique);
    }

    [TestCaseSource(nameof(InstructionNames))]
    public void AnInstructionOnARetiredCpuThrowsObjectDisposedNamingIt(string name)
    {
        using var d = new DeviceFixture();
        var run = Instructions.Single(i => i.Name == name).Run;
        // One CPU that ran (its region cached, write-backs outstanding), one that never did.
        var ran = d.Space.CreateCpu();
        ran.Store(d.Pa(0), new byte[64]);
        ran.Clwb(d.Pa(0));
        var idle = d.Space.CreateCpu();
        d.Space.RetireCpu(ran);
        d.Space.RetireCpu(idle);
        Assert.Multiple(() =>
        {
            foreach (var cpu in new[] { ran, idle })
            {
                var e = Assert.Throws<ObjectDisposedException>(() => run(cpu, d.Pa(128)));
                Assert.That(e!.Message, Does.Contain($"cpu{cpu.Id}").And.Contain("retired"));
            }
            Assert.That(d.Load(128, 8), Is.All.Zero, "the refused instruction stored nothing");
        });
    }

    [Test]
    public void RetiringACpuTwiceIsHarmless()
    {
        using var d = new DeviceFixture();
        var cpu = d.Space.CreateCpu();
        cpu.Store(d.Pa(0), new byte[8]);
        d.Space.RetireCpu(cpu);
        Assert.DoesNotThrow(() => d.Space.RetireCpu(cpu));
        Assert.Multiple(() =>
        {
            Assert.That(d.Space.Cpus, Is.EqualTo(new[] { d.Cpu }));
            Assert.That(cpu.Stats.Stores, Is.EqualTo(1), "a retired CPU keeps its counters");
            Assert.Throws<ObjectDisposedException>(() => cpu.Sfence());
        });
    }

    [Test]
    public void AThreadsCpuCannotBeRetired()
    {
        using var d = new DeviceFixture();
        var mine = d.Space.CurrentCpu;
        var e = Assert.Throws<InvalidOperationException>(() => d.Space.RetireCpu(mine));
        Assert.That(e!.Message, Does.Contain($"cpu{mine.Id}").And.Contain("CurrentCpu"));
        Assert.Multiple(() =>
        {
            Assert.That(d.Space.Cpus, Does.Contain(mine));
            Assert.That(mine.IsRetired, Is.False);
            Assert.That(d.Space.CurrentCpu, Is.SameAs(mine));
            Assert.DoesNotThrow(() => mine.Persist(d.Pa(0), new byte[8]));
        });
    }

    [Test]
    public void ACpuOfAnotherSpaceCannotBeRetired()
    {
        using var d = new DeviceFixture();
        using var other = new DeviceFixture();
        Assert.Throws<ArgumentException>(() => d.Space.RetireCpu(other.Cpu));
        Assert.That(other.Cpu.IsRetired, Is.False);
    }

    /// <summary>
    /// The model's choice: a retired CPU never fences again, so its clwb, clflushopt and
    /// non-temporal stores stay in flight (another CPU's fence does not complete them) and the
    /// power failure decides, as for any unfenced line; the failure has nothing of the retired CPU
    /// to resolve, and the platform runs on.
    /// </summary>
    [TestCase("strict")]
    [TestCase("all")]
    public void UnfencedWriteBacksOfARetiredCpuStayInFlightUntilACrashResolvesThem(string policyName)
    {
        using var d = new DeviceFixture();
        var cpu = d.Space.CreateCpu();
        var data = DeviceFixture.Fill(64, 0xAB);
        cpu.Store(d.Pa(0), data);
        cpu.Clwb(d.Pa(0));
        cpu.Store(d.Pa(64), data);
        cpu.Clflushopt(d.Pa(64));
        cpu.NtStore(d.Pa(128), data);
        d.Space.RetireCpu(cpu);

        d.Cpu.Sfence();     // another CPU's fence completes only its own write-backs
        Assert.That(d.Space.InFlightLines().Select(l => l.PhysicalAddress), Is.EqualTo(new[] { d.Pa(0), d.Pa(64), d.Pa(128) }));

        d.Space.Crash(policyName == "strict" ? CrashPolicy.Strict : CrashPolicy.AllPersisted);
        var expected = policyName == "strict" ? new byte[64] : data;
        Assert.Multiple(() =>
        {
            Assert.That(d.Region.InFlightLineCount, Is.Zero);
            for (int line = 0; line < 3; line++)
                Assert.That(d.Persisted(line * 64, 64), Is.EqualTo(expected), $"line {line}");
        });

        // The platform runs on: a live CPU persists as usual, and a later failure finds nothing.
        d.Cpu.Store(d.Pa(0), DeviceFixture.Fill(64, 0x11));
        d.Cpu.Clwb(d.Pa(0));
        d.Cpu.Sfence();
        d.Space.Crash(CrashPolicy.Strict);
        Assert.That(d.Persisted(0, 64), Is.EqualTo(DeviceFixture.Fill(64, 0x11)));
    }

    [Test]
    public void AnotherCpuCanWriteBackAndFenceTheLinesARetiredCpuLeftInFlight()
    {
        using var d = new DeviceFixture();
        var cpu = d.Space.CreateCpu();
        var data = DeviceFixture.Fill(64, 0xCD);
        cpu.Store(d.Pa(0), data);
        cpu.Clwb(d.Pa(0));
        cpu.NtStore(d.Pa(64), data);
        d.Space.RetireCpu(cpu);

        d.Cpu.Flush(FlushKind.Clwb, d.Pa(0), 128);
        d.Cpu.Sfence();
        Assert.Multiple(() =>
        {
            Assert.That(d.Region.InFlightLineCount, Is.Zero);
            Assert.That(d.Persisted(0, 64), Is.EqualTo(data));
            Assert.That(d.Persisted(64, 64), Is.EqualTo(data));
        });
    }

    [Test]
    public void AWriteBackOfTheRegionPersistsWhatARetiredCpuLeftInFlight()
    {
        using var d = new DeviceFixture();
        var cpu = d.Space.CreateCpu();
        var data = DeviceFixture.Fill(64, 0xEF);
        cpu.NtStore(d.Pa(0), data);
        d.Space.RetireCpu(cpu);
        d.Region.WriteBackAll();
        d.Space.Crash(CrashPolicy.Strict);
        Assert.That(d.Persisted(0, 64), Is.EqualTo(data));
    }

    /// <summary>
    /// What a long-running process that makes and retires CPUs keeps: nothing per CPU, neither in
    /// the space's list nor in what it keeps for the meter.
    /// </summary>
    [Test]
    public void CreatingAndRetiringCpusDoesNotGrowWhatTheSpaceKeeps()
    {
        using var metrics = new DeviceMetrics();
        using var space = new PhysicalAddressSpace();
        var region = new NvdimmRegion("region0", new NativeMedia(1 << 20), CostProfiles.OptaneAdr);
        space.AddRegion(region);
        metrics.Attach(space);
        const int Cpus = 20_000;
        CreateUseAndRetire(space, region, 100);
        long before = GC.GetTotalMemory(forceFullCollection: true);
        CreateUseAndRetire(space, region, Cpus);
        long after = GC.GetTotalMemory(forceFullCollection: true);
        Assert.Multiple(() =>
        {
            Assert.That(space.Cpus, Is.Empty);
            // A CPU's stats and clock alone are some 170 bytes.
            Assert.That((after - before) / (double)Cpus, Is.LessThan(16), $"{after - before} bytes kept for {Cpus} retired CPUs");
        });
    }

    private static void CreateUseAndRetire(PhysicalAddressSpace space, NvdimmRegion region, int count)
    {
        for (int i = 0; i < count; i++)
        {
            var cpu = space.CreateCpu();
            cpu.Persist(region.BaseAddress + i % 64 * 64, new byte[64]);
            space.RetireCpu(cpu);
        }
    }
}
