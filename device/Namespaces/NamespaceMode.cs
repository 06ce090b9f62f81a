namespace DaxStack.Device.Namespaces;

/// <summary>
/// How a namespace's capacity is exposed. The numeric values are stored in label files, so they
/// never change; zero is not a mode (a zeroed label is rejected).
/// </summary>
/// <remarks>Models ndctl's <c>enum ndctl_namespace_mode</c> (raw, sector, fsdax, devdax).</remarks>
public enum NamespaceMode : byte
{
    /// <summary>A plain pmem block device over the whole range (no DAX info, no BTT): <c>/dev/pmemN</c>.</summary>
    Raw = 1,

    /// <summary>A block device with sector-atomic writes through a BTT: <c>/dev/pmemNs</c>, no DAX.</summary>
    Sector = 2,

    /// <summary>A pmem block device that supports filesystem DAX (the kernel's pfn device): <c>/dev/pmemN</c>.</summary>
    Fsdax = 3,

    /// <summary>A character device mapped directly with aligned faults, no filesystem: <c>/dev/daxN.M</c>.</summary>
    Devdax = 4,
}
