using DaxStack.Device.Crash;
using DaxStack.Driver.Nbd;
using static DaxStack.Driver.Tests.Nbd.RawNbdClient;

namespace DaxStack.Driver.Tests.Nbd;

/// <summary>
/// FLUSH and FUA over NBD have their real meaning: a write that was answered but neither flushed
/// nor written with FUA is lost at a power failure; one that was is not, whichever connection
/// flushed it.
/// </summary>
public class NbdDurabilityTests
{
    private NbdTestServer _server = null!;

    [SetUp]
    public async Task SetUp() => _server = await NbdTestServer.StartAsync(4 << 20);

    [TearDown]
    public async Task TearDown() => await _server.DisposeAsync();

    [Test]
    public void WriteWithoutFlushIsLostAtPowerFailure()
    {
        using var client = _server.Go();
        var data = NbdTestServer.Pattern(8192, 1);
        Assert.That(client.Write(0, data), Is.Zero);
        Assert.That(client.ReadOk(0, data.Length), Is.EqualTo(data), "visible before the crash");

        _server.PowerFailure();
        Assert.That(_server.DeviceBytes(0, data.Length), Is.All.Zero);
    }

    [Test]
    public void FlushMakesEveryAnsweredWriteDurable()
    {
        using var client = _server.Go();
        var first = NbdTestServer.Pattern(8192, 2);
        var second = NbdTestServer.Pattern(1000, 3);
        Assert.That(client.Write(0, first), Is.Zero);
        Assert.That(client.Write(10_000, second), Is.Zero, "an unaligned write, through read-modify-write");
        Assert.That(client.Flush(), Is.Zero);

        _server.PowerFailure();
        Assert.Multiple(() =>
        {
            Assert.That(_server.DeviceBytes(0, first.Length), Is.EqualTo(first));
            Assert.That(_server.DeviceBytes(10_000, second.Length), Is.EqualTo(second));
        });
    }

    [TestCase(0, 65536)]
    [TestCase(300, 9000)]
    public void FuaWriteIsDurableWhenAnswered(int offset, int length)
    {
        using var client = _server.Go();
        var data = NbdTestServer.Pattern(length, 4);
        Assert.That(client.Write(offset, data, FlagFua), Is.Zero);
        Assert.That(_server.Persisted(offset, length), Is.EqualTo(data), "persisted before any flush");

        _server.PowerFailure();
        Assert.That(_server.DeviceBytes(offset, length), Is.EqualTo(data));
    }

    [TestCase(RawNbdClient.CmdWriteZeroes, 100, 10_000, TestName = "{m}(write-zeroes, partial blocks at both ends)")]
    [TestCase(RawNbdClient.CmdWriteZeroes, 4096, 8192, TestName = "{m}(write-zeroes of whole blocks)")]
    [TestCase(RawNbdClient.CmdTrim, 4096, 8192, TestName = "{m}(trim)")]
    public void FuaZeroingIsDurableWhenAnswered(ushort command, long offset, int length)
    {
        // Whole blocks go down as a write-zeroes or discard bio, which may not carry FUA: the server
        // flushes after it. Partial blocks are write bios, which carry it themselves.
        using var client = _server.Go();
        Assert.That(client.Write(0, NbdTestServer.Pattern(16384, 5)), Is.Zero);
        Assert.That(client.Flush(), Is.Zero);
        Assert.That(client.Command(command, FlagFua, offset, (uint)length), Is.Zero);
        Assert.That(_server.Persisted(offset, length), Is.All.Zero);
    }

    [Test]
    public void FlushOnOneConnectionCoversWritesAnsweredOnAnother()
    {
        // What NBD_FLAG_CAN_MULTI_CONN promises.
        using var writer = _server.Go();
        using var flusher = _server.Go();
        var data = NbdTestServer.Pattern(65536, 6);
        Assert.That(writer.Write(4096, data), Is.Zero);
        Assert.That(flusher.Flush(), Is.Zero);

        _server.PowerFailure();
        Assert.That(_server.DeviceBytes(4096, data.Length), Is.EqualTo(data));
    }

    [Test]
    public async Task StoppingTheServerFlushesWhatWasWritten()
    {
        using var client = _server.Go();
        var data = NbdTestServer.Pattern(8192, 7);
        Assert.That(client.Write(0, data), Is.Zero);
        await _server.Server.StopAsync();
        Assert.That(client.ServerCloses(), Is.True, "stop closes the connection");

        _server.Bus.Space.Crash(CrashPolicy.Strict);
        Assert.That(_server.DeviceBytes(0, data.Length), Is.EqualTo(data));
    }

    [Test]
    public async Task APowerFailureDropsTheConnectionsAndFlushesNothing()
    {
        using var client = _server.Go();
        var lost = NbdTestServer.Pattern(8192, 8);
        var kept = NbdTestServer.Pattern(4096, 9);
        // The FUA write first: its fence would also make an earlier write of the connection durable.
        Assert.That(client.Write(65536, kept, FlagFua), Is.Zero);
        Assert.That(client.Write(0, lost), Is.Zero);

        await _server.Server.PowerFailAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Multiple(() =>
        {
            Assert.That(client.ServerCloses(), Is.True, "the connection is dropped");
            Assert.That(_server.Server.ConnectionCount, Is.Zero);
            Assert.That(_server.Persisted(0, lost.Length), Is.All.Zero, "nothing was flushed");
        });
        await _server.Server.StopAsync();
        Assert.That(_server.Persisted(0, lost.Length), Is.All.Zero, "a stop after the power failure flushes nothing either");
        var refused = Assert.Catch(() => _server.Go().Dispose(), "nothing listens any more");
        Assert.That(refused!.Message, Does.Contain("refused"));

        _server.PowerFailure();
        Assert.Multiple(() =>
        {
            Assert.That(_server.DeviceBytes(0, lost.Length), Is.All.Zero);
            Assert.That(_server.DeviceBytes(65536, kept.Length), Is.EqualTo(kept));
        });
    }

    [Test]
    public async Task APowerFailureDuringAStopDropsTheConnectionStillBusyAtOnceAndFlushesNothing()
    {
        // A stop timeout no test waits out: the power failure must end the stop, not the timeout.
        await using var server = await NbdTestServer.StartAsync(4 << 20, options: new NbdServerOptions { StopTimeout = TimeSpan.FromMinutes(1) });
        using var busy = server.Go();
        var lost = NbdTestServer.Pattern(8192, 14);
        Assert.That(busy.Write(0, lost), Is.Zero, "answered, never flushed");
        var arriving = NbdTestServer.Pattern(65536, 15);
        // The header and part of the payload: the stop waits for the rest, which never comes.
        busy.SendRequest(CmdWrite, 0, 16384, (uint)arriving.Length, arriving.AsSpan(0, 1000));
        using var idle = server.Go();

        var stop = server.Server.StopAsync();
        // The stop is under way once it has closed the idle connection.
        Assert.That(idle.ServerCloses(), Is.True, "the stop closes an idle connection");
        Assert.That(stop.IsCompleted, Is.False, "the stop waits for the write in progress");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await server.Server.PowerFailAsync().WaitAsync(TimeSpan.FromSeconds(15));
        await stop.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Multiple(() =>
        {
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(15)));
            Assert.That(busy.ServerCloses(), Is.True, "the power failure dropped the busy connection");
            Assert.That(server.Server.ConnectionCount, Is.Zero);
            Assert.That(server.Persisted(0, lost.Length), Is.All.Zero, "the stop flushed nothing once the power failed");
        });
        server.PowerFailure();
        Assert.That(server.DeviceBytes(0, lost.Length), Is.All.Zero);
    }

    [Test]
    public async Task APowerFailureWhileAWriteIsArrivingLeavesNoneOfIt()
    {
        using var client = _server.Go();
        var data = NbdTestServer.Pattern(1 << 20, 10);
        // The header and half of the payload: the server is inside the write, waiting for the rest.
        client.SendRequest(CmdWrite, 0, 4096, (uint)data.Length, data.AsSpan(0, data.Length / 2));
        await Task.Delay(200);

        await _server.Server.PowerFailAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.That(client.ServerCloses(), Is.True);
        _server.PowerFailure();
        Assert.That(_server.DeviceBytes(4096, data.Length), Is.All.Zero, "no reply, no flush: nothing of the write survives");
    }
}
