using DaxStack.Device.Errors;
using DaxStack.Device.Namespaces;
using DaxStack.Driver.DeviceDax;
using DaxStack.Driver.Hosting;
using Microsoft.Extensions.Logging;

namespace DaxStack.Driver.Pmem;

/// <summary>
/// Binds namespaces to devices: <c>raw</c> and <c>fsdax</c> namespaces get a <see cref="PmemDevice"/>
/// (block + DAX), <c>devdax</c> namespaces a <see cref="DevDax"/>. <c>sector</c> namespaces need a
/// BTT, which this driver does not implement (EOPNOTSUPP).
/// </summary>
/// <remarks>Models the probe functions of the nd_pmem and device_dax drivers (<c>nd_pmem_probe</c>, <c>dev_dax_probe</c>).</remarks>
/// <param name="options">The driver's options.</param>
/// <param name="logger">Where the devices report what the host refused them (room in an image file); none by default.</param>
public sealed class PmemDriver(PmemOptions options, ILogger<PmemDriver>? logger = null)
{
    /// <summary>A driver with default options.</summary>
    public PmemDriver() : this(new PmemOptions())
    {
    }

    /// <summary>The options in force.</summary>
    public PmemOptions Options { get; } = Validate(options);

    /// <summary>
    /// Attaches the pmem block/DAX driver to <paramref name="ns"/> of <paramref name="region"/>;
    /// writes fail when the region was opened read-only.
    /// </summary>
    public PmemDevice AttachPmem(BusRegion region, NvdimmNamespace ns)
    {
        CheckOwner(region, ns);
        switch (ns.Mode)
        {
            case NamespaceMode.Raw:
            case NamespaceMode.Fsdax:
                break;
            case NamespaceMode.Devdax:
                throw new PmemProbeException(Errno.ENOTBLK, $"{ns.Name} is a devdax namespace: it has a character device ({ns.CharDevice}), not a block device");
            default:
                throw new PmemProbeException(Errno.EOPNOTSUPP, $"{ns.Name} is a sector-mode namespace: the BTT it needs is not implemented");
        }
        int lbs = Options.LogicalBlockSize != 0 ? Options.LogicalBlockSize : ns.SectorSize is 512 or 4096 ? ns.SectorSize : 512;
        int queues = Options.QueueCount != 0 ? Options.QueueCount : Math.Clamp(Environment.ProcessorCount, 1, 64);
        return new PmemDevice(region, ns, region.IsReadOnly, lbs, queues, logger);
    }

    /// <summary>Attaches the device-dax driver to the devdax namespace <paramref name="ns"/>.</summary>
    public DevDax AttachDeviceDax(BusRegion region, NvdimmNamespace ns)
    {
        CheckOwner(region, ns);
        if (ns.Mode != NamespaceMode.Devdax)
            throw new PmemProbeException(Errno.ENXIO, $"{ns.Name} is a {ns.Mode.ToName()} namespace, not devdax");
        return new DevDax(region, ns, region.IsReadOnly, logger);
    }

    private static void CheckOwner(BusRegion region, NvdimmNamespace ns)
    {
        if (!ReferenceEquals(ns.Region, region.Region))
            throw new ArgumentException($"{ns.Name} does not belong to {region.Name}", nameof(ns));
    }

    // The constructor's checks: the exceptions name its parameter, the messages the configuration key.
    private static PmemOptions Validate(PmemOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.QueueCount is < 0 or > 64)
            throw new ArgumentOutOfRangeException(nameof(options), options.QueueCount, "Pmem:QueueCount must be 0 (one per processor) to 64");
        if (options.LogicalBlockSize is not (0 or 512 or 4096))
            throw new ArgumentOutOfRangeException(nameof(options), options.LogicalBlockSize, "Pmem:LogicalBlockSize must be 0 (the namespace's), 512 or 4096");
        return options;
    }
}
