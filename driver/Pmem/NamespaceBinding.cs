using System.Runtime.CompilerServices;
using DaxStack.Device.Namespaces;

namespace DaxStack.Driver.Pmem;

/// <summary>
/// Whether the namespace a device was attached to still exists as it was attached. Destroying or
/// reconfiguring it (with force) unbinds the device for good, as ndctl disables a namespace
/// first and the kernel then deletes its disk and kills its dax device: the range may by then
/// belong to another namespace, which the old device must not read or write. Detaching the
/// driver from the device (<see cref="Unbind"/>) has the same effect.
/// </summary>
/// <remarks>
/// A check costs a read of the region's namespace list and a reference comparison with the list
/// last found to hold the namespace (it is on the path of every store through a
/// <see cref="Dax.DaxWindow"/>); the list is searched only when it changed. Thread-safe. A change
/// that lands while an operation that has passed the check is running is not seen by that
/// operation. Models the liveness the kernel's <c>dax_alive</c> reports.
/// </remarks>
internal sealed class NamespaceBinding(BusRegion region, NvdimmNamespace ns)
{
    // What _seen holds once the namespace is gone: no namespace list is ever this object, so
    // every later check takes the slow path, which answers at once.
    private static readonly object s_gone = new();

    private object? _seen;          // the region's namespace list last found to hold the namespace, or s_gone

    /// <summary>The namespace the device was attached to (its name is what error messages show).</summary>
    public NvdimmNamespace Namespace => ns;

    /// <summary>Whether the namespace has been destroyed or reconfigured since the device was attached, or the device was detached.</summary>
    public bool IsGone
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => !ReferenceEquals(region.Namespaces, Volatile.Read(ref _seen)) && Recheck();
    }

    /// <summary>
    /// Unbinds the device from a namespace that still exists (the driver detaches from it): from
    /// now on <see cref="IsGone"/> answers true, as it does once the namespace is destroyed.
    /// </summary>
    public void Unbind() => Volatile.Write(ref _seen, s_gone);

    // The namespace list changed since it was last seen (or the namespace is gone): look again.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool Recheck()
    {
        while (true)
        {
            var seen = Volatile.Read(ref _seen);
            if (ReferenceEquals(seen, s_gone))
                return true;
            var current = region.Namespaces;
            if (!Holds(current))
            {
                // Gone is for good: a later namespace with the same label is another device's.
                Volatile.Write(ref _seen, s_gone);
                return true;
            }
            // Only from what was read, so that a thread finding it gone is never overwritten.
            if (ReferenceEquals(Interlocked.CompareExchange(ref _seen, current, seen), seen))
                return false;
        }
    }

    private bool Holds(IReadOnlyList<NvdimmNamespace> namespaces)
    {
        foreach (var n in namespaces)
        {
            // A change to another namespace keeps this one's label object; a reconfiguration makes
            // a new one even when it is equal (the same mode, size and uuid): ndctl disables the
            // namespace all the same, so the device is unbound.
            if (ReferenceEquals(n.Label, ns.Label))
                return true;
        }
        return false;
    }
}
