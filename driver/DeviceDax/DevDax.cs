using DaxStack.Device.Errors;
using DaxStack.Device.Namespaces;
using DaxStack.Device.Platform;
using DaxStack.Driver.Pmem;
using Microsoft.Extensions.Logging;

namespace DaxStack.Driver.DeviceDax;

/// <summary>
/// A device-dax character device over a <c>devdax</c> namespace: it has no read or write, only
/// mmap, and every mapping is faulted in entries of exactly the namespace's alignment (4 KiB,
/// 2 MiB or 1 GiB). The mm layer maps it; this class checks the mapping and serves its faults.
/// </summary>
/// <remarks>Models drivers/dax/device.c (<c>dax_mmap</c>, <c>check_vma</c>, <c>dev_dax_huge_fault</c>).</remarks>
public sealed class DevDax
{
    private readonly PhysicalAddressSpace _space;
    private readonly NamespaceBinding _binding;

    internal DevDax(BusRegion region, NvdimmNamespace ns, bool readOnly, ILogger? logger)
    {
        _space = region.Space;
        _binding = new NamespaceBinding(region, ns);
        Namespace = ns;
        ReadOnly = readOnly;
        Room = new HostRoom(ns.Region.Media, ns.Offset, ns.Size, ns.CharDevice!, logger);
    }

    // Room in the image for the entries faults install (see DevDaxMapping.Fault).
    internal HostRoom Room { get; }

    /// <summary>The namespace.</summary>
    public NvdimmNamespace Namespace { get; }

    /// <summary>The character device name (daxR.N).</summary>
    public string Name => Namespace.CharDevice!;

    /// <summary>Size in bytes.</summary>
    public long Size => Namespace.Size;

    /// <summary>The fault granularity and mapping alignment, in bytes.</summary>
    public long Align => Namespace.Align;

    /// <summary>Whether the device was opened read-only (writable mappings are refused).</summary>
    public bool ReadOnly { get; }

    internal PhysicalAddressSpace Space => _space;

    // Whether the namespace was destroyed or reconfigured since the device was attached: the
    // kernel has killed the dax device then (check_vma fails, its mappings are zapped).
    internal bool IsGone => _binding.IsGone;

    // What the windows over its mappings remember, so that they refuse access once it is gone.
    internal NamespaceBinding Binding => _binding;

    /// <summary>
    /// Checks and creates a mapping of <paramref name="length"/> bytes at virtual address
    /// <paramref name="address"/>, starting at page <paramref name="pgoff"/> of the device.
    /// EINVAL for a zero length, a private mapping, or an address, length or offset not aligned to
    /// <see cref="Align"/>; ENOMEM for a range that runs past the end of the address space;
    /// EOVERFLOW for an offset whose mapping would end past 2^64 bytes of the device; EACCES
    /// for a writable shared mapping of a read-only device (checked, as do_mmap does, before the range);
    /// ENXIO once the namespace has been destroyed or reconfigured (checked first by the driver's check_vma).
    /// </summary>
    public Errno Mmap(long address, long length, long pgoff, DevDaxMapFlags flags, out DevDaxMapping? mapping)
    {
        mapping = null;
        if (length <= 0 || address < 0 || pgoff < 0)
            return Errno.EINVAL;
        if (address > long.MaxValue - length)
            return Errno.ENOMEM;    // past the end of the address space (get_unmapped_area)
        if ((ulong)pgoff > (ulong.MaxValue - (ulong)length) >> 12)
            return Errno.EOVERFLOW; // file_mmap_ok: a character device's offsets end at 2^64 bytes
        if ((flags & (DevDaxMapFlags.Shared | DevDaxMapFlags.Write)) == (DevDaxMapFlags.Shared | DevDaxMapFlags.Write) && ReadOnly)
            return Errno.EACCES;    // do_mmap, before the driver's mmap sees the range
        if (IsGone)
            return Errno.ENXIO;     // check_vma: the dax device is no longer alive
        if ((flags & DevDaxMapFlags.Shared) == 0)
            return Errno.EINVAL;    // "cannot mmap private mapping"
        long mask = Align - 1;
        if ((address & mask) != 0 || ((address + length) & mask) != 0 || ((pgoff << 12) & mask) != 0)
            return Errno.EINVAL;    // "vm_start/vm_end misaligned"
        mapping = new DevDaxMapping(this, address, length, pgoff, (flags & DevDaxMapFlags.Write) != 0);
        return 0;
    }
}
