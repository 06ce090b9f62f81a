using DaxStack.Driver.Nbd;

namespace DaxStack.Driver.Tests.Nbd;

/// <summary>
/// A connection that runs out of requests busy-polls its socket for
/// <see cref="NbdServerOptions.BusyPollMicroseconds"/> before it sleeps: a request sent at once
/// is found awake (a hit), an idle client costs one busy poll (a miss) and then none for the next waits.
/// </summary>
[NonParallelizable]   // counts busy polls on the driver meter, which every server in the process would add to
public class NbdBusyPollTests
{
    [Test]
    public async Task RequestsSentBackToBackAreFoundByTheBusyPoll()
    {
        using var polls = new NbdResultCounter("daxstack.driver.nbd.busy_polls");
        await using var server = await NbdTestServer.StartAsync(options: new NbdServerOptions { BusyPollMicroseconds = 1000 });
        using var client = server.Go();
        var block = new byte[4096];
        // A request comes back within 1 ms of the previous reply unless the machine is so busy that
        // the client is not scheduled in time: round trips go on until one is found awake (for at
        // most 5 s; on a quiet machine the first few are).
        var time = System.Diagnostics.Stopwatch.StartNew();
        int requests = 0;
        while (polls.Hits == 0 && time.Elapsed < TimeSpan.FromSeconds(5))
            Assert.That(client.Write(requests++ * 4096L % (4 << 20), block), Is.Zero);
        Assert.That(polls.Hits, Is.GreaterThan(0), $"{requests} requests, {polls.Misses} busy polls missed them");
        client.Disconnect();
        Assert.That(client.ServerCloses(), Is.True);
    }

    [Test]
    public async Task AnIdleClientCostsOneBusyPollInEveryNineWaits()
    {
        using var polls = new NbdResultCounter("daxstack.driver.nbd.busy_polls");
        await using var server = await NbdTestServer.StartAsync(options: new NbdServerOptions { BusyPollMicroseconds = 200 });
        using var client = server.Go();
        Thread.Sleep(50);
        long before = polls.Hits + polls.Misses;
        var block = new byte[4096];
        // Every request comes 20 ms after the server ran out of work: at least 18 waits, of which
        // one in nine busy-polls (in vain) and the next eight sleep at once.
        for (int i = 0; i < 18; i++)
        {
            Assert.That(client.Write(0, block), Is.Zero);
            Thread.Sleep(20);
        }
        long busyPolls = polls.Hits + polls.Misses - before;
        Assert.Multiple(() =>
        {
            Assert.That(polls.Misses, Is.GreaterThanOrEqualTo(1));
            Assert.That(busyPolls, Is.InRange(1, 5), $"without the back-off every one of the 18 waits would busy-poll (before {before}, hits {polls.Hits}, misses {polls.Misses})");
        });
    }

    [Test]
    public async Task ZeroMicrosecondsTurnsBusyPollingOff()
    {
        using var polls = new NbdResultCounter("daxstack.driver.nbd.busy_polls");
        await using var server = await NbdTestServer.StartAsync(options: new NbdServerOptions { BusyPollMicroseconds = 0 });
        using var client = server.Go();
        for (int i = 0; i < 50; i++)
            Assert.That(client.Write(0, new byte[512]), Is.Zero);
        Assert.That(client.Flush(), Is.Zero);
        Assert.That(polls.Hits + polls.Misses, Is.Zero);
    }

    [Test]
    public async Task AStopIsNotHeldUpByABusyPoll()
    {
        var server = await NbdTestServer.StartAsync(options: new NbdServerOptions { BusyPollMicroseconds = 1000 });
        var client = server.Go();
        Assert.That(client.Write(0, new byte[4096]), Is.Zero);
        await server.DisposeAsync();
        Assert.That(client.ServerCloses(), Is.True, "the idle connection is closed by the stop");
        client.Dispose();
    }
}
