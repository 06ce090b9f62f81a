using System.Runtime.CompilerServices;

namespace DaxStack.Device.Persistence;

/// <summary>
/// A minimal spin lock for the per-region persistence state. Critical sections are a few
/// hundred nanoseconds at most, so spinning beats a monitor on the store/flush hot path.
/// </summary>
internal struct RegionLock
{
    private int _held;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Enter()
    {
        if (Interlocked.CompareExchange(ref _held, 1, 0) != 0)
            EnterContended();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void EnterContended()
    {
        var spin = new SpinWait();
        while (Interlocked.CompareExchange(ref _held, 1, 0) != 0)
            spin.SpinOnce();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Exit() => Volatile.Write(ref _held, 0);
}
