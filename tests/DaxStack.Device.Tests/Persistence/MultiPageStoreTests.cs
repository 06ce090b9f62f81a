using DaxStack.Device.Crash;

namespace DaxStack.Device.Tests.Persistence;

/// <summary>
/// Stores of many pages: the tracker saves each page's persisted bytes and writes the page's new
/// data page by page, so a store must read as one copy would, and a crash must put back what
/// was persisted before it, whatever the mix of clean, dirty and partial pages, and even when
/// the source is the media itself (memmove inside pmem).
/// </summary>
public unsafe class MultiPageStoreTests
{
    [TestCase(0, 5 * 4096)]          // whole clean pages
    [TestCase(100, 5 * 4096)]        // partial first and last pages
    [TestCase(4096 - 8, 3 * 4096 + 16)]
    public void AStoreOverCleanAndDirtyPagesReadsBackAndCrashesToThePersistedBytes(int offset, int length)
    {
        using var d = new DeviceFixture();
        var old = new byte[8 * 4096];
        new Random(1).NextBytes(old);
        d.Cpu.Persist(d.Pa(0), old);
        // One page already holds stores in flight: its persisted bytes are those of 'old'.
        d.Cpu.Store(d.Pa(2 * 4096 + 64), DeviceFixture.Fill(200, 0xEE));
        var expected = d.Load(0, old.Length);
        var data = new byte[length];
        new Random(2).NextBytes(data);
        d.Cpu.Store(d.Pa(offset), data);
        data.CopyTo(expected, offset);
        Assert.That(d.Load(0, old.Length), Is.EqualTo(expected));
        d.Space.Crash(CrashPolicy.Strict);
        Assert.That(d.Load(0, old.Length), Is.EqualTo(old));
    }

    [TestCase(4096 + 512)]      // source after the destination
    [TestCase(-(4096 + 512))]   // source before the destination
    public void AStoreWhoseSourceOverlapsItsDestinationMovesTheBytesAsOneCopy(int shift)
    {
        using var d = new DeviceFixture();
        var old = new byte[16 * 4096];
        new Random(3).NextBytes(old);
        d.Cpu.Persist(d.Pa(0), old);
        const int destination = 5 * 4096, length = 4 * 4096 + 100;
        var source = new ReadOnlySpan<byte>(d.Region.Media.Pointer + destination + shift, length);
        var expected = (byte[])old.Clone();
        Array.Copy(old, destination + shift, expected, destination, length);
        d.Cpu.Store(d.Pa(destination), source);
        Assert.That(d.Load(0, old.Length), Is.EqualTo(expected));
        d.Space.Crash(CrashPolicy.Strict);
        Assert.That(d.Load(0, old.Length), Is.EqualTo(old));
    }

    // 6 pages: the persisted bytes go aside through the cache; 20 pages: past the 16 page slots
    // the tracker starts with; 130 pages (520 KiB): past the length from which they are streamed
    // around the cache.
    [TestCase(6, false)]
    [TestCase(6, true)]
    [TestCase(20, false)]
    [TestCase(130, false)]
    [TestCase(130, true)]
    public void AnNtStoreOfWholeCleanPagesKeepsEveryLinesPersistedBytesUntilTheFence(int pages, bool fromMedia)
    {
        using var d = new DeviceFixture(size: 4 << 20);
        int length = pages * 4096;
        const int destination = 4096;
        var old = new byte[(2 * pages + 2) * 4096];
        new Random(4).NextBytes(old);
        d.Cpu.Persist(d.Pa(0), old);
        var data = new byte[length];
        new Random(5).NextBytes(data);
        if (fromMedia)
        {
            // The source sits in the media right after the destination, touching it but not overlapping.
            d.Cpu.Persist(d.Pa(destination + length), data);
            old = d.Load(0, old.Length);
            d.Cpu.NtStore(d.Pa(destination), new ReadOnlySpan<byte>(d.Region.Media.Pointer + destination + length, length));
        }
        else
            d.Cpu.NtStore(d.Pa(destination), data);

        var expected = (byte[])old.Clone();
        data.CopyTo(expected, destination);
        Assert.That(d.Load(0, old.Length), Is.EqualTo(expected));
        Assert.That(d.Persisted(0, old.Length), Is.EqualTo(old));
        var lines = d.Space.InFlightLines();
        Assert.That(lines, Has.Count.EqualTo(pages * 64));
        for (int i = 0; i < lines.Count; i++)
        {
            long at = destination + i * 64L;
            Assert.Multiple(() =>
            {
                Assert.That(lines[i].PhysicalAddress, Is.EqualTo(d.Pa(at)));
                Assert.That(lines[i].Persisted.ToArray(), Is.EqualTo(old.AsSpan((int)at, 64).ToArray()));
                Assert.That(lines[i].Stores, Has.Count.EqualTo(1));
                Assert.That(lines[i].CurrentContent(), Is.EqualTo(data.AsSpan(i * 64, 64).ToArray()));
                Assert.That(lines[i].WriteBackIssued, Is.EqualTo(1));
            });
        }

        d.Cpu.Sfence();
        Assert.That(d.Space.InFlightLines(), Is.Empty);
        d.Space.Crash(CrashPolicy.Strict);
        Assert.That(d.Load(0, old.Length), Is.EqualTo(expected));
    }
}
