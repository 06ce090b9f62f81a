using DaxStack.Device.Namespaces;

namespace DaxStack.Driver.Tests;

/// <summary>
/// Holds the first poison clearing of a region inside its change handler until <see cref="Release"/>.
/// A write over poison clears it while holding its submission queue, so the bio or DAX write that
/// clears it keeps that queue meanwhile: the unbind race tests use it to have work in flight.
/// </summary>
internal sealed class PoisonClearGate
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly ManualResetEventSlim _held = new();
    private readonly ManualResetEventSlim _release = new();
    private int _armed = 1;

    public PoisonClearGate(BusRegion region) => region.Region.Poison.Changed += OnChanged;

    /// <summary>Waits (at most 30 s) until the first clearing is held; false if it never came.</summary>
    public bool WaitHeld() => _held.Wait(Bound);

    /// <summary>Lets the held clearing go on.</summary>
    public void Release() => _release.Set();

    private void OnChanged()
    {
        if (Interlocked.Exchange(ref _armed, 0) == 0)
            return;
        _held.Set();
        _release.Wait(Bound);
    }
}
