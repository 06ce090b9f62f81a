using System.Diagnostics.Metrics;
using DaxStack.Device.Diagnostics;

namespace DaxStack.Tests.Shared;

/// <summary>Reads the <c>DaxStack.Device</c> meter as a listener such as dotnet-counters does.</summary>
internal static class DeviceMeterReading
{
    /// <summary>One collection of the meter's observable instruments: each instrument's name and the sum of what it reported.</summary>
    public static Dictionary<string, double> Observe()
    {
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
        return seen;
    }
}
