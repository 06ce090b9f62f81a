using DaxStack.Device.Platform;

namespace DaxStack.Device.Namespaces;

/// <summary>
/// One namespace: a range of a region exposed in one mode. Its physical address is the
/// region's base address plus its offset, and its first page frame number is that address
/// shifted right by 12. Immutable: reconfiguring or destroying a namespace makes a new set.
/// </summary>
/// <remarks>Models the kernel's <c>struct nd_namespace_pmem</c> (with its pfn/dax/btt personality as <see cref="Mode"/>).</remarks>
public sealed class NvdimmNamespace
{
    internal NvdimmNamespace(NvdimmRegion region, NamespaceLabel label, bool isLabelless)
    {
        Region = region;
        Label = label;
        IsLabelless = isLabelless;
    }

    /// <summary>The region the namespace is part of.</summary>
    public NvdimmRegion Region { get; }

    /// <summary>The label describing it (synthesised for a label-less namespace).</summary>
    public NamespaceLabel Label { get; }

    /// <summary>True for the one raw namespace of an image without a label file.</summary>
    public bool IsLabelless { get; }

    /// <summary>Device name, namespaceR.N.</summary>
    public string Name => $"namespace{Region.Id}.{Index}";

    /// <summary>N of namespaceR.N.</summary>
    public int Index => Label.Index;

    /// <summary>The uuid; null for a label-less namespace (which has none, as in Linux).</summary>
    public Guid? Uuid => IsLabelless ? null : Label.Uuid;

    /// <summary>The friendly name (ndctl's --name); empty when none.</summary>
    public string FriendlyName => Label.Name;

    /// <summary>The mode.</summary>
    public NamespaceMode Mode => Label.Mode;

    /// <summary>Offset of the namespace in its region, bytes.</summary>
    public long Offset => Label.Offset;

    /// <summary>Size in bytes.</summary>
    public long Size => Label.Size;

    /// <summary>Alignment of the namespace's physical address and size, bytes.</summary>
    public long Align => Label.Align;

    /// <summary>Logical sector size; 0 for devdax.</summary>
    public int SectorSize => Label.SectorSize;

    /// <summary>Memmap location (<see cref="MemmapLocation.None"/> for raw and sector).</summary>
    public MemmapLocation Map => Label.Map;

    /// <summary>First physical address: region base plus offset.</summary>
    public long PhysicalAddress => Region.BaseAddress + Offset;

    /// <summary>One past the last physical address.</summary>
    public long EndPhysicalAddress => PhysicalAddress + Size;

    /// <summary>Page frame number of the first page.</summary>
    public long FirstPfn => PhysicalAddress >> 12;

    /// <summary>Number of 4 KiB pages.</summary>
    public long PageCount => Size >> 12;

    /// <summary>The block device name (pmemR, pmemR.N; with an <c>s</c> for sector mode); null for devdax.</summary>
    public string? BlockDevice => Mode switch
    {
        NamespaceMode.Devdax => null,
        NamespaceMode.Sector => $"{PmemName}s",
        _ => PmemName,
    };

    /// <summary>The device-dax character device name (daxR.N); null unless devdax.</summary>
    public string? CharDevice => Mode == NamespaceMode.Devdax ? $"dax{Region.Id}.{Index}" : null;

    private string PmemName => Index == 0 ? $"pmem{Region.Id}" : $"pmem{Region.Id}.{Index}";

    /// <summary>The physical address of byte <paramref name="offset"/> of the namespace.</summary>
    public long ToPhysicalAddress(long offset)
    {
        if ((ulong)offset >= (ulong)Size)
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"outside {Name} (size {Size})");
        return PhysicalAddress + offset;
    }

    public override string ToString() => $"{Name} ({Mode.ToName()}, {Size} bytes at 0x{PhysicalAddress:x})";
}
