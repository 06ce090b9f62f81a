using System.Diagnostics.Metrics;
using DaxStack.Device.Diagnostics;

namespace DaxStack.Device.Tests.Diagnostics;

public class DeviceMetricsTests
{
    [Test]
    public void TheMeterReportsInstructionCountsBytesAndModeledTime()
    {
        using var metrics = new DeviceMetrics();
        using var d = new DeviceFixture();
        metrics.Attach(d.Space);
        d.Cpu.Store(d.Pa(0), new byte[128]);
        d.Cpu.Flush(Device.Cost.FlushKind.Clwb, d.Pa(0), 128);
        d.Cpu.Sfence();
        d.Cpu.Load(d.Pa(0), new byte[64]);

        var seen = new Dictionary<string, double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == DeviceMetrics.MeterName)
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((i, v, _, _) => seen[i.Name] = seen.GetValueOrDefault(i.Name) + v);
        listener.SetMeasurementEventCallback<double>((i, v, _, _) => seen[i.Name] = seen.GetValueOrDefault(i.Name) + v);
        listener.Start();
        listener.RecordObservableInstruments();

        Assert.Multiple(() =>
        {
            Assert.That(seen["daxstack.device.stores"], Is.EqualTo(1));
            Assert.That(seen["daxstack.device.clwb"], Is.EqualTo(2));
            Assert.That(seen["daxstack.device.sfence"], Is.EqualTo(1));
            Assert.That(seen["daxstack.device.loads"], Is.EqualTo(1));
            Assert.That(seen["daxstack.device.bytes_stored"], Is.EqualTo(128));
            Assert.That(seen["daxstack.device.media_bytes_written"], Is.GreaterThanOrEqualTo(128));
            Assert.That(seen["daxstack.device.modeled_time"], Is.EqualTo(d.Cpu.Clock.Nanoseconds).Within(1e-6));
        });
    }
}
