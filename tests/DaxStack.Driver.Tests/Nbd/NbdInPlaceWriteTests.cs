using static DaxStack.Driver.Tests.Nbd.RawNbdClient;

namespace DaxStack.Driver.Tests.Nbd;

/// <summary>
/// Large block-aligned writes, whose payload the server receives straight from the socket into the
/// pmem namespace: however the payload arrives (at once, in odd pieces, a byte at a time at a
/// block's edge), the write means what any write means (visible once answered, lost at a power
/// failure unless flushed or FUA), in order with the requests around it, and a client that goes
/// away in the middle loses nothing else.
/// </summary>
[NonParallelizable]   // counts the driver's activities, which every test in the process would add to
public class NbdInPlaceWriteTests
{
    private DriverActivityRecorder _activities = null!;

    [SetUp]
    public void SetUp() => _activities = new DriverActivityRecorder();

    [TearDown]
    public void TearDown() => _activities.Dispose();

    private int InPlaceWrites => _activities.Count("pmem_write_from");

    [TestCase(512, 128 << 10, 0)]
    [TestCase(512, 1 << 20, 1)]
    [TestCase(4096, 3 << 20, 5)]      // larger than a reply buffer: once the pipe path took it
    [TestCase(4096, 1 << 20, 7)]
    public async Task AWriteSentInPiecesReadsBackAndIsLostAtPowerFailureUnlessFlushed(int blockSize, int length, int split)
    {
        await using var server = await NbdTestServer.StartAsync(8 << 20, blockSize);
        using var client = server.Go();
        var data = NbdTestServer.Pattern(length, length + split);
        ulong handle = client.SendRequest(CmdWrite, 0, 4 << 20, (uint)length);
        // The payload arrives at once, or in pieces that cut blocks: a few bytes, then the rest of
        // a block, then odd sizes, with pauses so the server sees each piece alone.
        int[] pieces = split switch
        {
            0 => [length],
            1 => [1, blockSize - 1, 100_000, 3, length],
            5 => [70_000, 5, 1 << 20, blockSize + 1, length],
            _ => [blockSize / 2, 1, 1, 1, 300_000, length],
        };
        int sent = 0;
        foreach (int piece in pieces)
        {
            int n = Math.Min(piece, length - sent);
            client.Send(data.AsSpan(sent, n));
            sent += n;
            if (sent == length)
                break;
            Thread.Sleep(20);
        }
        Assert.That(client.ReadSimpleReply(handle), Is.Zero);

        Assert.That(client.ReadOk(4 << 20, length), Is.EqualTo(data));
        Assert.That(InPlaceWrites, Is.GreaterThan(0), "the payload went straight into the device");
        server.PowerFailure();
        Assert.That(server.DeviceBytes(4 << 20, length), Is.All.Zero, "neither flushed nor FUA: lost");
    }

    [Test]
    public async Task FlushedAndFuaInPlaceWritesSurviveAPowerFailure()
    {
        await using var server = await NbdTestServer.StartAsync(8 << 20);
        using var client = server.Go();
        var flushed = NbdTestServer.Pattern(1 << 20, 1);
        var fua = NbdTestServer.Pattern(512 << 10, 2);
        Assert.That(client.Write(0, flushed), Is.Zero);
        Assert.That(client.Flush(), Is.Zero);
        Assert.That(client.Write(2 << 20, fua, FlagFua), Is.Zero);
        Assert.That(InPlaceWrites, Is.GreaterThanOrEqualTo(2));

        server.PowerFailure();
        Assert.That(server.DeviceBytes(0, flushed.Length), Is.EqualTo(flushed));
        Assert.That(server.DeviceBytes(2 << 20, fua.Length), Is.EqualTo(fua));
    }

    [Test]
    public async Task PipelinedRequestsAroundInPlaceWritesKeepTheirOrder()
    {
        await using var server = await NbdTestServer.StartAsync(8 << 20);
        using var client = server.Go();
        var first = NbdTestServer.Pattern(256 << 10, 3);
        var second = NbdTestServer.Pattern(256 << 10, 4);
        Assert.That(client.Write(0, first), Is.Zero);

        // Sent together: a read of the old bytes, two writes over them, a read of the result.
        ulong readBefore = client.SendRequest(CmdRead, 0, 0, (uint)first.Length);
        ulong write1 = client.SendRequest(CmdWrite, 0, 0, (uint)second.Length, second);
        ulong write2 = client.SendRequest(CmdWrite, 0, 128 << 10, (uint)first.Length, first);
        ulong readAfter = client.SendRequest(CmdRead, 0, 0, (uint)(384 << 10));

        Assert.That(client.ReadSimpleReply(readBefore), Is.Zero);
        var before = new byte[first.Length];
        client.ReceiveExactly(before);
        Assert.That(before, Is.EqualTo(first), "a read sent before the writes does not see them");
        Assert.That(client.ReadSimpleReply(write1), Is.Zero);
        Assert.That(client.ReadSimpleReply(write2), Is.Zero);
        Assert.That(client.ReadSimpleReply(readAfter), Is.Zero);
        var after = new byte[384 << 10];
        client.ReceiveExactly(after);
        var expected = new byte[384 << 10];
        second.CopyTo(expected, 0);
        first.CopyTo(expected, 128 << 10);
        Assert.That(after, Is.EqualTo(expected), "a read sent after the writes sees both, in order");
    }

    [Test]
    public async Task AClientThatLeavesInTheMiddleOfAnInPlacePayloadLosesNothingFlushedAndOthersGoOn()
    {
        await using var server = await NbdTestServer.StartAsync(8 << 20);
        var flushed = NbdTestServer.Pattern(1 << 20, 5);
        using (var client = server.Go())
        {
            Assert.That(client.Write(2 << 20, flushed), Is.Zero);
            Assert.That(client.Flush(), Is.Zero);
            // 2 MiB announced over the flushed bytes; the client sends 700 KiB and a half block, then goes.
            client.SendRequest(CmdWrite, 0, 2 << 20, 2 << 20, NbdTestServer.Pattern((700 << 10) + 256, 6));
            Thread.Sleep(50);
        }
        using var other = server.Go();
        var data = NbdTestServer.Pattern(256 << 10, 7);
        Assert.That(other.Write(0, data), Is.Zero);
        Assert.That(other.ReadOk(0, data.Length), Is.EqualTo(data));
        server.PowerFailure();
        Assert.That(server.DeviceBytes(2 << 20, flushed.Length), Is.EqualTo(flushed), "the unanswered write was never flushed");
    }

    [Test]
    public async Task AWriteOverPoisonStillClearsItThroughTheBufferedPath()
    {
        await using var server = await NbdTestServer.StartAsync(8 << 20);
        server.Region.InjectError(server.Device.Namespace, block: 100, count: 4);
        using var client = server.Go();
        var data = NbdTestServer.Pattern(256 << 10, 8);
        Assert.That(client.Write(0, data, FlagFua), Is.Zero);
        Assert.That(server.Region.BadBlocks(server.Device.Namespace), Is.Empty);
        Assert.That(client.ReadOk(0, data.Length), Is.EqualTo(data));
        Assert.That(InPlaceWrites, Is.Zero, "over poison the whole range is cleared first, as a bio does");
    }
}
