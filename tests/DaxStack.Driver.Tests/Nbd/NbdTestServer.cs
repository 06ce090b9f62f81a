using System.Net;
using DaxStack.Device.Cost;
using DaxStack.Device.Crash;
using DaxStack.Device.Hosting;
using DaxStack.Device.Media;
using DaxStack.Device.Namespaces;
using DaxStack.Driver.Block;
using DaxStack.Driver.Hosting;
using DaxStack.Driver.Nbd;
using DaxStack.Driver.Pmem;

namespace DaxStack.Driver.Tests.Nbd;

/// <summary>An in-process NBD server on 127.0.0.1:0 exporting an in-memory pmem device (<c>pmem0</c>), torn down on dispose.</summary>
internal sealed class NbdTestServer : IAsyncDisposable
{
    private NbdTestServer(NvdimmBus bus, BusRegion region, PmemDevice device, NbdServer server)
    {
        Bus = bus;
        Region = region;
        Device = device;
        Server = server;
    }

    public NvdimmBus Bus { get; }

    public BusRegion Region { get; }

    public PmemDevice Device { get; }

    public NbdServer Server { get; }

    public IPEndPoint EndPoint => Server.LocalEndPoint!;

    /// <summary>
    /// Starts a server exporting a fresh <paramref name="size"/>-byte device as <c>pmem0</c>
    /// (read-only if asked), plus <paramref name="extraExports"/> more exports of the same device.
    /// </summary>
    public static async Task<NbdTestServer> StartAsync(long size = 4 << 20, int logicalBlockSize = 512, bool readOnly = false,
        NbdServerOptions? options = null, params string[] extraExports)
    {
        var bus = new NvdimmBus(new CostProfileCatalog(new NvdimmOptions()));
        var region = bus.AddMemory(new NativeMedia(size));
        var device = new PmemDriver(new PmemOptions { LogicalBlockSize = logicalBlockSize, QueueCount = 2 })
            .AttachPmem(region, region.Namespaces[0]);
        var exports = new List<NbdExport> { new(device.Name, device, "the test device", readOnly) };
        exports.AddRange(extraExports.Select(name => new NbdExport(name, device, $"another name for {device.Name}", readOnly)));
        options ??= new NbdServerOptions();
        options.Listen = "127.0.0.1:0";
        var server = new NbdServer(options, exports);
        await server.StartAsync();
        return new NbdTestServer(bus, region, device, server);
    }

    public RawNbdClient Connect(uint clientFlags = 3) => RawNbdClient.Connect(EndPoint, clientFlags);

    public RawNbdClient Go(string name = "pmem0") => RawNbdClient.ConnectAndGo(EndPoint, name);

    /// <summary>Power failure under the strict policy: every write not flushed or written with FUA is lost.</summary>
    public void PowerFailure() => Bus.Space.Crash(CrashPolicy.Strict);

    /// <summary>The device's contents read directly through the driver (whole blocks, then trimmed to the range).</summary>
    public byte[] DeviceBytes(long offset, int length)
    {
        int block = Device.Limits.LogicalBlockSize;
        long start = offset / block * block;
        long end = (offset + length + block - 1) / block * block;
        var blocks = new byte[end - start];
        Assert.That(Device.Read(start, blocks), Is.EqualTo(BlkStatus.Ok));
        return blocks.AsSpan((int)(offset - start), length).ToArray();
    }

    /// <summary>The bytes the media holds durably: what a power failure would leave.</summary>
    public byte[] Persisted(long offset, int length)
    {
        var bytes = new byte[length];
        Region.Region.ReadPersisted(Device.Namespace.Offset + offset, bytes);
        return bytes;
    }

    public static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public async ValueTask DisposeAsync()
    {
        await Server.StopAsync();
        Bus.Dispose();
    }
}
