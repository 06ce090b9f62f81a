using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using DaxStack.Driver.Diagnostics;
using static DaxStack.Driver.Tests.Nbd.RawNbdClient;

namespace DaxStack.Driver.Tests.Nbd;

/// <summary>The driver meter counts NBD connections and requests (by command and error), so dotnet-counters shows them.</summary>
public class NbdDiagnosticsTests
{
    [Test]
    public async Task ConnectionsAndRequestsAreCountedByCommandAndError()
    {
        var counts = new ConcurrentDictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == DriverDiagnostics.Name && instrument.Name.StartsWith("daxstack.driver.nbd.", StringComparison.Ordinal))
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string key = instrument.Name;
            foreach (var tag in tags)
                key += $" {tag.Key}={tag.Value}";
            counts.AddOrUpdate(key, value, (_, v) => v + value);
        });
        listener.Start();

        await using var server = await NbdTestServer.StartAsync();
        using (var client = server.Go())
        {
            Assert.That(client.Write(0, new byte[4096]), Is.Zero);
            Assert.That(client.ReadOk(0, 4096), Has.Length.EqualTo(4096));
            Assert.That(client.Read(1L << 40, 512).Error, Is.EqualTo(EINVAL));
            Assert.That(client.Flush(), Is.Zero);
            client.Disconnect();
            Assert.That(client.ServerCloses(), Is.True);
        }

        Assert.Multiple(() =>
        {
            Assert.That(counts.GetValueOrDefault("daxstack.driver.nbd.connections"), Is.GreaterThanOrEqualTo(1));
            Assert.That(counts.GetValueOrDefault("daxstack.driver.nbd.requests command=write error=0"), Is.GreaterThanOrEqualTo(1));
            Assert.That(counts.GetValueOrDefault("daxstack.driver.nbd.requests command=read error=0"), Is.GreaterThanOrEqualTo(1));
            Assert.That(counts.GetValueOrDefault("daxstack.driver.nbd.requests command=read error=EINVAL"), Is.GreaterThanOrEqualTo(1));
            Assert.That(counts.GetValueOrDefault("daxstack.driver.nbd.requests command=flush error=0"), Is.GreaterThanOrEqualTo(1));
            Assert.That(counts.GetValueOrDefault("daxstack.driver.nbd.requests command=disc error=0"), Is.GreaterThanOrEqualTo(1));
        });
    }
}
