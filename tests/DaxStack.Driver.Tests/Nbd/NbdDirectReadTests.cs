using static DaxStack.Driver.Tests.Nbd.RawNbdClient;

namespace DaxStack.Driver.Tests.Nbd;

/// <summary>
/// Large block-aligned reads, whose data the server sends from the pmem namespace straight to the
/// socket: the client gets exactly what it would get from any read (unflushed writes included, in
/// order with the requests around it), also when it reads its replies slowly; a media error fails
/// the read before its header; a client that leaves in the middle affects no one else.
/// </summary>
[NonParallelizable]   // counts the driver's activities, which every test in the process would add to
public class NbdDirectReadTests
{
    private DriverActivityRecorder _activities = null!;

    [SetUp]
    public void SetUp() => _activities = new DriverActivityRecorder();

    [TearDown]
    public void TearDown() => _activities.Dispose();

    private int DirectReads => _activities.Count("pmem_read_to");

    [TestCase(512, 128 << 10)]
    [TestCase(512, 1 << 20)]
    [TestCase(4096, 3 << 20)]
    public async Task ALargeReadReturnsTheDevicesBytesUnflushedWritesIncluded(int blockSize, int length)
    {
        await using var server = await NbdTestServer.StartAsync(8 << 20, blockSize);
        using var client = server.Go();
        var flushed = NbdTestServer.Pattern(4 << 20, 1);
        Assert.That(client.Write(0, flushed), Is.Zero);
        Assert.That(client.Flush(), Is.Zero);
        var unflushed = NbdTestServer.Pattern(8192, 2);
        Assert.That(client.Write(4096, unflushed), Is.Zero);

        var expected = (byte[])flushed.Clone();
        unflushed.CopyTo(expected, 4096);
        Assert.That(client.ReadOk(0, length), Is.EqualTo(expected.AsSpan(0, length).ToArray()));
        Assert.That(DirectReads, Is.GreaterThan(0), "the data went from the device straight to the socket");
    }

    [Test]
    public async Task PipelinedReadsAndWritesKeepTheirOrder()
    {
        await using var server = await NbdTestServer.StartAsync(8 << 20);
        using var client = server.Go();
        var a = NbdTestServer.Pattern(512 << 10, 3);
        var b = NbdTestServer.Pattern(512 << 10, 4);
        Assert.That(client.Write(0, a), Is.Zero);

        ulong read1 = client.SendRequest(CmdRead, 0, 0, (uint)a.Length);
        ulong write = client.SendRequest(CmdWrite, 0, 0, (uint)b.Length, b);
        ulong read2 = client.SendRequest(CmdRead, 0, 0, (uint)b.Length);

        Assert.That(client.ReadSimpleReply(read1), Is.Zero);
        var first = new byte[a.Length];
        client.ReceiveExactly(first);
        Assert.That(client.ReadSimpleReply(write), Is.Zero);
        Assert.That(client.ReadSimpleReply(read2), Is.Zero);
        var second = new byte[b.Length];
        client.ReceiveExactly(second);
        Assert.That(first, Is.EqualTo(a), "the read sent before the write");
        Assert.That(second, Is.EqualTo(b), "the read sent after it");
    }

    [Test]
    public async Task AClientThatReadsItsRepliesLateStillGetsEveryByte()
    {
        await using var server = await NbdTestServer.StartAsync(16 << 20);
        using var client = server.Go();
        var data = NbdTestServer.Pattern(12 << 20, 5);
        Assert.That(client.Write(0, data.AsSpan(0, 6 << 20)), Is.Zero);
        Assert.That(client.Write(6 << 20, data.AsSpan(6 << 20)), Is.Zero);

        // Far more than the socket buffers hold: the server must wait for the client, then go on.
        ulong h1 = client.SendRequest(CmdRead, 0, 0, 6 << 20);
        ulong h2 = client.SendRequest(CmdRead, 0, 6 << 20, 6 << 20);
        Thread.Sleep(300);
        var back = new byte[12 << 20];
        Assert.That(client.ReadSimpleReply(h1), Is.Zero);
        client.ReceiveExactly(back.AsSpan(0, 6 << 20));
        Assert.That(client.ReadSimpleReply(h2), Is.Zero);
        client.ReceiveExactly(back.AsSpan(6 << 20));
        Assert.That(back, Is.EqualTo(data));
    }

    [Test]
    public async Task AMediaErrorFailsTheReadBeforeItsHeaderAndTheConnectionGoesOn()
    {
        await using var server = await NbdTestServer.StartAsync(8 << 20);
        using var client = server.Go();
        Assert.That(client.Write(0, NbdTestServer.Pattern(1 << 20, 6)), Is.Zero);
        server.Region.InjectError(server.Device.Namespace, block: 1000, count: 1);

        var (error, _) = client.Read(0, 1 << 20);
        Assert.That(error, Is.EqualTo(EIO));
        Assert.That(client.ReadOk(0, 256 << 10), Has.Length.EqualTo(256 << 10), "the next read is answered");
    }

    [Test]
    public async Task AClientThatLeavesInTheMiddleOfALargeReplyAffectsNoOneElse()
    {
        await using var server = await NbdTestServer.StartAsync(16 << 20);
        using (var client = server.Go())
        {
            client.SendRequest(CmdRead, 0, 0, 16 << 20);
            var some = new byte[100 << 10];
            client.ReceiveExactly(some);
        }
        using var other = server.Go();
        var data = NbdTestServer.Pattern(1 << 20, 7);
        Assert.That(other.Write(0, data), Is.Zero);
        Assert.That(other.ReadOk(0, data.Length), Is.EqualTo(data));
    }
}
