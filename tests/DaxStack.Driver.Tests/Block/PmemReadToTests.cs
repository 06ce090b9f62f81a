using DaxStack.Device.Platform;
using DaxStack.Driver.Block;
using DaxStack.Tests.Shared;

namespace DaxStack.Driver.Tests.Block;

/// <summary>
/// Reads whose data the pmem driver hands straight to a sink (<see cref="IBlockDeviceReadTo"/>):
/// the bytes a read bio would return, a read bio's errors, and a sink that stops taking ends the
/// read where it stopped.
/// </summary>
public class PmemReadToTests
{
    [TestCase(4096, int.MaxValue)]
    [TestCase(1 << 20, int.MaxValue)]
    [TestCase(1 << 20, 300_001)]
    public void TheSinkGetsWhatAReadBioReturns(int length, int limit)
    {
        using var t = TestDevice.InMemory();
        var data = TestDevice.Pattern(2 << 20, 1);
        t.Device.Write(0, data, BioFlags.Fua);
        t.Device.Write(8192, TestDevice.Pattern(4096, 2));   // not flushed: reads see it all the same
        var expected = new byte[length];
        t.Device.Read(4096, expected);
        var sink = new BufferLoadSink(limit);

        Assert.That(t.Device.ReadTo(4096, length, sink, out long read), Is.EqualTo(BlkStatus.Ok));

        int taken = Math.Min(length, limit);
        Assert.That(read, Is.EqualTo(taken));
        Assert.That(sink.Taken, Is.EqualTo(expected.AsSpan(0, taken).ToArray()));
    }

    [Test]
    public void AReadTheSinkEndedEarlyGoesOnFromAnyByte()
    {
        using var t = TestDevice.InMemory();
        var data = TestDevice.Pattern(1 << 20, 3);
        t.Device.Write(0, data, BioFlags.Fua);
        var sink = new BufferLoadSink(1001);
        Assert.That(t.Device.ReadTo(4096, 100_000, sink, out long first), Is.EqualTo(BlkStatus.Ok));
        Assert.That(first, Is.EqualTo(1001));
        var rest = new BufferLoadSink(int.MaxValue);
        Assert.That(t.Device.ReadTo(4096 + first, 100_000 - first, rest, out long second), Is.EqualTo(BlkStatus.Ok));
        Assert.That(second, Is.EqualTo(100_000 - 1001));
        Assert.That(sink.Taken.Concat(rest.Taken).ToArray(), Is.EqualTo(data.AsSpan(4096, 100_000).ToArray()));
    }

    [Test]
    public void BadRangesAndPoisonFailAsAReadBioDoesBeforeTheSinkSeesAnything()
    {
        using var t = TestDevice.InMemory(size: 1 << 20);
        var sink = new BufferLoadSink(int.MaxValue);
        Assert.That(t.Device.ReadTo(-512, 512, sink, out _), Is.EqualTo(BlkStatus.Invalid));
        Assert.That(t.Device.ReadTo(0, -1, sink, out _), Is.EqualTo(BlkStatus.Invalid));
        Assert.That(t.Device.ReadTo((1 << 20) - 512, 1024, sink, out _), Is.EqualTo(BlkStatus.IoError));
        t.Region.InjectError(t.Device.Namespace, block: 100, count: 1);
        Assert.That(t.Device.ReadTo(0, 128 << 10, sink, out long read), Is.EqualTo(BlkStatus.IoError));
        Assert.That(read, Is.Zero);
        Assert.That(sink.Calls, Is.Zero);
        Assert.That(t.Device.ReadTo(64 << 10, 4096, sink, out read), Is.EqualTo(BlkStatus.Ok), "away from the poison it reads");
        Assert.That(read, Is.EqualTo(4096));
    }
}
