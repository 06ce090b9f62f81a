using System.Buffers.Binary;
using System.Net.Sockets;
using DaxStack.Driver.Nbd;
using static DaxStack.Driver.Tests.Nbd.RawNbdClient;

namespace DaxStack.Driver.Tests.Nbd;

/// <summary>
/// Malformed and hostile traffic: each bad input costs only the connection that sent it; other
/// clients keep being served and nothing already written is lost.
/// </summary>
public class NbdRobustnessTests
{
    private NbdTestServer _server = null!;

    [SetUp]
    public async Task SetUp() => _server = await NbdTestServer.StartAsync(8 << 20);

    [TearDown]
    public async Task TearDown() => await _server.DisposeAsync();

    /// <summary>A second client that must be unaffected: writes, flushes and reads back.</summary>
    private void AnotherClientIsServed(long offset = 1 << 20)
    {
        using var other = _server.Go();
        var data = NbdTestServer.Pattern(4096, (int)offset);
        Assert.That(other.Write(offset, data), Is.Zero);
        Assert.That(other.Flush(), Is.Zero);
        Assert.That(other.ReadOk(offset, data.Length), Is.EqualTo(data));
    }

    [Test]
    public async Task AConnectionWhoseSetUpFailsIsClosedAndTheServerKeepsAccepting()
    {
        // Stands in for any failure between accept and the connection's thread (the socket reset
        // by the client, no thread to be had): deterministic, where a real reset cannot be timed.
        const int Doomed = 3;
        int setUps = 0;
        _server.Server.BeforeConnectionStart = _ =>
        {
            if (Interlocked.Increment(ref setUps) <= Doomed)
                throw new SocketException((int)SocketError.NotConnected);
        };
        for (int i = 0; i < Doomed; i++)
        {
            using var doomed = new Socket(_server.EndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp)
            {
                ReceiveTimeout = (int)RawNbdClient.Timeout.TotalMilliseconds,
            };
            await doomed.ConnectAsync(_server.EndPoint);
            int n;
            try
            {
                n = doomed.Receive(new byte[64]);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
            {
                n = 0;
            }
            Assert.That(n, Is.Zero, $"connection {i} is closed without a greeting");
        }
        Assert.That(_server.Server.ConnectionCount, Is.Zero, "no connection that failed to start stays registered");

        AnotherClientIsServed();
        Assert.That(setUps, Is.EqualTo(Doomed + 1));
        var stop = _server.Server.StopAsync();
        Assert.That(await Task.WhenAny(stop, Task.Delay(RawNbdClient.Timeout)), Is.SameAs(stop), "the server stops without waiting for a connection that never ran");
    }

    [Test]
    public void WrongRequestMagicClosesOnlyThatConnection()
    {
        using var bystander = _server.Go();
        using var client = _server.Go();
        client.SendRequest(CmdRead, 0, 0, 512, magic: 0x12345678);
        Assert.That(client.ServerCloses(), Is.True);
        Assert.That(bystander.Flush(), Is.Zero, "an open connection is untouched");
        AnotherClientIsServed();
    }

    [Test]
    public void GarbageInsteadOfRequestsClosesTheConnection()
    {
        using var client = _server.Go();
        client.Send(NbdTestServer.Pattern(1000, 1));
        Assert.That(client.ServerCloses(), Is.True);
        AnotherClientIsServed();
    }

    [Test]
    public void GarbageDuringTheHandshakeClosesTheConnection()
    {
        using var client = RawNbdClient.Open(_server.EndPoint);
        client.Send(NbdTestServer.Pattern(1000, 2));
        Assert.That(client.ServerCloses(), Is.True);
        AnotherClientIsServed();
    }

    [Test]
    public void HugeWriteIsRefusedWithoutReadingOrAllocatingItsPayload()
    {
        using var client = _server.Go();
        long before = GC.GetTotalAllocatedBytes(precise: true);
        ulong handle = client.SendRequest(CmdWrite, 0, 0, uint.MaxValue, new byte[100]);
        Assert.That(client.ReadSimpleReply(handle), Is.EqualTo(EINVAL));
        Assert.That(client.ServerCloses(), Is.True, "the payload cannot be skipped, so the connection ends");
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.That(allocated, Is.LessThan(16 << 20), "nothing near the 4 GiB the header claimed was allocated");
        AnotherClientIsServed();
    }

    // proto.md: a length below 2^25 bytes should not be taken as a denial of service, even when the
    // advertised maximum block size is smaller. Such a write fails, its payload is read and
    // dropped, and the connection goes on.
    [Test]
    public async Task AWriteBeyondASmallerMaximumPayloadFailsAndTheConnectionGoesOn()
    {
        await using var server = await NbdTestServer.StartAsync(8 << 20, options: new NbdServerOptions { MaxPayload = 1 << 20 });
        using var client = server.Go();
        var data = NbdTestServer.Pattern(2 << 20, 5);
        Assert.That(client.Write(0, data), Is.EqualTo(EINVAL), "beyond the advertised maximum");
        Assert.That(client.Write((4 << 20) + 512, data), Is.EqualTo(EINVAL), "unaligned too");
        Assert.That(client.Flush(), Is.Zero, "the connection goes on");
        Assert.That(client.ReadOk(0, 1 << 20), Is.EqualTo(new byte[1 << 20]), "nothing of the refused payload was written");
        var small = NbdTestServer.Pattern(1 << 20, 6);
        Assert.That(client.Write(4096, small), Is.Zero);
        Assert.That(client.ReadOk(4096, small.Length), Is.EqualTo(small));
        // From 2^25 bytes on, beyond the maximum, the payload is not read: refused, then the connection ends.
        ulong handle = client.SendRequest(CmdWrite, 0, 0, 32 << 20, new byte[100]);
        Assert.That(client.ReadSimpleReply(handle), Is.EqualTo(EINVAL));
        Assert.That(client.ServerCloses(), Is.True);
    }

    [Test]
    public void HugeReadLengthIsRefusedAndTheConnectionGoesOn()
    {
        using var client = _server.Go();
        Assert.That(client.Read(0, int.MaxValue).Error, Is.EqualTo(EINVAL));
        Assert.That(client.ReadSimpleReply(client.SendRequest(CmdRead, 0, 0, uint.MaxValue)), Is.EqualTo(EINVAL));
        Assert.That(client.Flush(), Is.Zero);
    }

    [Test]
    public void HugeTrimAndWriteZeroesLengthsFailCleanly()
    {
        using var client = _server.Go();
        Assert.Multiple(() =>
        {
            Assert.That(client.Trim(0, uint.MaxValue), Is.EqualTo(EINVAL));
            Assert.That(client.WriteZeroes(0, uint.MaxValue), Is.EqualTo(ENOSPC));
            Assert.That(client.Flush(), Is.Zero);
        });
    }

    [Test]
    public void DisconnectInTheMiddleOfAWriteLosesNothingAlreadyFlushed()
    {
        var flushed = NbdTestServer.Pattern(65536, 3);
        using (var client = _server.Go())
        {
            Assert.That(client.Write(0, flushed), Is.Zero);
            Assert.That(client.Flush(), Is.Zero);
            // A 1 MiB write whose client goes away after 100 KiB.
            client.SendRequest(CmdWrite, 0, 2 << 20, 1 << 20, NbdTestServer.Pattern(100 << 10, 4));
        }
        AnotherClientIsServed();
        using var reader = _server.Go();
        Assert.That(reader.ReadOk(0, flushed.Length), Is.EqualTo(flushed));
        _server.PowerFailure();
        Assert.That(_server.DeviceBytes(0, flushed.Length), Is.EqualTo(flushed), "still there after a power failure");
    }

    [Test]
    public void DisconnectInTheMiddleOfAHeaderEndsOnlyThatConnection()
    {
        using (var client = _server.Go())
            client.Send(new byte[] { 0x25, 0x60, 0x95, 0x13, 0, 0 });
        AnotherClientIsServed();
    }

    [Test]
    public void ClientThatNeverReadsItsRepliesDoesNotBlockOthers()
    {
        using var hog = _server.Go();
        // Asks for 64 MiB of read replies without reading any of them.
        for (int i = 0; i < 8; i++)
            hog.SendRequest(CmdRead, 0, 0, 8 << 20);
        AnotherClientIsServed();
    }

    [Test]
    public void PipelinedReadsWhoseRepliesAreNeverReadMeetBackpressureNotUnboundedBuffers()
    {
        using var hog = _server.Go();
        long before = GC.GetTotalAllocatedBytes(precise: true);
        // 4000 requests of 28 bytes ask for 256 MiB of replies; the client reads none of them.
        var header = new byte[28];
        for (int i = 0; i < 4000; i++)
        {
            WriteRequestHeader(header, CmdRead, 0, (ulong)i, 0, 64 << 10);
            hog.Send(header);
        }
        Thread.Sleep(500);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.That(allocated, Is.LessThan(64 << 20), "the server waits for the socket instead of buffering the replies");
        AnotherClientIsServed();
    }

    // More read requests than the server keeps unanswered (NbdRequestQueue.Capacity, 128), whose
    // replies, a MiB each, the client never reads: the server's replies back up in the socket.
    private static void SendUnreadReads(RawNbdClient hog, int count)
    {
        var header = new byte[28];
        for (int i = 0; i < count; i++)
        {
            WriteRequestHeader(header, CmdRead, 0, (ulong)i, 0, 1 << 20);
            hog.Send(header);
        }
    }

    // Stops the server and disposes of it, failing the test (rather than hanging it) if the stop
    // does not end within 10 s; a server whose stop hangs is left to the process's exit.
    private static async Task StopWithin10s(NbdTestServer server, string what)
    {
        var stop = server.DisposeAsync().AsTask();
        Assert.That(await Task.WhenAny(stop, Task.Delay(TimeSpan.FromSeconds(10))), Is.SameAs(stop), what);
        await stop;
    }

    [Test]
    public async Task AClientThatLeavesWithManyRequestsUnansweredGivesItsSlotBack()
    {
        var server = await NbdTestServer.StartAsync(8 << 20, options: new NbdServerOptions { MaxConnections = 2, StopTimeout = TimeSpan.FromSeconds(1) });
        for (int round = 0; round < 2; round++)
        {
            var hog = server.Go();
            SendUnreadReads(hog, 400);
            Thread.Sleep(300);
            hog.Dispose();
        }
        // Both slots come back once the server notices that the clients went away.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (server.Server.ConnectionCount > 0 && DateTime.UtcNow < deadline)
            await Task.Delay(10);
        Assert.That(server.Server.ConnectionCount, Is.Zero, "the connections of clients that went away are closed");
        using (var first = server.Go())
        using (var second = server.Go())
        {
            Assert.That(first.Flush(), Is.Zero);
            Assert.That(second.Flush(), Is.Zero);
        }
        await StopWithin10s(server, "the server stops");
    }

    [Test]
    public async Task AStopEndsAClientThatStopsReadingWithManyRequestsUnanswered()
    {
        var server = await NbdTestServer.StartAsync(8 << 20, options: new NbdServerOptions { StopTimeout = TimeSpan.FromSeconds(1) });
        using var hog = server.Go();
        SendUnreadReads(hog, 400);
        Thread.Sleep(300);
        await StopWithin10s(server, "the stop drops the client once its timeout has passed, however many of its requests wait");
        Assert.That(server.Server.ConnectionCount, Is.Zero);
    }

    [Test]
    public void SeveralClientsAtOnceEachSeeTheirOwnWrites()
    {
        const int clients = 8;
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        var tasks = Enumerable.Range(0, clients).Select(c => Task.Run(() =>
        {
            using var client = _server.Go();
            for (int round = 0; round < 10; round++)
            {
                long offset = (c * 16 + round) * 4096L + c; // unaligned, distinct ranges
                var data = NbdTestServer.Pattern(3000, c * 100 + round);
                if (client.Write(offset, data) != 0)
                    failures.Add($"client {c} write {round}");
                if (!client.ReadOk(offset, data.Length).AsSpan().SequenceEqual(data))
                    failures.Add($"client {c} read {round}");
            }
            client.Disconnect();
        })).ToArray();
        Assert.That(Task.WaitAll(tasks, TimeSpan.FromSeconds(30)), Is.True, "every client finished");
        Assert.That(failures, Is.Empty);
    }

    [Test]
    public void ConcurrentUnalignedWritesIntoOneBlockDoNotUndoEachOther()
    {
        // Two clients patch disjoint halves of the same 512-byte sectors over and over; the
        // read-modify-write lock keeps either from writing back a stale copy of the other's half.
        using var left = _server.Go();
        using var right = _server.Go();
        const int sectors = 50;
        var tasks = new[]
        {
            Task.Run(() => PatchHalves(left, 0, 0xAA)),
            Task.Run(() => PatchHalves(right, 256, 0xBB)),
        };
        Assert.That(Task.WaitAll(tasks, TimeSpan.FromSeconds(30)), Is.True);
        var all = left.ReadOk(0, sectors * 512);
        for (int s = 0; s < sectors; s++)
        {
            Assert.That(all.AsSpan(s * 512, 256).ToArray(), Is.All.EqualTo(0xAA), $"left half of sector {s}");
            Assert.That(all.AsSpan(s * 512 + 256, 256).ToArray(), Is.All.EqualTo(0xBB), $"right half of sector {s}");
        }

        static void PatchHalves(RawNbdClient client, int start, byte value)
        {
            var half = Enumerable.Repeat(value, 256).ToArray();
            for (int s = 0; s < sectors; s++)
                Assert.That(client.Write(s * 512 + start, half), Is.Zero);
        }
    }

    [Test]
    public async Task ConnectionsBeyondTheLimitAreRefusedUntilOneCloses()
    {
        await using var server = await NbdTestServer.StartAsync(options: new NbdServerOptions { MaxConnections = 2 });
        using var first = server.Go();
        using var second = server.Go();
        using (var third = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp))
        {
            third.ReceiveTimeout = 10_000;
            third.Connect(server.EndPoint);
            Assert.That(third.Receive(new byte[18]), Is.Zero, "closed without a greeting");
        }
        first.Disconnect();
        Assert.That(first.ServerCloses(), Is.True);
        // The slot is given back once the server has closed the first connection.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (server.Server.ConnectionCount > 1 && DateTime.UtcNow < deadline)
            await Task.Delay(10);
        using var fourth = server.Go();
        Assert.That(fourth.Flush(), Is.Zero);
    }

    [Test]
    public void ManyOptionsBeforeGoAreAllAnswered()
    {
        using var client = _server.Connect();
        for (int i = 0; i < 200; i++)
        {
            client.SendOption(0x100 + (uint)i, BitConverter.GetBytes(i));
            Assert.That(client.ReadOptionReply().Type, Is.EqualTo(RepErrUnsup));
        }
        var go = client.InfoOrGo(OptGo, "pmem0");
        Assert.That(go.Final.Type, Is.EqualTo(RepAck));
        Assert.That(BinaryPrimitives.ReadUInt64BigEndian(go.Info(InfoExport)), Is.EqualTo(8UL << 20));
    }
}
