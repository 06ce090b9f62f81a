using System.Buffers.Binary;
using System.Diagnostics;
using DaxStack.Driver.Nbd;

namespace DaxStack.Driver.Tests.Nbd;

/// <summary>
/// Within a busy poll a connection holds the replies to the writes it has answered for up to
/// <see cref="NbdServerOptions.ReplyHoldMicroseconds"/>, so that a client with requests in flight
/// gets several in one segment; a client that waits for each reply is held back only rarely.
/// </summary>
[NonParallelizable]   // counts holds on the driver meter, which every server in the process would add to
public class NbdReplyHoldTests
{
    private const int Window = 8;

    [Test]
    public async Task RepliesToAClientWithWritesInFlightAreHeldUntilItsNextRequest()
    {
        using var holds = new NbdResultCounter("daxstack.driver.nbd.reply_holds");
        await using var server = await NbdTestServer.StartAsync(options: new NbdServerOptions { BusyPollMicroseconds = 1000, ReplyHoldMicroseconds = 1000 });
        using var client = server.Go();
        // A window of 8 writes in flight: each reply read lets one more request go. Holding all 8
        // would stall the client (a miss, which halves the limit to 4); from then on the client
        // always has requests to send while replies are held. Unless the machine is too busy to
        // schedule the client within 1 ms, that happens within the first few dozen requests; on a
        // heavily loaded machine (busy polls that run out are skipped for 8 waits, and holds that
        // run out make holding rarer) it can take seconds, so the loop allows 30.
        var pending = new Queue<(ulong Handle, int Block)>();
        var time = Stopwatch.StartNew();
        int sent = 0;
        while ((holds.Hits == 0 || pending.Count > 0) && time.Elapsed < TimeSpan.FromSeconds(30))
        {
            while (pending.Count < Window && holds.Hits == 0)
            {
                int block = sent++ % 1024;
                pending.Enqueue((client.SendRequest(RawNbdClient.CmdWrite, 0, (ulong)block * 4096, 4096, Pattern(block, sent)), block));
            }
            var (handle, _) = pending.Dequeue();
            Assert.That(client.ReadSimpleReply(handle), Is.Zero);
        }
        Assert.That(holds.Hits, Is.GreaterThan(0), $"{sent} writes, {holds.Misses} holds ran out");
        // Every write landed whole: the last one to each of a few blocks is what reads back.
        for (int block = 0; block < Math.Min(sent, 16); block++)
        {
            int last = block + 1 + (sent - 1 - block) / 1024 * 1024;
            Assert.That(client.ReadOk(block * 4096L, 4096), Is.EqualTo(Pattern(block, last)), $"block {block}");
        }
    }

    [Test]
    public async Task AClientThatWaitsForEachReplyIsHeldBackOnlyEverMoreRarely()
    {
        using var holds = new NbdResultCounter("daxstack.driver.nbd.reply_holds");
        await using var server = await NbdTestServer.StartAsync(options: new NbdServerOptions { BusyPollMicroseconds = 1000, ReplyHoldMicroseconds = 200 });
        using var client = server.Go();
        // 1000 round trips, each request (header and payload) in one send, so that the server waits
        // once per request: a hold that runs out (the client waits for the reply) stops holding,
        // and the next tries come after 8, 16, 32, 64, 128 and 256 more busy polls: at most 7
        // holds in 1000 waits, all missed (fewer when busy polls miss and are skipped), 8 if a
        // request ever arrives in two pieces. With a fixed back-off of 8 it would be up to about
        // 110, without one about 1000.
        var request = new byte[28 + 4096];
        for (int i = 0; i < 1000; i++)
        {
            ulong handle = 1_000_000 + (ulong)i;
            RawNbdClient.WriteRequestHeader(request, RawNbdClient.CmdWrite, 0, handle, (ulong)(i % 64) * 4096, 4096);
            client.Send(request);
            Assert.That(client.ReadSimpleReply(handle), Is.Zero);
        }
        Assert.Multiple(() =>
        {
            Assert.That(holds.Hits + holds.Misses, Is.InRange(1, 8), $"hits {holds.Hits}, misses {holds.Misses}");
            Assert.That(holds.Hits, Is.Zero, "nothing comes from a client that is waiting for the held reply");
        });
    }

    [TestCase(50, 0)]
    [TestCase(0, 20)]
    public async Task NoReplyIsHeldWhenHoldingOrBusyPollingIsOff(int busyPoll, int hold)
    {
        using var holds = new NbdResultCounter("daxstack.driver.nbd.reply_holds");
        await using var server = await NbdTestServer.StartAsync(options: new NbdServerOptions { BusyPollMicroseconds = busyPoll, ReplyHoldMicroseconds = hold });
        using var client = server.Go();
        var handles = new Queue<ulong>();
        for (int i = 0; i < 200; i++)
        {
            handles.Enqueue(client.SendRequest(RawNbdClient.CmdWrite, 0, (ulong)(i % 16) * 512, 512, new byte[512]));
            if (handles.Count == Window)
                Assert.That(client.ReadSimpleReply(handles.Dequeue()), Is.Zero);
        }
        while (handles.Count > 0)
            Assert.That(client.ReadSimpleReply(handles.Dequeue()), Is.Zero);
        Assert.That(client.Flush(), Is.Zero);
        Assert.That(holds.Hits + holds.Misses, Is.Zero);
    }

    [Test]
    public async Task AHeldReplyReachesTheClientWithinTheHoldEvenIfItSendsNothingMore()
    {
        await using var server = await NbdTestServer.StartAsync(options: new NbdServerOptions { BusyPollMicroseconds = 1000, ReplyHoldMicroseconds = 1000 });
        using var client = server.Go();
        // The first write's reply is held (the limit starts at 16) while the client sends nothing:
        // it must still arrive, at the hold's end, and the flush after it must cover the write.
        Assert.That(client.Write(0, Pattern(0, 1)), Is.Zero);
        Assert.That(client.Flush(), Is.Zero);
        Assert.That(client.ReadOk(0, 4096), Is.EqualTo(Pattern(0, 1)));
    }

    private static byte[] Pattern(int block, int generation)
    {
        var data = new byte[4096];
        for (int i = 0; i < data.Length; i += 8)
            BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(i), ((long)generation << 32) | (uint)(block * 4096 + i));
        return data;
    }
}
