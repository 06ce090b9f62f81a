using System.Diagnostics.Metrics;
using DaxStack.Driver.Diagnostics;

namespace DaxStack.Driver.Tests.Nbd;

/// <summary>Adds up a driver counter tagged result=hit|miss while it lives (every server in the process adds to it).</summary>
internal sealed class NbdResultCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _hits, _misses;

    public NbdResultCounter(string instrumentName)
    {
        _listener.InstrumentPublished = (instrument, l) =>
        {
            // By name: the driver's instruments may be created inside this callback, before their properties are set.
            if (instrument.Meter.Name == DriverDiagnostics.Name && instrument.Name == instrumentName)
                l.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "result" && (string?)tag.Value == "hit")
                    Interlocked.Add(ref _hits, value);
                else if (tag.Key == "result")
                    Interlocked.Add(ref _misses, value);
            }
        });
        _listener.Start();
    }

    public long Hits => Interlocked.Read(ref _hits);

    public long Misses => Interlocked.Read(ref _misses);

    public void Dispose() => _listener.Dispose();
}
