using DaxStack.Device.Cost;
using DaxStack.Device.Crash;
using DaxStack.Device.Platform;
using DaxStack.Tests.Shared;

namespace DaxStack.Device.Tests.Platform;

/// <summary>
/// Non-temporal stores whose bytes a source writes straight into pmem (<see cref="Cpu.NtStoreFrom"/>):
/// they must behave exactly as <see cref="Cpu.NtStore"/> of the same bytes (what loads see, what a
/// crash keeps, modeled time and counters), also when the source stops early or fails.
/// </summary>
public class NtStoreFromTests
{
    [TestCase(1)]
    [TestCase(100)]
    [TestCase(4096)]
    [TestCase(Cpu.StoreFromChunk + 4096 + 77)]   // more than one chunk, ending in a partial line
    public void ProducedBytesAreStoredLikeAnNtStoreOfThemAndAreLostAtACrashBeforeTheFence(int length)
    {
        using var d = new DeviceFixture(size: 2 << 20);
        var old = Random(1, d.Region.Size);
        d.Cpu.Persist(d.Pa(0), old);
        var data = Random(2, length);
        var source = new BufferStoreSource(data);

        int produced = d.Cpu.NtStoreFrom(d.Pa(333), length, source);

        Assert.That(produced, Is.EqualTo(length));
        var expected = (byte[])old.Clone();
        data.CopyTo(expected, 333);
        Assert.That(d.Load(0, old.Length), Is.EqualTo(expected));
        d.Space.Crash(CrashPolicy.Strict);
        Assert.That(d.Load(0, old.Length), Is.EqualTo(old), "not fenced: a strict crash puts back what was persisted");
    }

    [Test]
    public void AfterTheFenceTheProducedBytesSurviveACrash()
    {
        using var d = new DeviceFixture(size: 2 << 20);
        var old = Random(1, d.Region.Size);
        d.Cpu.Persist(d.Pa(0), old);
        var data = Random(3, Cpu.StoreFromChunk * 2 + 512);

        d.Cpu.NtStoreFrom(d.Pa(4096), data.Length, new BufferStoreSource(data));
        d.Cpu.Sfence();
        d.Space.Crash(CrashPolicy.Strict);

        var expected = (byte[])old.Clone();
        data.CopyTo(expected, 4096);
        Assert.That(d.Load(0, old.Length), Is.EqualTo(expected));
    }

    [TestCase(0)]
    [TestCase(1000)]
    [TestCase(Cpu.StoreFromChunk + 64)]
    public void ASourceThatStopsEarlyLeavesTheRestAsItWasAndTheStoreEndsThere(int available)
    {
        using var d = new DeviceFixture(size: 2 << 20);
        var old = Random(1, d.Region.Size);
        d.Cpu.Persist(d.Pa(0), old);
        var data = Random(4, Cpu.StoreFromChunk * 3);
        var source = new BufferStoreSource(data, limit: available);

        int produced = d.Cpu.NtStoreFrom(d.Pa(0), data.Length, source);

        Assert.That(produced, Is.EqualTo(available));
        Assert.That(source.Calls, Is.EqualTo(available / Cpu.StoreFromChunk + 1), "no chunk is handed out after a short one");
        var expected = (byte[])old.Clone();
        Array.Copy(data, expected, available);
        Assert.That(d.Load(0, old.Length), Is.EqualTo(expected));
        d.Cpu.Sfence();
        d.Space.Crash(CrashPolicy.Strict);
        Assert.That(d.Load(0, old.Length), Is.EqualTo(expected), "fenced: the produced bytes persist, the rest keeps its old bytes");
    }

    [Test]
    public void ModeledTimeCountersAndMediaMatchAnNtStoreOfTheSameBytes()
    {
        var data = Random(5, 3 * Cpu.StoreFromChunk / 2 + 200);
        using var a = new DeviceFixture(CostProfiles.OptaneAdr, size: 4 << 20);
        using var b = new DeviceFixture(CostProfiles.OptaneAdr, size: 4 << 20);
        foreach (var d in new[] { a, b })
            d.Cpu.Store(d.Pa(64), Random(6, 8192));   // some lines already in flight

        a.Cpu.NtStore(a.Pa(100), data);
        a.Cpu.Sfence();
        b.Cpu.NtStoreFrom(b.Pa(100), data.Length, new BufferStoreSource(data));
        b.Cpu.Sfence();

        Assert.That(b.Cpu.Clock.Nanoseconds, Is.EqualTo(a.Cpu.Clock.Nanoseconds));
        Assert.That(b.Cpu.Stats.NtStores, Is.EqualTo(a.Cpu.Stats.NtStores));
        Assert.That(b.Cpu.Stats.BytesNtStored, Is.EqualTo(a.Cpu.Stats.BytesNtStored));
        Assert.That(b.Region.InFlightLineCount, Is.EqualTo(a.Region.InFlightLineCount));
        Assert.That(b.Persisted(0, 1 << 20), Is.EqualTo(a.Persisted(0, 1 << 20)));
    }

    /// <summary>
    /// Audit: chunks were StoreFromChunk bytes from the (unaligned) start, so a chunk boundary
    /// fell inside a line and split its store in two. The crash states then included images an
    /// NtStore of the same bytes cannot leave: the line's first 8-byte aligned word torn.
    /// </summary>
    [TestCase(1)]
    [TestCase(100)]
    [TestCase(4095)]
    public void AnUnalignedStoreOfSeveralChunksLeavesTheSameStoreHistoryAsAnNtStore(int offset)
    {
        var data = Random(9, Cpu.StoreFromChunk * 2 + 300);
        using var a = new DeviceFixture(CostProfiles.OptaneAdr, size: 2 << 20);
        using var b = new DeviceFixture(CostProfiles.OptaneAdr, size: 2 << 20);

        a.Cpu.NtStore(a.Pa(offset), data);
        b.Cpu.NtStoreFrom(b.Pa(offset), data.Length, new BufferStoreSource(data));

        static string[] History(DeviceFixture d) =>
            [.. d.Region.InFlightLines().Select(l => $"{l.PhysicalAddress - d.Region.BaseAddress}:" + string.Join(",", l.Stores.Select(s => $"{s.Offset}+{s.Data.Length}")))];
        Assert.That(History(b), Is.EqualTo(History(a)));
        var spaceA = new CrashStateSpace(a.Region.InFlightLines());
        var spaceB = new CrashStateSpace(b.Region.InFlightLines());
        Assert.That(spaceB.CountPrefixes(), Is.EqualTo(spaceA.CountPrefixes()));
    }

    [Test]
    public void UnderEadrTheProducedBytesArePersistentAtOnce()
    {
        using var d = new DeviceFixture(CostProfiles.OptaneEadr, size: 1 << 20);
        var data = Random(7, 10_000);
        d.Cpu.NtStoreFrom(d.Pa(0), data.Length, new BufferStoreSource(data));
        d.Space.Crash(CrashPolicy.Strict);
        Assert.That(d.Load(0, data.Length), Is.EqualTo(data));
    }

    [Test]
    public void ASourceThatFailsLeavesTheRegionUsableAndItsChunkRevertsAtACrash()
    {
        using var d = new DeviceFixture(size: 2 << 20);
        var old = Random(1, d.Region.Size);
        d.Cpu.Persist(d.Pa(0), old);
        var data = Random(8, Cpu.StoreFromChunk * 2);
        var source = new BufferStoreSource(data, limit: Cpu.StoreFromChunk + 500, throwWhenShort: true);

        Assert.That(() => d.Cpu.NtStoreFrom(d.Pa(0), data.Length, source), Throws.InstanceOf<IOException>());

        // The region lock was released: another CPU can work there.
        var other = d.Space.CreateCpu();
        other.Store(d.Pa(d.Region.Size - 64), new byte[64]);
        d.Space.Crash(CrashPolicy.Strict);
        Assert.That(d.Load(0, old.Length), Is.EqualTo(old), "nothing was fenced: every handed chunk reverts");
    }

    [Test]
    public void ASourceThatClaimsMoreThanItsRoomIsRefused()
    {
        using var d = new DeviceFixture();
        var source = new OverclaimingSource();
        Assert.That(() => d.Cpu.NtStoreFrom(d.Pa(0), 4096, source), Throws.InvalidOperationException.With.Message.Contains("room for 4096"));
        Assert.That(() => d.Cpu.NtStoreFrom(d.Pa(0), -1, source), Throws.InstanceOf<ArgumentOutOfRangeException>());
        d.Cpu.Store(d.Pa(0), new byte[8]);   // the lock is free again
    }

    private static byte[] Random(int seed, long length)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    private sealed class OverclaimingSource : IStoreSource
    {
        public int CopyTo(Span<byte> destination) => destination.Length + 1;
    }
}
