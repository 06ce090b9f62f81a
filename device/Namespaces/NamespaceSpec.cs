using DaxStack.Device.Errors;
using System.Text;

namespace DaxStack.Device.Namespaces;

/// <summary>
/// What to create: ndctl create-namespace's options. Unset values take ndctl's defaults: mode
/// fsdax; size the largest free extent; align 2 MiB for fsdax/devdax and 4 KiB otherwise;
/// sector size 512 (4096 for sector mode, none for devdax); memmap on the device; a new uuid.
/// </summary>
public sealed record NamespaceSpec
{
    /// <summary>Mode; default fsdax.</summary>
    public NamespaceMode Mode { get; init; } = NamespaceMode.Fsdax;

    /// <summary>Size in bytes, a multiple of the alignment; null takes the largest free extent.</summary>
    public long? Size { get; init; }

    /// <summary>Alignment in bytes: 4096, 2 MiB or 1 GiB for fsdax/devdax; only 4096 for raw/sector. Null takes the default.</summary>
    public long? Align { get; init; }

    /// <summary>Logical sector size: 512 or 4096 for raw and sector, 512 for fsdax, none for devdax. Null takes the default.</summary>
    public int? SectorSize { get; init; }

    /// <summary>Memmap location for fsdax/devdax (default <see cref="MemmapLocation.Dev"/>); must be unset for raw/sector.</summary>
    public MemmapLocation? Map { get; init; }

    /// <summary>Optional friendly name, at most 63 UTF-8 bytes, unique in the region.</summary>
    public string? Name { get; init; }

    /// <summary>Uuid; null makes a new one.</summary>
    public Guid? Uuid { get; init; }

    /// <summary>
    /// Checks the options that do not depend on a region (mode, alignment, size multiple, sector
    /// size, map, name); throws <see cref="NamespaceException"/> (EINVAL) naming the first problem.
    /// </summary>
    public void Validate() => Resolve();

    /// <summary>The alignment, sector size and memmap location after defaults, validated.</summary>
    internal (long Align, int SectorSize, MemmapLocation Map) Resolve()
    {
        if (!Enum.IsDefined(Mode))
            throw Invalid($"unknown namespace mode {(int)Mode}");
        string mode = Mode.ToName();
        bool dax = Mode is NamespaceMode.Fsdax or NamespaceMode.Devdax;

        long align = Align ?? NamespaceAlignment.DefaultFor(Mode);
        if (dax && !NamespaceAlignment.Supported.Contains(align))
            throw Invalid($"alignment {align} is not supported for {mode}: use 4096 (4K), 2097152 (2M) or 1073741824 (1G)");
        if (!dax && align != NamespaceAlignment.Page)
            throw Invalid($"alignment applies only to fsdax and devdax namespaces ({mode} namespaces are page aligned)");

        int sector = Mode switch
        {
            NamespaceMode.Raw => SectorSize ?? 512,
            NamespaceMode.Sector => SectorSize ?? 4096,
            NamespaceMode.Fsdax => SectorSize ?? 512,
            _ => SectorSize ?? 0,
        };
        bool sectorOk = Mode switch
        {
            NamespaceMode.Raw or NamespaceMode.Sector => sector is 512 or 4096,
            NamespaceMode.Fsdax => sector == 512,
            _ => sector == 0,
        };
        if (!sectorOk)
            throw Invalid(Mode == NamespaceMode.Devdax
                ? "a devdax namespace has no sector size"
                : $"sector size {sector} is not supported for {mode} (use {(Mode == NamespaceMode.Fsdax ? "512" : "512 or 4096")})");

        var map = Map ?? (dax ? MemmapLocation.Dev : MemmapLocation.None);
        if (dax && map is not (MemmapLocation.Dev or MemmapLocation.Mem))
            throw Invalid($"memmap location must be dev or mem for {mode}");
        if (!dax && map != MemmapLocation.None)
            throw Invalid($"memmap location (--map) applies only to fsdax and devdax namespaces, not {mode}");

        if (Size is { } size)
        {
            if (size <= 0)
                throw Invalid($"size {size} must be positive");
            if (size % align != 0)
                throw Invalid($"size {size} is not a multiple of the {mode} alignment {align}");
        }

        if (Name is { } name && (name.Contains('\0') || Encoding.UTF8.GetByteCount(name) >= NamespaceLabel.NameField))
            throw Invalid($"name '{name}' is longer than {NamespaceLabel.NameField - 1} bytes or contains NUL");

        if (Uuid == Guid.Empty)
            throw Invalid("the all-zero uuid is not a namespace uuid");

        return (align, sector, map);
    }

    private static NamespaceException Invalid(string detail) => new(Errno.EINVAL, detail);
}
