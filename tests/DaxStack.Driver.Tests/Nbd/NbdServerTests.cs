using System.Net;
using System.Net.Sockets;
using DaxStack.Driver.Hosting;
using DaxStack.Driver.Nbd;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using static DaxStack.Driver.Tests.Nbd.RawNbdClient;

namespace DaxStack.Driver.Tests.Nbd;

/// <summary>The server's life cycle, its options, and its registration with the generic host.</summary>
public class NbdServerTests
{
    [Test]
    public async Task PortZeroPicksAFreePortThatLocalEndPointNames()
    {
        await using var server = await NbdTestServer.StartAsync();
        Assert.Multiple(() =>
        {
            Assert.That(server.EndPoint.Address, Is.EqualTo(IPAddress.Loopback));
            Assert.That(server.EndPoint.Port, Is.Not.Zero);
        });
        using var client = server.Go();
        Assert.That(client.Flush(), Is.Zero);
    }

    [Test]
    public async Task StartFailsWithAClearErrorWhenThePortIsTaken()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        int port = ((IPEndPoint)taken.LocalEndPoint!).Port;
        await using var test = await NbdTestServer.StartAsync();
        await using var server = new NbdServer(new NbdServerOptions { Listen = $"127.0.0.1:{port}" }, test.Server.Exports);
        var e = Assert.ThrowsAsync<IOException>(() => server.StartAsync());
        Assert.That(e!.Message, Does.StartWith($"cannot listen on 127.0.0.1:{port}:"));
    }

    [Test]
    public async Task StopClosesIdleConnectionsAndRefusesNewOnes()
    {
        var server = await NbdTestServer.StartAsync();
        using var negotiating = server.Connect();
        using var transmitting = server.Go();
        var endpoint = server.EndPoint;
        await server.DisposeAsync();
        Assert.Multiple(() =>
        {
            Assert.That(negotiating.ServerCloses(), Is.True, "a connection still negotiating");
            Assert.That(transmitting.ServerCloses(), Is.True, "a connection in transmission");
            Assert.That(server.Server.ConnectionCount, Is.Zero);
        });
        using var late = new Socket(SocketType.Stream, ProtocolType.Tcp);
        Assert.That(() => late.Connect(endpoint), Throws.InstanceOf<SocketException>());
    }

    [Test]
    public async Task StopDropsAClientStuckInTheMiddleOfARequestAfterTheStopTimeout()
    {
        var server = await NbdTestServer.StartAsync(options: new NbdServerOptions { StopTimeout = TimeSpan.FromMilliseconds(200) });
        using var stuck = server.Go();
        stuck.SendRequest(CmdWrite, 0, 0, 1 << 20, new byte[1000]); // and never the rest
        await Task.Delay(50);
        var stop = server.DisposeAsync().AsTask();
        Assert.That(await Task.WhenAny(stop, Task.Delay(TimeSpan.FromSeconds(10))), Is.SameAs(stop), "stop finished");
        Assert.That(stuck.ServerCloses(), Is.True);
    }

    [Test]
    public async Task StopWaitsForTheRequestInProgress()
    {
        var server = await NbdTestServer.StartAsync();
        using var client = server.Go();
        var data = NbdTestServer.Pattern(1 << 20, 1);
        ulong handle = client.SendRequest(CmdWrite, 0, 0, (uint)data.Length, data.AsSpan(0, 1000));
        await Task.Delay(50);
        var stop = server.Server.StopAsync();
        await Task.Delay(50);
        Assert.That(stop.IsCompleted, Is.False, "stop waits for the write's payload");
        client.Send(data.AsSpan(1000));
        Assert.That(client.ReadSimpleReply(handle), Is.Zero, "the write is answered");
        await stop.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(client.ServerCloses(), Is.True);
        Assert.That(server.Persisted(0, data.Length), Is.EqualTo(data), "and flushed by the stop");
        await server.DisposeAsync();
    }

    [Test]
    public async Task GoWhoseDataArrivesDuringTheStopIsRefusedWithShutdownNotAcknowledged()
    {
        // The stop comes while NBD_OPT_GO's data is still arriving: the option is answered (the
        // server waits for it), but with NBD_REP_ERR_SHUTDOWN, not with an ACK for a transmission
        // the server then closes before serving a single request.
        var server = await NbdTestServer.StartAsync();
        using var client = server.Connect();
        var name = System.Text.Encoding.UTF8.GetBytes("pmem0");
        var data = new byte[4 + name.Length + 2];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(data, (uint)name.Length);
        name.CopyTo(data, 4);
        var header = new byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(header, IHaveOpt);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(8), OptGo);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(12), (uint)data.Length);
        client.Send(header);
        client.Send(data.AsSpan(0, 3));
        await Task.Delay(100);
        var stop = server.Server.StopAsync();
        await Task.Delay(300);
        client.Send(data.AsSpan(3));
        var go = client.ReadInfoReplies(OptGo);
        Assert.Multiple(() =>
        {
            Assert.That(go.Final.Type, Is.EqualTo(0x8000_0007u), "NBD_REP_ERR_SHUTDOWN");
            Assert.That(go.Infos, Is.Empty);
        });
        await stop.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(client.ServerCloses(), Is.True);
        await server.DisposeAsync();
    }

    [Test]
    public async Task ExportNameWhoseNameArrivesDuringTheStopClosesWithoutAnOptionReply()
    {
        // NBD_OPT_EXPORT_NAME's only answer is the export's size and flags: an option reply
        // (20 bytes starting with the reply magic) would be read as a size. Refusing means closing.
        var server = await NbdTestServer.StartAsync();
        using var client = server.Connect();
        var header = new byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(header, IHaveOpt);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(8), OptExportName);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(12), 5);
        client.Send(header);
        client.Send("pm"u8);
        await Task.Delay(100);
        var stop = server.Server.StopAsync();
        await Task.Delay(300);
        client.Send("em0"u8);
        Assert.That(() => client.ReceiveExactly(new byte[1]), Throws.InstanceOf<EndOfStreamException>().Or.InstanceOf<SocketException>(),
            "closed with nothing sent: neither an export's size nor an option reply");
        await stop.WaitAsync(TimeSpan.FromSeconds(10));
        await server.DisposeAsync();
    }

    [Test]
    public async Task AClientThatDoesNotFinishItsHandshakeInTimeIsClosedAndFreesItsSlot()
    {
        await using var server = await NbdTestServer.StartAsync(
            options: new NbdServerOptions { HandshakeTimeout = TimeSpan.FromMilliseconds(300), MaxConnections = 2 });
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var silent = RawNbdClient.Open(server.EndPoint);      // reads the greeting, says nothing
        using var halfway = server.Connect();                        // sends its flags, then no option
        Assert.Multiple(() =>
        {
            Assert.That(silent.ServerCloses(), Is.True, "a client that sends nothing");
            Assert.That(halfway.ServerCloses(), Is.True, "a client that stops after its flags");
        });
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "closed at the limit, not at the client's timeout");
        using var client = server.Go();
        await Task.Delay(600);
        Assert.Multiple(() =>
        {
            Assert.That(client.Write(0, new byte[4096]), Is.Zero, "the limit is for the handshake only: an idle client in transmission stays");
            Assert.That(server.Server.ConnectionCount, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task HandshakeTimeoutZeroMeansNoLimit()
    {
        await using var server = await NbdTestServer.StartAsync(options: new NbdServerOptions { HandshakeTimeout = TimeSpan.Zero });
        using var client = server.Connect();
        await Task.Delay(300);
        Assert.That(client.InfoOrGo(OptGo, "pmem0").Final.Type, Is.EqualTo(RepAck));
    }

    [TestCase("127.0.0.1:10809", "127.0.0.1:10809")]
    [TestCase("0.0.0.0:0", "0.0.0.0:0")]
    [TestCase("localhost:123", "127.0.0.1:123")]
    [TestCase("[::1]:10809", "[::1]:10809")]
    [TestCase("[::ffff:127.0.0.1]:10809", "127.0.0.1:10809")]
    public void EndpointsParse(string text, string expected)
    {
        Assert.That(NbdServerOptions.TryParseEndpoint(text, out var endpoint), Is.True);
        Assert.That(endpoint!.ToString(), Is.EqualTo(expected));
    }

    [TestCase("")]
    [TestCase("127.0.0.1")]
    [TestCase("127.0.0.1:")]
    [TestCase(":10809")]
    [TestCase("127.0.0.1:65536")]
    [TestCase("127.0.0.1:-1")]
    [TestCase("::1:10809")]
    [TestCase("1:10809")]
    [TestCase("example.com:10809")]
    public void MalformedEndpointsAreRejected(string text)
    {
        Assert.That(NbdServerOptions.TryParseEndpoint(text, out _), Is.False);
    }

    [Test]
    public void DefaultOptionsAreValidAndDocumented()
    {
        var options = new NbdServerOptions();
        Assert.Multiple(() =>
        {
            Assert.That(options.Validate(), Is.Empty);
            Assert.That(options.Listen, Is.EqualTo("127.0.0.1:10809"));
            Assert.That(options.MaxConnections, Is.EqualTo(64));
            Assert.That(options.MaxPayload, Is.EqualTo(32 << 20));
            Assert.That(options.HandshakeTimeout, Is.EqualTo(TimeSpan.FromSeconds(10)));
            Assert.That(options.BusyPollMicroseconds, Is.EqualTo(50));
            Assert.That(options.ReplyHoldMicroseconds, Is.EqualTo(20));
        });
    }

    [TestCase("Listen", "nowhere")]
    [TestCase("MaxConnections", "0")]
    [TestCase("MaxPayload", "1000")]
    [TestCase("MaxPayload", "2147483647")]
    [TestCase("StopTimeout", "-00:00:01")]
    [TestCase("HandshakeTimeout", "-00:00:01")]
    [TestCase("HandshakeTimeout", "01:00:01")]
    [TestCase("BusyPollMicroseconds", "-1")]
    [TestCase("BusyPollMicroseconds", "1001")]
    [TestCase("ReplyHoldMicroseconds", "-1")]
    [TestCase("ReplyHoldMicroseconds", "1001")]
    public async Task InvalidConfigurationFailsTheHostAtStartNamingTheKey(string key, string value)
    {
        using var host = BuildHost(new() { [$"Nbd:{key}"] = value });
        var e = Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.That(e!.Message, Does.Contain($"Nbd:{key}"));
        await Task.CompletedTask;
    }

    [Test]
    public async Task HostedServiceServesTheRegisteredExportsUntilTheHostStops()
    {
        using var host = BuildHost(new() { ["Nbd:Listen"] = "127.0.0.1:0", ["Nbd:MaxConnections"] = "3" });
        await host.StartAsync();
        var server = host.Services.GetRequiredService<NbdServer>();
        Assert.Multiple(() =>
        {
            Assert.That(server.Options.MaxConnections, Is.EqualTo(3), "options come from the Nbd section");
            Assert.That(server.Exports.Select(e => e.Name), Is.EqualTo(new[] { "first", "second" }));
        });
        using (var client = RawNbdClient.ConnectAndGo(server.LocalEndPoint!, "second"))
            Assert.That(client.Write(0, new byte[4096]), Is.Zero);
        await host.StopAsync();
        Assert.That(server.ConnectionCount, Is.Zero);
    }

    [Test]
    public void ExportsWithTheSameNameAreRefused()
    {
        using var device = new NbdDeviceHolder();
        Assert.That(() => new NbdServer(new NbdServerOptions(), [new("a", device.Device), new("a", device.Device)]),
            Throws.ArgumentException.With.Message.Contains("'a'"));
    }

    [TestCase("")]
    [TestCase("a\0b")]
    public void ExportNamesTheProtocolCannotCarryAreRefused(string name)
    {
        using var device = new NbdDeviceHolder();
        Assert.That(() => new NbdExport(name, device.Device), Throws.ArgumentException);
        Assert.That(() => new NbdExport(new string('x', 4097), device.Device), Throws.ArgumentException);
    }

    private static IHost BuildHost(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        var holder = new NbdDeviceHolder();
        builder.Services.AddSingleton(holder);
        builder.Services.AddNbdExport(new NbdExport("first", holder.Device));
        builder.Services.AddNbdExport(sp => new NbdExport("second", sp.GetRequiredService<NbdDeviceHolder>().Device, "built by a factory"));
        return builder.Build();
    }
}
