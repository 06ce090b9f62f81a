using System.Numerics;
using DaxStack.Device.Crash;
using DaxStack.Device.Platform;

namespace DaxStack.Device.Tests.Persistence;

/// <summary>The ADR persistence rules of DESIGN.md section 3, one per test, through the public API.</summary>
public class AdrPersistenceTests
{
    private static readonly byte[] A = DeviceFixture.Fill(64, 0xAA);
    private static readonly byte[] B = DeviceFixture.Fill(64, 0xBB);
    private static readonly byte[] Zero = new byte[64];

    [Test]
    public void StoreIsVisibleToLoadsAtOnce()
    {
        using var d = new DeviceFixture();
        d.Cpu.Store(d.Pa(128), A);
        Assert.That(d.Load(128, 64), Is.EqualTo(A));
    }

    [Test]
    public void StoreWithoutFlushIsLostAtStrictCrash()
    {
        using var d = new DeviceFixture();
        d.Cpu.Store(d.Pa(0), A);
        Assert.That(d.Region.InFlightLineCount, Is.EqualTo(1));
        d.Space.Crash(CrashPolicy.Strict);
        Assert.That(d.Load(0, 64), Is.EqualTo(Zero));
        Assert.That(d.Region.InFlightLineCount, Is.Zero);
    }

    [Test]
    public void ClwbWithoutFenceIsNotYetPersistent()
    {
        using var d = new DeviceFixture();
        d.Cpu.Store(d.Pa(0), A);
        d.Cpu.Clwb(d.Pa(0));
        Assert.That(d.Persisted(0, 64), Is.EqualTo(Zero));
        d.Space.Crash(CrashPolicy.Strict);
        Assert.That(d.Load(0, 64), Is.EqualTo(Zero));
    }

    [TestCase(0)] // clwb
    [TestCase(1)] // clflushopt
    public void WeakFlushThenSfenceSurvivesStrictCrash(int flush)
    {
        using var d = new DeviceFixture();
        d.Cpu.Store(d.Pa(4096), A);
        if (flush == 0) d.Cpu.Clwb(d.Pa(4096)); else d.Cpu.Clflushopt(d.Pa(4096));
        d.Cpu.Sfence();
        Assert.That(d.Persisted(4096, 64), Is.EqualTo(A));
        d.Space.Crash(CrashPolicy.Strict);
        Assert.That(d.Load(4096, 64), Is.EqualTo(A));
    }

    [Test]
    public void ClflushPersistsWithoutAFence()
    {
        using var d = new DeviceFixture();
        d.Cpu.Store(d.Pa(64), A);
        d.Cpu.Clflush(d.Pa(64 + 17)); // any address inside the line names the line
        d.Space.Crash(CrashPolicy.Strict);
        Assert.That(d.Load(64, 64), Is.EqualTo(A));
    }

    [Test]
    public void NonTemporalStoreNeedsAFence()
    {
        using var d = new DeviceFixture();
        d.Cpu.NtStore(d.Pa(0), A);
        d.Cpu.NtStore(d.Pa(64), B);
        d.Cpu.Mfence();
        d.Cpu.NtStore(d.Pa(128), A);
        d.Space.Crash(CrashPolicy.Strict);
        Assert.Multiple(() =>
        {
            Assert.That(d.Load(0, 64), Is.EqualTo(A));
            Assert.That(d.Load(64, 64), Is.EqualTo(B));
            Assert.That(d.Load(128, 64), Is.EqualTo(Zero), "ntstore not yet fenced");
        });
    }

    [Test]
    public void FencePersistsTheContentAtWriteBackTimeNotLaterStores()
    {
        using var d = new DeviceFixture();
        d.Cpu.Store(d.Pa(0), A);
        d.Cpu.Clwb(d.Pa(0));
        d.Cpu.Store(d.Pa(8), B.AsSpan(0, 8));   // after the clwb, before the fence
        d.Cpu.Sfence();
        var expected = (byte[])A.Clone();
        Assert.That(d.Persisted(0, 64), Is.EqualTo(expected));
        d.Space.Crash(CrashPolicy.Strict);
        Assert.That(d.Load(0, 64), Is.EqualTo(expected));
    }

    [Test]
    public void AFenceOnAnotherCpuDoesNotCompleteThisCpusWriteBack()
    {
        using var d = new DeviceFixture();
        var other = d.Space.CreateCpu();
        d.Cpu.Store(d.Pa(0), A);
        d.Cpu.Clwb(d.Pa(0));
        other.Sfence();
        Assert.That(d.Persisted(0, 64), Is.EqualTo(Zero));
        d.Cpu.Sfence();
        Assert.That(d.Persisted(0, 64), Is.EqualTo(A));
    }

    [Test]
    public void LinesAreIndependent()
    {
        using var d = new DeviceFixture();
        d.Cpu.Store(d.Pa(0), A);
        d.Cpu.Store(d.Pa(64), B);
        d.Cpu.Clwb(d.Pa(64));
        d.Cpu.Sfence();
        d.Space.Crash(CrashPolicy.Strict);
        Assert.That(d.Load(0, 128), Is.EqualTo(Zero.Concat(B).ToArray()));
    }

    [Test]
    public void RangeFlushCoversEveryTouchedLine()
    {
        using var d = new DeviceFixture();
        var data = DeviceFixture.Fill(300, 0x5A);
        d.Cpu.Store(d.Pa(10), data);               // touches lines 0..4
        d.Cpu.Flush(Device.Cost.FlushKind.Clflushopt, d.Pa(10), data.Length);
        d.Cpu.Sfence();
        d.Space.Crash(CrashPolicy.Strict);
        Assert.That(d.Load(10, 300), Is.EqualTo(data));
    }

    [Test]
    public void FusedPersistIsPersistentOnReturnAndFencesEarlierWriteBacks()
    {
        using var d = new DeviceFixture();
        d.Cpu.Store(d.Pa(65536), B);
        d.Cpu.Clwb(d.Pa(65536));                   // outstanding write-back of this CPU
        d.Cpu.Store(d.Pa(0), A);                   // dirty line inside the range Persist overwrites
        d.Cpu.Store(d.Pa(70000), A);               // dirty, never flushed
        var big = DeviceFixture.Fill(3 * 4096 + 100, 0x33);
        d.Cpu.Persist(d.Pa(0), big);
        d.Space.Crash(CrashPolicy.Strict);
        Assert.Multiple(() =>
        {
            Assert.That(d.Load(0, big.Length), Is.EqualTo(big));
            Assert.That(d.Load(65536, 64), Is.EqualTo(B), "Persist's fence completes earlier write-backs");
            Assert.That(d.Load(70000, 64), Is.EqualTo(Zero), "unflushed stores elsewhere are still lost");
        });
    }

    [Test]
    public void AllPersistedKeepsEveryStore()
    {
        using var d = new DeviceFixture();
        d.Cpu.Store(d.Pa(0), A);
        d.Cpu.Store(d.Pa(30), B.AsSpan(0, 20));
        var expected = d.Load(0, 64);
        d.Space.Crash(CrashPolicy.AllPersisted);
        Assert.That(d.Load(0, 64), Is.EqualTo(expected));
    }

    [Test]
    public void AlignedEightByteStoresNeverTear()
    {
        for (int seed = 0; seed < 200; seed++)
        {
            using var d = new DeviceFixture();
            d.Cpu.StoreUInt64(d.Pa(0), 0x1111111111111111);
            d.Cpu.Clwb(d.Pa(0)); d.Cpu.Sfence();
            d.Cpu.StoreUInt64(d.Pa(0), 0x2222222222222222);
            d.Space.Crash(CrashPolicy.Random(seed));
            Assert.That(d.Cpu.LoadUInt64(d.Pa(0)), Is.EqualTo(0x1111111111111111UL).Or.EqualTo(0x2222222222222222UL), $"seed {seed}");
        }
    }

    [Test]
    public void RandomCrashLeavesAPrefixOfEachLinesStoresInProgramOrder()
    {
        var seen = new HashSet<string>();
        for (int seed = 0; seed < 300; seed++)
        {
            using var d = new DeviceFixture();
            d.Cpu.StoreUInt64(d.Pa(0), 1);   // first store
            d.Cpu.StoreUInt64(d.Pa(8), 2);   // second store, same line
            d.Cpu.StoreUInt64(d.Pa(0), 3);   // third store overwrites the first
            d.Space.Crash(CrashPolicy.Random(seed));
            ulong w0 = d.Cpu.LoadUInt64(d.Pa(0)), w1 = d.Cpu.LoadUInt64(d.Pa(8));
            string state = $"{w0},{w1}";
            Assert.That(state, Is.AnyOf("0,0", "1,0", "1,2", "3,2"), $"seed {seed}: not a prefix");
            seen.Add(state);
        }
        Assert.That(seen, Has.Count.EqualTo(4), "every prefix should be reachable across 300 seeds");
    }

    [Test]
    public void RandomCrashIsReproducibleFromItsSeed()
    {
        byte[] Run(int seed)
        {
            using var d = new DeviceFixture();
            for (int i = 0; i < 64; i++)
                d.Cpu.StoreUInt64(d.Pa(i * 72L), (ulong)(i + 1) * 0x0101010101010101UL);
            d.Space.Crash(CrashPolicy.Random(seed));
            return d.Load(0, 64 * 72);
        }
        byte[] first = Run(42), again = Run(42), other = Run(43);
        Assert.Multiple(() =>
        {
            Assert.That(again, Is.EqualTo(first));
            Assert.That(other, Is.Not.EqualTo(first));
        });
    }

    [Test]
    public void ReadPersistedShowsOnlyPersistedBytes()
    {
        using var d = new DeviceFixture();
        d.Cpu.Store(d.Pa(0), A);
        d.Cpu.Clwb(d.Pa(0)); d.Cpu.Sfence();
        d.Cpu.Store(d.Pa(16), B.AsSpan(0, 4));
        var expected = (byte[])A.Clone();
        Assert.That(d.Persisted(0, 64), Is.EqualTo(expected));
        Assert.That(d.Load(16, 4), Is.EqualTo(B.AsSpan(0, 4).ToArray()));
    }

    [Test]
    public void AnEmptyStorePutsNoLineInFlight()
    {
        using var d = new DeviceFixture();
        d.Cpu.Store(d.Pa(3), ReadOnlySpan<byte>.Empty);
        Assert.That(d.Region.InFlightLineCount, Is.Zero);
        Assert.That(new CrashStateSpace(d.Space.InFlightLines()).CountPrefixes(), Is.EqualTo(BigInteger.One));
    }

    [TestCase(false)] // NtStore then sfence
    [TestCase(true)]  // Persist (fused)
    public void AnEmptyNonTemporalStoreDoesNotWriteBackTheLineItNames(bool fused)
    {
        using var d = new DeviceFixture();
        d.Cpu.Store(d.Pa(0), A.AsSpan(0, 8));       // cached, never flushed
        if (fused)
            d.Cpu.Persist(d.Pa(3), ReadOnlySpan<byte>.Empty);
        else
        {
            d.Cpu.NtStore(d.Pa(3), ReadOnlySpan<byte>.Empty);
            d.Cpu.Sfence();
        }
        Assert.That(d.Persisted(0, 64), Is.EqualTo(Zero), "no byte was stored non-temporally, so nothing was written back");
        d.Space.Crash(CrashPolicy.Strict);
        Assert.That(d.Load(0, 64), Is.EqualTo(Zero));
    }

    [Test]
    public void OrderlyShutdownWritesBackEveryStore()
    {
        using var d = new DeviceFixture();
        d.Cpu.Store(d.Pa(0), A);
        d.Region.WriteBackAll();
        Assert.That(d.Region.InFlightLineCount, Is.Zero);
        d.Space.Crash(CrashPolicy.Strict);
        Assert.That(d.Load(0, 64), Is.EqualTo(A));
    }
}
