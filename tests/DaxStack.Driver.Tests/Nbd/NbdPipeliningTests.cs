using System.Buffers.Binary;
using System.Text;
using DaxStack.Device.Platform;
using DaxStack.Driver.Block;
using DaxStack.Driver.Nbd;
using DaxStack.Driver.Pmem;
using static DaxStack.Driver.Tests.Nbd.RawNbdClient;

namespace DaxStack.Driver.Tests.Nbd;

/// <summary>
/// Many requests in flight on one connection: they are executed and answered in the order sent
/// (the receiving, executing and replying threads overlap, never reorder), flush semantics stay
/// exact, requests larger than the in-flight arena are served whole, and clients that go away,
/// half-close or stop reading while requests are outstanding cost only their own connection.
/// </summary>
public class NbdPipeliningTests
{
    private const long Size = 16 << 20;

    [Test]
    public async Task RequestsSentInTheSameSegmentAsGoAreServed()
    {
        await using var server = await NbdTestServer.StartAsync(Size);
        using var client = server.Connect();
        var data = NbdTestServer.Pattern(4096, 11);
        // NBD_OPT_GO, a write and a read, all in one send: the server reads past the handshake.
        var bytes = new List<byte>();
        bytes.AddRange(GoOption("pmem0"));
        bytes.AddRange(RequestHeader(CmdWrite, 0, 1, 8192, (uint)data.Length));
        bytes.AddRange(data);
        bytes.AddRange(RequestHeader(CmdRead, 0, 2, 8192, (uint)data.Length));
        client.Send(bytes.ToArray());

        Assert.That(client.ReadInfoReplies(OptGo).Final.Type, Is.EqualTo(RepAck), "NBD_OPT_GO succeeded");
        Assert.That(client.ReadSimpleReply(1), Is.Zero, "the write");
        Assert.That(client.ReadSimpleReply(2), Is.Zero, "the read");
        var back = new byte[data.Length];
        client.ReceiveExactly(back);
        Assert.That(back, Is.EqualTo(data));
    }

    [Test]
    public async Task ThousandsOfPipelinedRequestsAreAnsweredInOrderWithWhatWasWrittenBeforeThem()
    {
        await using var server = await NbdTestServer.StartAsync(Size);
        using var client = server.Go();
        const int Area = 4 << 20;
        var model = new byte[Area];
        var random = new Random(5);
        // Each request: its handle, and for a read the bytes it must return (the model at that point).
        // Sizes run from a few bytes (read-modify-write) past the arena's largest request (served alone).
        var expected = new List<(ulong Handle, byte[]? Data)>();
        var stream = new List<byte>();
        for (int i = 0; i < 3000; i++)
        {
            ulong handle = (ulong)i + 100;
            int length = random.Next(10) switch
            {
                0 => random.Next(1, 9000),
                1 => i % 50 == 0 ? NbdTransmission.MaxBatchedRead + 4096 * random.Next(1, 4) : 4096 * random.Next(16, 64),
                _ => 4096 * random.Next(1, 5),
            };
            int offset = random.Next(0, Area - length);
            if (random.Next(3) == 0)
            {
                stream.AddRange(RequestHeader(CmdRead, 0, handle, (ulong)offset, (uint)length));
                expected.Add((handle, model.AsSpan(offset, length).ToArray()));
            }
            else
            {
                var data = NbdTestServer.Pattern(length, i);
                stream.AddRange(RequestHeader(CmdWrite, 0, handle, (ulong)offset, (uint)length));
                stream.AddRange(data);
                data.CopyTo(model, offset);
                expected.Add((handle, null));
            }
        }
        Assert.That(await SendAndReadReplies(client, stream, expected), Is.Empty, "reads that did not return the bytes written before them");
        Assert.That(server.DeviceBytes(0, Area), Is.EqualTo(model), "the device holds the last write of every byte");
    }

    [Test]
    public async Task FlushCoversExactlyTheWritesSentBeforeIt()
    {
        await using var server = await NbdTestServer.StartAsync(Size);
        using var client = server.Go();
        var before = NbdTestServer.Pattern(256 << 10, 1);
        var after = NbdTestServer.Pattern(256 << 10, 2);
        // 64 writes, a flush, 64 more writes to other blocks: all in flight together.
        var stream = new List<byte>();
        ulong handle = 1;
        for (int i = 0; i < 64; i++)
        {
            stream.AddRange(RequestHeader(CmdWrite, 0, handle++, (ulong)i * 4096, 4096));
            stream.AddRange(before.AsSpan(i * 4096, 4096).ToArray());
        }
        stream.AddRange(RequestHeader(CmdFlush, 0, handle++, 0, 0));
        for (int i = 0; i < 64; i++)
        {
            stream.AddRange(RequestHeader(CmdWrite, 0, handle++, (1 << 20) + (ulong)i * 4096, 4096));
            stream.AddRange(after.AsSpan(i * 4096, 4096).ToArray());
        }
        client.Send(stream.ToArray());
        for (ulong h = 1; h < handle; h++)
            Assert.That(client.ReadSimpleReply(h), Is.Zero);

        server.PowerFailure();
        Assert.Multiple(() =>
        {
            Assert.That(server.DeviceBytes(0, before.Length), Is.EqualTo(before), "every write sent before the flush is durable");
            Assert.That(server.DeviceBytes(1 << 20, after.Length), Is.EqualTo(new byte[after.Length]),
                "writes sent after the flush were not fenced by it (strict power failure loses them)");
        });
    }

    [Test]
    public async Task SmallReadsPipelinedPastOneReplyBatchComeBackInOrderWithTheirData()
    {
        await using var server = await NbdTestServer.StartAsync(Size);
        using var client = server.Go();
        const int Area = 2 << 20;
        var content = NbdTestServer.Pattern(Area, 21);
        Assert.That(client.Write(0, content), Is.Zero);
        // Small reads while the worker is idle are answered by the receiving thread, from its own
        // batch: 400 of them (the largest such read, unaligned ones, single bytes) are far more data
        // than one batch holds, so it fills and goes out many times over while requests keep coming.
        var random = new Random(8);
        var expected = new List<(ulong Handle, int Offset, int Length)>();
        var stream = new List<byte>();
        for (int i = 0; i < 400; i++)
        {
            int length = (i % 4) switch
            {
                0 => NbdTransmission.MaxOwnRead,
                1 => random.Next(1, 4096),
                2 => 1,
                _ => 4096 * random.Next(1, NbdTransmission.MaxOwnRead / 4096 + 1),
            };
            int offset = (i % 4) == 3 ? 4096 * random.Next(0, (Area - length) / 4096) : random.Next(0, Area - length);
            ulong handle = 1000 + (ulong)i;
            stream.AddRange(RequestHeader(CmdRead, 0, handle, (ulong)offset, (uint)length));
            expected.Add((handle, offset, length));
        }
        var send = Task.Run(() => client.Send(stream.ToArray()));
        var wrong = new List<ulong>();
        foreach (var (handle, offset, length) in expected)
        {
            Assert.That(client.ReadSimpleReply(handle), Is.Zero, $"read {handle}");
            var back = new byte[length];
            client.ReceiveExactly(back);
            if (!back.AsSpan().SequenceEqual(content.AsSpan(offset, length)))
                wrong.Add(handle);
        }
        await send;
        Assert.That(wrong, Is.Empty, "reads that returned other bytes than the device holds");
    }

    [Test]
    public async Task SmallReadSentRightAfterAWriteTheWorkerAppliesSeesThatWrite()
    {
        await using var server = await NbdTestServer.StartAsync(Size);
        using var client = server.Go();
        // An unaligned 200 KB write is received into a payload buffer and applied by the worker;
        // the small reads behind it, sent in the same segment, must wait for it and return its bytes
        // (and the write after them must not be seen by them).
        for (int round = 0; round < 50; round++)
        {
            var data = NbdTestServer.Pattern(200_000, 100 + round);
            var later = NbdTestServer.Pattern(4096, 200 + round);
            long at = 777 + round * 4096L;
            var bytes = new List<byte>();
            bytes.AddRange(RequestHeader(CmdWrite, 0, 1, (ulong)at, (uint)data.Length));
            bytes.AddRange(data);
            bytes.AddRange(RequestHeader(CmdRead, 0, 2, (ulong)at, 512));
            bytes.AddRange(RequestHeader(CmdRead, 0, 3, (ulong)(at + data.Length - 4096), 4096));
            bytes.AddRange(RequestHeader(CmdWrite, 0, 4, (ulong)at, (uint)later.Length));
            bytes.AddRange(later);
            bytes.AddRange(RequestHeader(CmdRead, 0, 5, (ulong)at, 100));
            client.Send(bytes.ToArray());

            Assert.That(client.ReadSimpleReply(1), Is.Zero, "the large write");
            Assert.That(client.ReadSimpleReply(2), Is.Zero, "the first read");
            var head = new byte[512];
            client.ReceiveExactly(head);
            Assert.That(client.ReadSimpleReply(3), Is.Zero, "the second read");
            var tail = new byte[4096];
            client.ReceiveExactly(tail);
            Assert.That(client.ReadSimpleReply(4), Is.Zero, "the small write");
            Assert.That(client.ReadSimpleReply(5), Is.Zero, "the last read");
            var last = new byte[100];
            client.ReceiveExactly(last);
            Assert.Multiple(() =>
            {
                Assert.That(head, Is.EqualTo(data.AsSpan(0, 512).ToArray()), $"round {round}: the head of the large write");
                Assert.That(tail, Is.EqualTo(data.AsSpan(data.Length - 4096).ToArray()), $"round {round}: the tail of the large write");
                Assert.That(last, Is.EqualTo(later.AsSpan(0, 100).ToArray()), $"round {round}: the small write after");
            });
        }
    }

    [Test]
    public async Task LargeAlignedReadsPipelinedAmongWritesComeBackInOrderWithWhatWasWrittenBeforeThem()
    {
        await using var server = await NbdTestServer.StartAsync(Size);
        using var client = server.Go();
        const int Area = 8 << 20;
        var model = new byte[Area];
        var random = new Random(31);
        // Large block-aligned reads go from the device straight to the socket, on the receiving
        // thread while the worker is idle and on the worker otherwise: among them, writes of every
        // kind (small, unaligned and handed to the worker, large and received in place), so that
        // both happen, and every read must return what the writes sent before it left.
        var expected = new List<(ulong Handle, byte[]? Data)>();
        var stream = new List<byte>();
        for (int i = 0; i < 600; i++)
        {
            ulong handle = (ulong)i + 1;
            if (i % 3 != 2)
            {
                int length = 4096 * random.Next(NbdTransmission.MinHandedWrite / 4096, 2 * NbdTransmission.MaxBatchedRead / 4096 + 1);
                int offset = 4096 * random.Next(0, (Area - length) / 4096);
                stream.AddRange(RequestHeader(CmdRead, 0, handle, (ulong)offset, (uint)length));
                expected.Add((handle, model.AsSpan(offset, length).ToArray()));
            }
            else
            {
                int length = random.Next(3) switch
                {
                    0 => 4096 * random.Next(1, 4),
                    1 => NbdTransmission.MinHandedWrite + random.Next(1, 4096),
                    _ => 4096 * random.Next(NbdTransmission.MinHandedWrite / 4096, 128),
                };
                int offset = length % 4096 == 0 ? 4096 * random.Next(0, (Area - length) / 4096) : random.Next(0, Area - length);
                var data = NbdTestServer.Pattern(length, 1000 + i);
                stream.AddRange(RequestHeader(CmdWrite, 0, handle, (ulong)offset, (uint)length));
                stream.AddRange(data);
                data.CopyTo(model, offset);
                expected.Add((handle, null));
            }
        }
        Assert.That(await SendAndReadReplies(client, stream, expected), Is.Empty, "reads that did not return the bytes written before them");
    }

    [Test]
    public async Task LargeReadSentRightAfterAWriteTheWorkerAppliesSeesThatWrite()
    {
        await using var server = await NbdTestServer.StartAsync(Size);
        using var client = server.Go();
        // The unaligned 200 KB write is applied by the worker; the large aligned read behind it, in
        // the same segment, must wait for it (it may run on the receiving thread only once the
        // worker is idle) and return its bytes.
        for (int round = 0; round < 50; round++)
        {
            var data = NbdTestServer.Pattern(200_000, 300 + round);
            long at = (1 << 20) + 777 + round * 8192L;
            long from = at / 4096 * 4096;
            const int ReadLength = 256 << 10;
            var bytes = new List<byte>();
            bytes.AddRange(RequestHeader(CmdWrite, 0, 1, (ulong)at, (uint)data.Length));
            bytes.AddRange(data);
            bytes.AddRange(RequestHeader(CmdRead, 0, 2, (ulong)from, ReadLength));
            client.Send(bytes.ToArray());

            Assert.That(client.ReadSimpleReply(1), Is.Zero, "the write");
            Assert.That(client.ReadSimpleReply(2), Is.Zero, "the read");
            var back = new byte[ReadLength];
            client.ReceiveExactly(back);
            Assert.That(back.AsSpan((int)(at - from), data.Length).ToArray(), Is.EqualTo(data), $"round {round}");
        }
    }

    [TestCase(false, TestName = "A large read that fails after its header (worker idle) closes only its connection")]
    [TestCase(true, TestName = "A large read that fails after its header (behind a write the worker applies) closes only its connection")]
    public async Task ALargeReadThatFailsAfterItsHeaderWasSentClosesOnlyItsConnection(bool behindAHandedWrite)
    {
        // A device whose reads to a sink fail half-way, as a load that meets poison the badblocks
        // list did not know yet does: the header has promised data, so the only way out is to close.
        await using var inner = await NbdTestServer.StartAsync(Size);
        var failing = new HalfReadDevice(inner.Device);
        var server = new NbdServer(new NbdServerOptions { Listen = "127.0.0.1:0" }, [new NbdExport("failing", failing)]);
        await server.StartAsync();
        try
        {
            using (var client = RawNbdClient.ConnectAndGo(server.LocalEndPoint!, "failing"))
            {
                var data = NbdTestServer.Pattern(200_000, 5);
                var bytes = new List<byte>();
                if (behindAHandedWrite)
                {
                    bytes.AddRange(RequestHeader(CmdWrite, 0, 1, 777, (uint)data.Length));
                    bytes.AddRange(data);
                }
                bytes.AddRange(RequestHeader(CmdRead, 0, 2, 0, 512 << 10));
                client.Send(bytes.ToArray());
                if (behindAHandedWrite)
                    Assert.That(client.ReadSimpleReply(1), Is.Zero, "the write");
                Assert.That(client.ReadSimpleReply(2), Is.Zero, "the header went out");
                Assert.That(client.ServerCloses(), Is.True, "then the connection was closed before all the data");
            }
            Assert.That(failing.Failures, Is.EqualTo(1));
            using var other = RawNbdClient.ConnectAndGo(server.LocalEndPoint!, "failing");
            var small = NbdTestServer.Pattern(4096, 6);
            Assert.That(other.Write(4096, small), Is.Zero, "another connection goes on");
            Assert.That(other.ReadOk(4096, small.Length), Is.EqualTo(small));
        }
        finally
        {
            await server.StopAsync();
        }
    }

    /// <summary>A device whose <see cref="IBlockDeviceReadTo.ReadTo"/> sends half of what it is asked for, then fails.</summary>
    private sealed class HalfReadDevice(PmemDevice inner) : IBlockDeviceOperations, IBlockDeviceReadTo
    {
        public int Failures;

        public string Name => inner.Name;

        public QueueLimits Limits => inner.Limits;

        public BlkStatus SubmitBio(in Bio bio) => inner.SubmitBio(bio);

        public bool HasBadBlocks(long offset, long length) => inner.HasBadBlocks(offset, length);

        public BlkStatus ReadTo(long offset, long length, ILoadSink sink, out long read)
        {
            inner.ReadTo(offset, length / 2, sink, out read);
            Interlocked.Increment(ref Failures);
            return BlkStatus.IoError;
        }
    }

    [Test]
    public async Task RequestsLargerThanTheArenaTakesAreServedWhole()
    {
        await using var server = await NbdTestServer.StartAsync(Size);
        using var client = server.Go();
        var data = NbdTestServer.Pattern(3 * NbdTransmission.MaxBatchedRead + 1234, 7);
        var small = NbdTestServer.Pattern(8192, 8);
        // A small write in flight before and after the large ones: the large ones wait for it, and the next one for them.
        ulong first = client.SendRequest(CmdWrite, 0, 8 << 20, (uint)small.Length, small);
        ulong write = client.SendRequest(CmdWrite, 0, 333, (uint)data.Length, data);
        ulong read = client.SendRequest(CmdRead, 0, 333, (uint)data.Length);
        ulong last = client.SendRequest(CmdRead, 0, 8 << 20, (uint)small.Length);
        Assert.That(client.ReadSimpleReply(first), Is.Zero);
        Assert.That(client.ReadSimpleReply(write), Is.Zero);
        Assert.That(client.ReadSimpleReply(read), Is.Zero);
        var back = new byte[data.Length];
        client.ReceiveExactly(back);
        Assert.That(client.ReadSimpleReply(last), Is.Zero);
        var smallBack = new byte[small.Length];
        client.ReceiveExactly(smallBack);
        Assert.Multiple(() =>
        {
            Assert.That(back, Is.EqualTo(data));
            Assert.That(smallBack, Is.EqualTo(small));
        });
    }

    [Test]
    public async Task ClientThatHalfClosesAfterItsRequestsStillGetsEveryReply()
    {
        await using var server = await NbdTestServer.StartAsync(Size);
        using var client = server.Go();
        var data = NbdTestServer.Pattern(8192, 9);
        ulong write = client.SendRequest(CmdWrite, 0, 4096, (uint)data.Length, data);
        ulong read = client.SendRequest(CmdRead, 0, 4096, (uint)data.Length);
        ulong flush = client.SendRequest(CmdFlush, 0, 0, 0);
        client.ShutdownSend();
        Assert.That(client.ReadSimpleReply(write), Is.Zero);
        Assert.That(client.ReadSimpleReply(read), Is.Zero);
        var back = new byte[data.Length];
        client.ReceiveExactly(back);
        Assert.That(back, Is.EqualTo(data));
        Assert.That(client.ReadSimpleReply(flush), Is.Zero);
        Assert.That(client.ServerCloses(), Is.True);
    }

    [Test]
    public async Task ClientThatGoesAwayWithRequestsInFlightEndsOnlyItsConnection()
    {
        await using var server = await NbdTestServer.StartAsync(Size);
        var flushed = NbdTestServer.Pattern(65536, 3);
        using (var client = server.Go())
        {
            Assert.That(client.Write(0, flushed), Is.Zero);
            Assert.That(client.Flush(), Is.Zero);
            // Reads and writes in flight, none of their replies read, then a hard close.
            var payload = NbdTestServer.Pattern(64 << 10, 4);
            for (int i = 0; i < 16; i++)
            {
                client.SendRequest(CmdRead, 0, 0, 1 << 20);
                client.SendRequest(CmdWrite, 0, (2 << 20) + (ulong)i * (64 << 10), (uint)payload.Length, payload);
            }
        }
        using (var other = server.Go())
        {
            var data = NbdTestServer.Pattern(4096, 12);
            Assert.That(other.Write(6 << 20, data), Is.Zero);
            Assert.That(other.ReadOk(6 << 20, data.Length), Is.EqualTo(data));
            Assert.That(other.ReadOk(0, flushed.Length), Is.EqualTo(flushed));
        }
        Assert.That(await ConnectionsDrain(server.Server), Is.True, "every connection closed");
    }

    [Test]
    public async Task StopDropsAConnectionWhoseClientDoesNotReadItsRepliesAfterTheStopTimeout()
    {
        // Far more read replies than socket buffers hold, never read: the sender waits in its send.
        await AssertStopDropsAHog(hog =>
        {
            for (int i = 0; i < 64; i++)
                hog.SendRequest(CmdRead, 0, 0, 1 << 20);
            for (int i = 0; i < 4; i++)
                hog.SendRequest(CmdRead, 0, 0, 8 << 20);
        });
    }

    [Test]
    public async Task StopDropsAConnectionWhoseClientDoesNotReadTheRepliesToItsSmallReads()
    {
        // Small reads are answered by the receiving thread itself: with their replies never read,
        // that thread ends up waiting in its own send, and the stop must still get it out.
        await AssertStopDropsAHog(hog =>
        {
            var requests = new List<byte>();
            for (int i = 0; i < 2000; i++)
                requests.AddRange(RequestHeader(CmdRead, 0, (ulong)i, (ulong)(i % 200) * 4096, NbdTransmission.MaxOwnRead));
            hog.Send(requests.ToArray());
        });
    }

    // A client that sends what `send` sends and never reads a reply: a server stop with a 200 ms
    // timeout must still finish and leave no connection.
    private static async Task AssertStopDropsAHog(Action<RawNbdClient> send)
    {
        var server = await NbdTestServer.StartAsync(Size, options: new NbdServerOptions { StopTimeout = TimeSpan.FromMilliseconds(200) });
        using var hog = server.Go();
        send(hog);
        await Task.Delay(100);
        var stop = server.DisposeAsync().AsTask();
        Assert.That(await Task.WhenAny(stop, Task.Delay(TimeSpan.FromSeconds(10))), Is.SameAs(stop), "stop finished");
        Assert.That(server.Server.ConnectionCount, Is.Zero);
    }

    // Sends 'stream' while reading the replies, as a real client does: each must come in the order
    // of 'expected', succeed, and (for a read) carry the bytes given. Returns the handles of the
    // reads whose bytes differed.
    private static async Task<List<ulong>> SendAndReadReplies(RawNbdClient client, List<byte> stream, List<(ulong Handle, byte[]? Data)> expected)
    {
        var send = Task.Run(() => client.Send(stream.ToArray()));
        var wrong = new List<ulong>();
        foreach (var (handle, data) in expected)
        {
            Assert.That(client.ReadSimpleReply(handle), Is.Zero, $"request {handle}");
            if (data != null)
            {
                var back = new byte[data.Length];
                client.ReceiveExactly(back);
                if (!back.AsSpan().SequenceEqual(data))
                    wrong.Add(handle);
            }
        }
        await send;
        return wrong;
    }

    private static async Task<bool> ConnectionsDrain(NbdServer server)
    {
        for (int i = 0; i < 100 && server.ConnectionCount > 0; i++)
            await Task.Delay(50);
        return server.ConnectionCount == 0;
    }

    private static byte[] RequestHeader(ushort type, ushort flags, ulong handle, ulong offset, uint length)
    {
        var header = new byte[28];
        WriteRequestHeader(header, type, flags, handle, offset, length);
        return header;
    }

    private static byte[] GoOption(string name)
    {
        var nameBytes = Encoding.UTF8.GetBytes(name);
        var option = new byte[16 + 4 + nameBytes.Length + 2];
        BinaryPrimitives.WriteUInt64BigEndian(option, IHaveOpt);
        BinaryPrimitives.WriteUInt32BigEndian(option.AsSpan(8), OptGo);
        BinaryPrimitives.WriteUInt32BigEndian(option.AsSpan(12), (uint)(4 + nameBytes.Length + 2));
        BinaryPrimitives.WriteUInt32BigEndian(option.AsSpan(16), (uint)nameBytes.Length);
        nameBytes.CopyTo(option, 20);
        // No information requests: the server sends NBD_INFO_EXPORT (and block sizes) anyway.
        return option;
    }
}
