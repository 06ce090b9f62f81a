namespace DaxStack.Device.Hosting;

/// <summary>
/// Device-layer settings, bound from the "Nvdimm" configuration section (appsettings.json,
/// DAXSTACK_Nvdimm__Profile environment variables, --Nvdimm:Profile=... on the command line).
/// </summary>
public sealed class NvdimmOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Nvdimm";

    /// <summary>Cost profile used when none is named: optane-adr (default), optane-eadr, dram, or one from <see cref="Profiles"/>.</summary>
    public string Profile { get; set; } = "optane-adr";

    /// <summary>Size in bytes of the in-memory device the demo and tests use when no image is given. Default 256 MiB.</summary>
    public long InMemorySize { get; set; } = 256L << 20;

    /// <summary>
    /// User-defined cost profiles by name. Each starts from the built-in profile named by
    /// <see cref="CustomProfileOptions.Base"/> and overrides the values it sets.
    /// </summary>
    public Dictionary<string, CustomProfileOptions> Profiles { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}
