using DaxStack.Device.Cost;
using DaxStack.Device.Platform;

namespace DaxStack.Device.Tests.Platform;

/// <summary>
/// An operation on no bytes executes no instruction: the CPU's counters stay as they were, whichever
/// entry point it came through. (Audit: empty Load, Store, NtStore and Persist each counted one
/// instruction, while empty LoadTo, NtStoreFrom and flush ranges counted none.)
/// </summary>
public class EmptyOperationStatsTests
{
    private sealed class NoBytes : IStoreSource, ILoadSink
    {
        public int CopyTo(Span<byte> destination) => 0;
        public int CopyFrom(ReadOnlySpan<byte> source) => 0;
    }

    public static IEnumerable<TestCaseData> EmptyOperations()
    {
        yield return new TestCaseData((Action<Cpu, long>)((cpu, pa) => cpu.Load(pa, Span<byte>.Empty))).SetName("Load");
        yield return new TestCaseData((Action<Cpu, long>)((cpu, pa) => cpu.LoadTo(pa, 0, new NoBytes()))).SetName("LoadTo");
        yield return new TestCaseData((Action<Cpu, long>)((cpu, pa) => cpu.Store(pa, ReadOnlySpan<byte>.Empty))).SetName("Store");
        yield return new TestCaseData((Action<Cpu, long>)((cpu, pa) => cpu.NtStore(pa, ReadOnlySpan<byte>.Empty))).SetName("NtStore");
        yield return new TestCaseData((Action<Cpu, long>)((cpu, pa) => cpu.NtStoreFrom(pa, 0, new NoBytes()))).SetName("NtStoreFrom");
        yield return new TestCaseData((Action<Cpu, long>)((cpu, pa) => cpu.Flush(FlushKind.Clwb, pa, 0))).SetName("Flush");
    }

    [TestCaseSource(nameof(EmptyOperations))]
    public void AnEmptyOperationCountsNothing(Action<Cpu, long> operation)
    {
        using var d = new DeviceFixture();
        var before = d.Cpu.Stats.Snapshot();
        operation(d.Cpu, d.Pa(4096));
        var after = d.Cpu.Stats.Snapshot();
        Assert.Multiple(() =>
        {
            Assert.That(after.Loads, Is.EqualTo(before.Loads));
            Assert.That(after.BytesLoaded, Is.EqualTo(before.BytesLoaded));
            Assert.That(after.Stores, Is.EqualTo(before.Stores));
            Assert.That(after.BytesStored, Is.EqualTo(before.BytesStored));
            Assert.That(after.NtStores, Is.EqualTo(before.NtStores));
            Assert.That(after.BytesNtStored, Is.EqualTo(before.BytesNtStored));
            Assert.That(after.Clwb, Is.EqualTo(before.Clwb));
        });
    }

    [Test]
    public void AnEmptyPersistCountsOnlyItsFence()
    {
        using var d = new DeviceFixture();
        d.Cpu.Persist(d.Pa(0), ReadOnlySpan<byte>.Empty);
        Assert.Multiple(() =>
        {
            Assert.That(d.Cpu.Stats.NtStores, Is.Zero);
            Assert.That(d.Cpu.Stats.Sfence, Is.EqualTo(1));
        });
    }

    [Test]
    public void AOneByteOperationCountsOne()
    {
        using var d = new DeviceFixture();
        var one = new byte[1];
        d.Cpu.Load(d.Pa(0), one);
        d.Cpu.Store(d.Pa(0), one);
        d.Cpu.NtStore(d.Pa(64), one);
        Assert.Multiple(() =>
        {
            Assert.That(d.Cpu.Stats.Loads, Is.EqualTo(1));
            Assert.That(d.Cpu.Stats.Stores, Is.EqualTo(1));
            Assert.That(d.Cpu.Stats.NtStores, Is.EqualTo(1));
            Assert.That(d.Cpu.Stats.BytesNtStored, Is.EqualTo(1));
        });
    }
}
