using DaxStack.Device.Namespaces;

namespace DaxStack.Driver.Pmem;

/// <summary>
/// Whether the namespace a device was attached to still exists as it was attached. Destroying or
/// reconfiguring it (with force) unbinds the device for good, as ndctl disables a namespace
/// first and the kernel then deletes its disk and kills its dax device: the range may by then
/// belong to another namespace, which the old device must not read or write.
/// </summary>
/// <remarks>
/// A check costs a read of the region's namespace list and a reference comparison; the list is
/// searched only when it changed. Thread-safe. A change that lands while an operation that has
/// passed the check is running is not seen by that operation.
/// </remarks>
internal sealed class NamespaceBinding(BusRegion region, NvdimmNamespace ns)
{
    private object? _seen;          // the region's namespace list last found to hold the namespace
    private volatile bool _gone;

    /// <summary>Whether the namespace has been destroyed or reconfigured since the device was attached.</summary>
    public bool IsGone
    {
        get
        {
            if (_gone)
                return true;
            var current = region.Namespaces;
            if (ReferenceEquals(current, Volatile.Read(ref _seen)))
                return false;
            foreach (var n in current)
            {
                // A change to another namespace keeps this one's label as it was.
                if (n.Label == ns.Label)
                {
                    Volatile.Write(ref _seen, current);
                    return false;
                }
            }
            _gone = true;
            return true;
        }
    }
}
