namespace DaxStack.Driver.DeviceDax;

/// <summary>A page-table entry a device-dax fault installed.</summary>
/// <param name="Address">Virtual address of the entry (aligned to its size).</param>
/// <param name="Pfn">Page frame number it maps.</param>
/// <param name="Size">PTE, PMD or PUD.</param>
/// <param name="Writable">Whether stores through it are allowed.</param>
public readonly record struct DevDaxEntry(long Address, long Pfn, PageEntrySize Size, bool Writable)
{
    /// <summary>Physical address of the first byte.</summary>
    public long PhysicalAddress => Pfn << 12;
}
