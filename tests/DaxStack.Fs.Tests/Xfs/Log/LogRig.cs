using DaxStack.Driver.Block;
using DaxStack.Fs.Xfs.Log;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Tests.Xfs.Log;

/// <summary>A log of a chosen size on an in-memory pmem device, started clean as mkfs leaves it.</summary>
internal sealed class LogRig : IDisposable
{
    public static readonly Guid Uuid = new("5e1f0c3a-9b7d-4e21-8a6f-0123456789ab");
    private const long LogOffset = 64 * 1024;

    private LogRig(FsTestDevice device, XlogLocation location)
    {
        Dev = device;
        Location = location;
    }

    public FsTestDevice Dev { get; }

    public XlogLocation Location { get; }

    public static LogRig Create(uint blocks)
    {
        long size = Math.Max(4L << 20, (LogOffset + (long)blocks * 512 + (1 << 20)) & ~((1L << 20) - 1));
        var dev = FsTestDevice.InMemory(size);
        var rig = new LogRig(dev, new XlogLocation(LogOffset, blocks, Uuid));
        var first = new byte[XlogUnmountRecord.Size];
        XlogUnmountRecord.Write(first, Uuid);
        Assert.That(dev.Device.Write(LogOffset, first), Is.EqualTo(BlkStatus.Ok));
        Assert.That(dev.Device.Flush(), Is.EqualTo(BlkStatus.Ok));
        return rig;
    }

    public XlogRecovery Read() => XlogReader.Read(Dev.Device, Location);

    public XlogWriter Writer()
    {
        var status = XlogWriter.Resume(Dev.Device, Location, Read(), out var writer);
        Assert.That(status, Is.EqualTo(XlogStatus.Ok));
        return writer!;
    }

    public byte[] Raw(uint block, int blocks)
    {
        var b = new byte[blocks * 512];
        Assert.That(Dev.Device.Read(Location.BlockOffset(block), b), Is.EqualTo(BlkStatus.Ok));
        return b;
    }

    /// <summary>Changes log block <paramref name="block"/> on the media (read, modify, write, flush).</summary>
    public void Modify(uint block, Action<byte[]> change)
    {
        var sector = Raw(block, 1);
        change(sector);
        Assert.That(Dev.Device.Write(Location.BlockOffset(block), sector), Is.EqualTo(BlkStatus.Ok));
        Assert.That(Dev.Device.Flush(), Is.EqualTo(BlkStatus.Ok));
    }

    /// <summary>A transaction of <paramref name="regions"/> random ranges of up to <paramref name="maxBytes"/> bytes in 4 KiB buffers.</summary>
    public static XlogTransaction Transaction(uint tid, Random rng, int regions, int maxBytes = 600)
    {
        var list = new List<XlogRegion>();
        for (int i = 0; i < regions; i++)
        {
            int bufferLength = Math.Max(4096, maxBytes);
            int length = rng.Next(1, maxBytes + 1);
            int offset = rng.Next(0, bufferLength - length + 1);
            var bytes = new byte[length];
            rng.NextBytes(bytes);
            list.Add(new XlogRegion((ulong)rng.Next(0, 1 << 20) * 8, bufferLength, offset, bytes));
        }
        return new XlogTransaction(tid, list);
    }

    public static void AssertSame(XlogTransaction actual, XlogTransaction expected)
    {
        Assert.That(actual.Tid, Is.EqualTo(expected.Tid));
        Assert.That(actual.Regions, Has.Count.EqualTo(expected.Regions.Count), $"regions of transaction {expected.Tid:x}");
        for (int i = 0; i < expected.Regions.Count; i++)
        {
            var (a, e) = (actual.Regions[i], expected.Regions[i]);
            Assert.That((a.Daddr, a.BufferLength, a.Offset), Is.EqualTo((e.Daddr, e.BufferLength, e.Offset)), $"region {i} of transaction {expected.Tid:x}");
            Assert.That(a.Bytes, Is.EqualTo(e.Bytes), $"bytes of region {i} of transaction {expected.Tid:x}");
        }
    }

    public static void AssertSame(IReadOnlyList<XlogCommitted> actual, IReadOnlyList<XlogTransaction> expected)
    {
        Assert.That(actual.Select(c => c.Transaction.Tid), Is.EqualTo(expected.Select(t => t.Tid)));
        for (int i = 0; i < expected.Count; i++)
            AssertSame(actual[i].Transaction, expected[i]);
    }

    public void Dispose() => Dev.Dispose();
}
