using DaxStack.Driver.Dax;

namespace DaxStack.Driver.DeviceDax;

/// <summary>
/// One mapping of a <see cref="DevDax"/>: a virtual range and the entries its faults installed.
/// Safe to fault from several threads.
/// </summary>
/// <remarks>Models a device-dax <c>vm_area_struct</c> with its page-table entries.</remarks>
public sealed class DevDaxMapping
{
    private readonly DevDax _device;
    private readonly SortedDictionary<long, DevDaxEntry> _entries = [];

    internal DevDaxMapping(DevDax device, long start, long length, long pgoff, bool writable)
    {
        _device = device;
        Start = start;
        Length = length;
        Pgoff = pgoff;
        Writable = writable;
    }

    /// <summary>First virtual address.</summary>
    public long Start { get; }

    /// <summary>Length in bytes.</summary>
    public long Length { get; }

    /// <summary>One past the last virtual address.</summary>
    public long End => Start + Length;

    /// <summary>The device page the mapping starts at.</summary>
    public long Pgoff { get; }

    /// <summary>Whether the mapping allows stores.</summary>
    public bool Writable { get; }

    /// <summary>The installed entries in address order.</summary>
    public IReadOnlyList<DevDaxEntry> Entries
    {
        get
        {
            lock (_entries)
                return [.. _entries.Values];
        }
    }

    /// <summary>
    /// Serves a fault at <paramref name="address"/> asking for an entry of <paramref name="size"/>.
    /// A size smaller than the device's alignment is SIGBUS, a larger one FALLBACK (the caller
    /// retries smaller); a fault outside the mapping or past the device end, a write fault on a
    /// read-only mapping, or any fault once the namespace has been destroyed or reconfigured, is SIGBUS. On NOPAGE <paramref name="entry"/> is the installed entry
    /// (the one already there if another fault installed it first).
    /// An entry of a writable mapping over a sparse image gets room in the image before it is
    /// installed (the image's blocks under it are allocated), so that a store through it cannot
    /// meet a hole the host file system has no room for; with no room the fault is SIGBUS, as a
    /// fault the kernel cannot back is.
    /// </summary>
    public DaxFaultStatus Fault(long address, PageEntrySize size, bool write, out DevDaxEntry entry)
    {
        entry = default;
        long fault = (long)size;
        if (address < Start || address >= End || (write && !Writable) || _device.IsGone)
            return DaxFaultStatus.SigBus;
        if (fault < _device.Align)
            return DaxFaultStatus.SigBus;
        if (fault > _device.Align)
            return DaxFaultStatus.Fallback;
        long va = address & ~(fault - 1);
        if (va < Start || va + fault > End)
            return DaxFaultStatus.SigBus;
        // dax_pgoff_to_phys: the entry must lie inside the device. Compared in pages, as
        // Pgoff << 12 overflows for a page offset far past any device.
        long into = va - Start;
        if (Pgoff > (_device.Size - into - fault) >> 12)
            return DaxFaultStatus.SigBus;
        long offset = (Pgoff << 12) + into;
        lock (_entries)
        {
            if (!_entries.TryGetValue(va, out entry))
            {
                // A store through the entry into a hole of a sparse image on a full file system
                // would end the process with SIGBUS, with no error to report: the room is made
                // now, once per 64 KiB chunk of the image (a read-only mapping needs it only where
                // loads allocate too, on tmpfs).
                if ((Writable || _device.Room.ForReads) && _device.Room.Reserve(offset, fault) != 0)
                    return DaxFaultStatus.SigBus;
                entry = new DevDaxEntry(va, (_device.Namespace.PhysicalAddress + offset) >> 12, size, Writable);
                _entries.Add(va, entry);
            }
        }
        return DaxFaultStatus.NoPage;
    }

    /// <summary>
    /// The window over the installed entry that holds <paramref name="address"/>; false when no
    /// entry maps it (an access there would fault first), as after the namespace has been destroyed
    /// or reconfigured (the kernel zaps the mappings of a dax device it kills). The window refuses stores when the
    /// entry is not writable (a mapping without <see cref="DevDaxMapFlags.Write"/>), and every
    /// access once the namespace has been destroyed or reconfigured (<see cref="DaxDeviceGoneException"/>).
    /// </summary>
    public bool TryGetWindow(long address, out DaxWindow window)
    {
        window = default;
        if (_device.IsGone)
            return false;
        long va = address & ~(_device.Align - 1);
        lock (_entries)
        {
            if (!_entries.TryGetValue(va, out var entry))
                return false;
            window = new DaxWindow(_device.Space, _device.Binding, entry.PhysicalAddress, (long)entry.Size, entry.Writable);
            return true;
        }
    }

    /// <summary>Removes every installed entry (munmap or a device shutdown zaps the range).</summary>
    public void Unmap()
    {
        lock (_entries)
            _entries.Clear();
    }
}
