namespace DaxStack.Driver.Dax;

/// <summary>What <see cref="IDaxOperations.DirectAccess"/> hands out: a run of contiguous pages.</summary>
/// <param name="Pages">How many 4 KiB pages are addressable from the requested page offset.</param>
/// <param name="Pfn">The page frame number of the first page (physical address >> 12).</param>
/// <param name="Window">Loads, stores, flushes and fences over exactly those pages.</param>
/// <remarks>Models the (return value, kaddr, pfn) triple of <c>dax_direct_access</c>.</remarks>
public readonly record struct DaxExtent(long Pages, long Pfn, DaxWindow Window);
