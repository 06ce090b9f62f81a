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
}
