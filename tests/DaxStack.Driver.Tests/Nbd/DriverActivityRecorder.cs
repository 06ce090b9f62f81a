using System.Collections.Concurrent;
using System.Diagnostics;
using DaxStack.Driver.Diagnostics;

namespace DaxStack.Driver.Tests.Nbd;

/// <summary>
/// Records the names of the driver's activities (its tracing spans) while it lives, so a test can
/// tell which path a request took. Every test in the process adds to them: fixtures that use it
/// run alone.
/// </summary>
internal sealed class DriverActivityRecorder : IDisposable
{
    private readonly ConcurrentQueue<string> _names = new();
    private readonly ActivityListener _listener;

    public DriverActivityRecorder()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == DriverDiagnostics.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = a => _names.Enqueue(a.OperationName),
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>How many activities named <paramref name="name"/> have ended so far.</summary>
    public int Count(string name) => _names.Count(n => n == name);

    public void Dispose() => _listener.Dispose();
}
