using DaxStack.Device.Crash;
using DaxStack.Device.Platform;
using DaxStack.Driver.Block;
using DaxStack.Tests.Shared;

namespace DaxStack.Driver.Tests.Block;

/// <summary>
/// Writes whose data a source produces straight into the pmem namespace
/// (<see cref="IBlockDeviceWriteFrom"/>): the same meaning as a write bio of those bytes (visible
/// at once, durable after a flush or with FUA, the bio's errors), and a source that stops early
/// ends the write where it stopped.
/// </summary>
public class PmemWriteFromTests
{
    [TestCase(4096)]
    [TestCase(Cpu.StoreFromChunk * 2 + 4096)]
    public void AWriteFromASourceReadsBackAndIsLostAtAStrictCrashWithoutAFlush(int length)
    {
        using var t = TestDevice.InMemory();
        var data = TestDevice.Pattern(length, 1);

        Assert.That(t.Device.WriteFrom(8192, length, new BufferStoreSource(data), BioFlags.None, out long written), Is.EqualTo(BlkStatus.Ok));

        Assert.That(written, Is.EqualTo(length));
        var back = new byte[length];
        t.Device.Read(8192, back);
        Assert.That(back, Is.EqualTo(data));
        t.Bus.Space.Crash(CrashPolicy.Strict);
        t.Device.Read(8192, back);
        Assert.That(back, Is.All.Zero, "never flushed: lost");
    }

    [Test]
    public void AFlushOrFuaMakesItDurable()
    {
        using var t = TestDevice.InMemory();
        var a = TestDevice.Pattern(64 << 10, 2);
        var b = TestDevice.Pattern(8192, 3);
        t.Device.WriteFrom(0, a.Length, new BufferStoreSource(a), BioFlags.None, out _);
        Assert.That(t.Device.Flush(), Is.EqualTo(BlkStatus.Ok));
        t.Device.WriteFrom(1 << 20, b.Length, new BufferStoreSource(b), BioFlags.Fua, out _);
        t.Bus.Space.Crash(CrashPolicy.Strict);

        Assert.That(t.Persisted(0, a.Length), Is.EqualTo(a));
        Assert.That(t.Persisted(1 << 20, b.Length), Is.EqualTo(b));
    }

    [Test]
    public void ASourceThatStopsEarlyEndsTheWriteThereAndLeavesTheRestUntouched()
    {
        using var t = TestDevice.InMemory();
        var old = TestDevice.Pattern(64 << 10, 4);
        t.Device.Write(0, old, BioFlags.Fua);
        var data = TestDevice.Pattern(64 << 10, 5);

        Assert.That(t.Device.WriteFrom(0, data.Length, new BufferStoreSource(data, limit: 10_000), BioFlags.Fua, out long written), Is.EqualTo(BlkStatus.Ok));

        Assert.That(written, Is.EqualTo(10_000));
        var expected = (byte[])old.Clone();
        Array.Copy(data, expected, 10_000);
        t.Bus.Space.Crash(CrashPolicy.Strict);
        Assert.That(t.Persisted(0, expected.Length), Is.EqualTo(expected), "FUA: what was produced is durable; the rest is as it was");
    }

    [Test]
    public void BadRangesFailAsAWriteBioDoesAndNothingIsAskedOfTheSource()
    {
        using var t = TestDevice.InMemory(size: 1 << 20);
        var source = new BufferStoreSource(new byte[8192]);
        Assert.That(t.Device.WriteFrom(100, 512, source, BioFlags.None, out long w1), Is.EqualTo(BlkStatus.Invalid));
        Assert.That(t.Device.WriteFrom(0, 100, source, BioFlags.None, out _), Is.EqualTo(BlkStatus.Invalid));
        Assert.That(t.Device.WriteFrom(-512, 512, source, BioFlags.None, out _), Is.EqualTo(BlkStatus.Invalid));
        Assert.That(t.Device.WriteFrom((1 << 20) - 512, 1024, source, BioFlags.None, out _), Is.EqualTo(BlkStatus.IoError));
        Assert.That(source.Calls, Is.Zero);
        Assert.That(w1, Is.Zero);
    }

    [Test]
    public void AReadOnlyDeviceRefusesIt()
    {
        string dir = Directory.CreateTempSubdirectory("daxstack-drv-").FullName;
        try
        {
            string image = Path.Combine(dir, "pmem.img");
            using (var f = File.Create(image))
                f.SetLength(4 << 20);
            using var t = TestDevice.Image(image, readOnly: true);
            var source = new BufferStoreSource(new byte[4096]);
            Assert.That(t.Device.WriteFrom(0, 4096, source, BioFlags.None, out _), Is.EqualTo(BlkStatus.IoError));
            Assert.That(source.Calls, Is.Zero);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void PoisonIsClearedOnlyForTheSectorsTheSourceFilled()
    {
        using var t = TestDevice.InMemory();
        var ns = t.Device.Namespace;
        t.Region.InjectError(ns, block: 8, count: 8);   // bytes 4096-8191
        var data = TestDevice.Pattern(8192, 6);

        // The source fills 4096 + 1000 bytes: poisoned sector 8 whole (4096-4607), sector 9 in part.
        t.Device.WriteFrom(0, data.Length, new BufferStoreSource(data, limit: 4096 + 1000), BioFlags.Fua, out long written);

        Assert.That(written, Is.EqualTo(5096));
        Assert.That(t.Region.BadBlocks(ns).Select(b => (b.Block, b.Count)), Is.EqualTo(new[] { (9L, 7L) }));
        Assert.That(t.Device.Read(4096, new byte[512]), Is.EqualTo(BlkStatus.Ok));
        Assert.That(t.Device.Read(4608, new byte[512]), Is.EqualTo(BlkStatus.IoError), "filled in part: still poisoned");
    }
}
