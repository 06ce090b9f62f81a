using DaxStack.Device.Cost;
using DaxStack.Device.Crash;
using DaxStack.Device.Platform;
using DaxStack.Device.Tests.Namespaces;
using DaxStack.Tests.Shared;

namespace DaxStack.Device.Tests.Platform;

/// <summary>A CPU instruction on a region whose media was released fails cleanly instead of reaching unmapped memory.</summary>
public class DisposedRegionTests
{
    private static readonly (string Name, Action<Cpu, long> Run)[] Instructions =
    [
        ("load", (c, pa) => c.Load(pa, new byte[8])),
        ("load-to", (c, pa) => c.LoadTo(pa, 8, new BufferLoadSink())),
        ("store", (c, pa) => c.Store(pa, new byte[8])),
        ("nt-store", (c, pa) => c.NtStore(pa, new byte[8])),
        ("persist", (c, pa) => c.Persist(pa, new byte[8])),
        ("clwb", (c, pa) => c.Clwb(pa)),
        ("clflush range", (c, pa) => c.Flush(FlushKind.Clflush, pa, 4096)),
    ];

    private static IEnumerable<string> InstructionNames => Instructions.Select(i => i.Name);

    [TestCaseSource(nameof(InstructionNames))]
    public void AnInstructionOnADisposedSpaceThrowsObjectDisposed(string name)
    {
        var d = new DeviceFixture();
        d.Cpu.Load(d.Pa(0), new byte[8]);   // the CPU has the region cached as its last one
        d.Dispose();
        var run = Instructions.Single(i => i.Name == name).Run;
        var e = Assert.Throws<ObjectDisposedException>(() => run(d.Cpu, d.Pa(64)));
        Assert.That(e!.Message, Does.Contain("region0"));
    }

    [Test]
    public void ReadingThePersistedContentOfADisposedRegionThrowsObjectDisposed()
    {
        var d = new DeviceFixture();
        d.Dispose();
        Assert.Throws<ObjectDisposedException>(() => d.Region.ReadPersisted(0, new byte[8]));
    }

    [Test]
    public void AFenceAndACrashAfterTheDisposeHaveNothingLeftToDo()
    {
        var d = new DeviceFixture();
        d.Cpu.Store(d.Pa(0), new byte[64]);
        d.Cpu.Clwb(d.Pa(0));
        d.Dispose();
        Assert.DoesNotThrow(d.Cpu.Sfence);
        Assert.DoesNotThrow(() => d.Space.Crash(CrashPolicy.Strict));
        Assert.That(d.Space.InFlightLines(), Is.Empty);
    }

    [Test]
    public void ALoadFromAnImageUnmappedByTheBusDisposeThrowsObjectDisposed()
    {
        using var dir = new ImageDirectory();
        var bus = ImageDirectory.NewBus();
        var region = bus.CreateImage(dir.PathOf("pmem.img"), 1 << 20);
        var cpu = bus.Space.CurrentCpu;
        long pa = region.Region.BaseAddress;
        cpu.Store(pa, new byte[] { 42 });
        bus.Dispose();
        Assert.Throws<ObjectDisposedException>(() => cpu.Load(pa, new byte[1]));
        Assert.Throws<ObjectDisposedException>(() => cpu.Store(pa, new byte[1]));
        Assert.That(File.ReadAllBytes(dir.PathOf("pmem.img"))[0], Is.EqualTo(42), "the orderly exit wrote the store back");
    }
}
