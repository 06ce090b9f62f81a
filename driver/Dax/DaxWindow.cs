using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using DaxStack.Device.Cost;
using DaxStack.Device.Platform;
using DaxStack.Device.Poison;
using DaxStack.Driver.Pmem;

namespace DaxStack.Driver.Dax;

/// <summary>
/// A range of device memory handed out by <see cref="IDaxOperations.DirectAccess"/>: loads,
/// stores, cache flushes and fences on it execute on the calling thread's emulated CPU, so the
/// device's persistence model and cost model see every access (the kernel would dereference the
/// kaddr directly). Offsets are relative to the window; touching bytes outside it is a bug and
/// throws <see cref="ArgumentOutOfRangeException"/>. A window over a mapping without write access
/// (a device-dax mapping made without <c>PROT_WRITE</c>) refuses stores with
/// <see cref="InvalidOperationException"/>, where the hardware would raise a protection fault.
/// <para>
/// A window remembers the device it came from: once that device is unbound (its namespace was
/// destroyed or reconfigured), every load, store, flush and fence through the window throws
/// <see cref="DaxDeviceGoneException"/> without touching memory, which may by then belong to
/// another namespace. The check is a read of the region's namespace list and a reference
/// comparison; an access that passed it while the change was being made may still land, as for
/// any operation the device started before its unbind.
/// </para>
/// </summary>
/// <remarks>Models the kernel virtual address (<c>kaddr</c>) that <c>dax_direct_access</c> returns.</remarks>
public readonly struct DaxWindow
{
    private readonly PhysicalAddressSpace _space;
    private readonly NamespaceBinding _binding;
    private readonly bool _readOnly;

    internal DaxWindow(PhysicalAddressSpace space, NamespaceBinding binding, long physicalAddress, long length, bool writable = true)
    {
        ArgumentNullException.ThrowIfNull(space);
        ArgumentNullException.ThrowIfNull(binding);
        _space = space;
        _binding = binding;
        PhysicalAddress = physicalAddress;
        Length = length;
        _readOnly = !writable;
    }

    /// <summary>The physical address of the window's first byte.</summary>
    public long PhysicalAddress { get; }

    /// <summary>Length in bytes.</summary>
    public long Length { get; }

    /// <summary>The page frame number of the first page.</summary>
    public long Pfn => PhysicalAddress >> 12;

    /// <summary>Whether the window is the default (empty) value.</summary>
    public bool IsEmpty => _space is null;

    /// <summary>
    /// Whether the device the window came from is unbound (its namespace was destroyed or
    /// reconfigured): every access through it then throws <see cref="DaxDeviceGoneException"/>.
    /// False for the empty window.
    /// </summary>
    public bool IsDeviceGone => _space is not null && _binding.IsGone;

    /// <summary>Whether stores through the window are allowed (false for a read-only mapping).</summary>
    public bool IsWritable => _space is not null && !_readOnly;

    /// <summary>The part of the window from <paramref name="offset"/> for <paramref name="length"/> bytes.</summary>
    public DaxWindow Slice(long offset, long length)
    {
        Check(offset, length);
        return new DaxWindow(_space, _binding, PhysicalAddress + offset, length, !_readOnly);
    }

    /// <summary>The physical address of byte <paramref name="offset"/>.</summary>
    public long AddressOf(long offset)
    {
        Check(offset, 0);
        return PhysicalAddress + offset;
    }

    /// <summary>Loads bytes; a poisoned line raises <see cref="MachineCheckException"/>.</summary>
    public void Load(long offset, Span<byte> destination)
    {
        Check(offset, destination.Length);
        _space.CurrentCpu.Load(PhysicalAddress + offset, destination);
    }

    /// <summary>
    /// A machine-check-safe copy: loads as much as it can and returns how many bytes were copied
    /// before the first poisoned line (all of them when there is none).
    /// </summary>
    /// <remarks>Models <c>copy_mc_to_kernel</c> / <c>copy_mc_to_iter</c>.</remarks>
    public long LoadMc(long offset, Span<byte> destination)
    {
        Check(offset, destination.Length);
        var cpu = _space.CurrentCpu;
        try
        {
            cpu.Load(PhysicalAddress + offset, destination);
            return destination.Length;
        }
        catch (MachineCheckException e)
        {
            long good = e.PhysicalAddress - (PhysicalAddress + offset);
            if (good > 0)
                cpu.Load(PhysicalAddress + offset, destination[..(int)good]);
            return Math.Max(0, good);
        }
    }

    /// <summary>Loads a little-endian 64-bit value.</summary>
    public ulong LoadUInt64(long offset)
    {
        Check(offset, 8);
        return _space.CurrentCpu.LoadUInt64(PhysicalAddress + offset);
    }

    /// <summary>Stores through the cache: visible now, durable once written back and fenced.</summary>
    public void Store(long offset, ReadOnlySpan<byte> source)
    {
        CheckStore(offset, source.Length);
        _space.CurrentCpu.Store(PhysicalAddress + offset, source);
    }

    /// <summary>Stores a little-endian 64-bit value (8-byte aligned stores never tear).</summary>
    public void StoreUInt64(long offset, ulong value)
    {
        CheckStore(offset, 8);
        _space.CurrentCpu.StoreUInt64(PhysicalAddress + offset, value);
    }

    /// <summary>Non-temporal stores: durable after this CPU's next fence (<c>memcpy_flushcache</c>).</summary>
    public void NtStore(long offset, ReadOnlySpan<byte> source)
    {
        CheckStore(offset, source.Length);
        _space.CurrentCpu.NtStore(PhysicalAddress + offset, source);
    }

    /// <summary>Non-temporal stores and a fence: durable on return.</summary>
    public void Persist(long offset, ReadOnlySpan<byte> source)
    {
        CheckStore(offset, source.Length);
        _space.CurrentCpu.Persist(PhysicalAddress + offset, source);
    }

    /// <summary>Executes <paramref name="kind"/> (clflush, clflushopt, clwb) over every line of the range.</summary>
    public void Flush(FlushKind kind, long offset, long length)
    {
        Check(offset, length);
        _space.CurrentCpu.Flush(kind, PhysicalAddress + offset, length);
    }

    /// <summary>clwb over the range: the kernel's <c>arch_wb_cache_pmem</c>.</summary>
    public void WriteBack(long offset, long length) => Flush(FlushKind.Clwb, offset, length);

    /// <summary>sfence on the calling CPU: every write-back it issued is durable afterwards (<c>pmem_wmb</c>).</summary>
    public void Sfence()
    {
        CheckAlive();
        _space.CurrentCpu.Sfence();
    }

    private void CheckStore(long offset, long length)
    {
        Check(offset, length);
        if (_readOnly)
            throw new InvalidOperationException(
                $"the DAX window at 0x{PhysicalAddress:x} is read-only: a store through it would fault (the mapping has no write access)");
    }

    private void Check(long offset, long length)
    {
        CheckAlive();
        if (offset < 0 || length < 0 || offset > Length - length)
            throw new ArgumentOutOfRangeException(nameof(offset), offset,
                $"[{offset}, +{length}) is outside the {Length}-byte DAX window at 0x{PhysicalAddress:x}");
    }

    // Every access begins here: the empty window is a bug, and a window of an unbound device
    // must not reach memory that may now be another namespace's.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CheckAlive()
    {
        if (_space is null)
            ThrowEmpty();
        if (_binding.IsGone)
            ThrowGone(_binding, PhysicalAddress);
    }

    [DoesNotReturn]
    private static void ThrowEmpty() => throw new InvalidOperationException("the DAX window is empty");

    [DoesNotReturn]
    private static void ThrowGone(NamespaceBinding binding, long physicalAddress) =>
        throw new DaxDeviceGoneException(binding.Namespace.Name, physicalAddress);
}
