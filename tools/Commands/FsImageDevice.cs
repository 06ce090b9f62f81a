using DaxStack.Device.Errors;
using DaxStack.Device.Namespaces;
using DaxStack.Driver.Pmem;
using DaxStack.Tools.Cli;
using Microsoft.Extensions.DependencyInjection;

namespace DaxStack.Tools.Commands;

/// <summary>
/// The pmem block device of one namespace of an image, for the filesystem tools (mkfs, db):
/// the image is opened on a bus of its own, the namespace picked, and the pmem driver
/// attached. Opened for writing, the namespace is held (<see cref="BusRegion.Hold"/>) as a block
/// device opened with O_EXCL is: another process's export, write or reconfiguration of it fails
/// with EBUSY meanwhile, and so does this open while another process holds it. Disposing writes
/// the image back and releases it.
/// </summary>
/// <remarks>Models opening <c>/dev/pmemN</c> for mkfs.xfs (which opens it O_EXCL) or xfs_db.</remarks>
internal sealed class FsImageDevice : IDisposable
{
    private readonly NvdimmBus _bus;
    private readonly IDisposable? _hold;

    private FsImageDevice(NvdimmBus bus, NvdimmNamespace ns, PmemDevice device, IDisposable? hold)
    {
        _bus = bus;
        _hold = hold;
        Namespace = ns;
        Device = device;
    }

    /// <summary>The namespace used.</summary>
    public NvdimmNamespace Namespace { get; }

    /// <summary>Its block device.</summary>
    public PmemDevice Device { get; }

    /// <summary>The platform the image's region is on, for power failures (<c>io</c>'s crash).</summary>
    public DaxStack.Device.Platform.PhysicalAddressSpace Space => _bus.Space;

    /// <summary>
    /// Opens <paramref name="path"/> and attaches the pmem driver to <paramref name="namespaceName"/>,
    /// or when none is named to the image's only raw or fsdax namespace (a label-less image is
    /// one raw namespace). Fails with <see cref="NamespaceException"/> or <see cref="PmemProbeException"/>;
    /// with EBUSY when not <paramref name="readOnly"/> and the namespace is held by another process
    /// (exported by serve, or open for writing by io or mkfs).
    /// </summary>
    public static FsImageDevice Open(CliContext context, string path, string? namespaceName, bool readOnly)
    {
        var bus = NdctlCommand.OpenBus(context);
        IDisposable? hold = null;
        try
        {
            var region = bus.OpenImage(path, readOnly: readOnly);
            NvdimmNamespace ns;
            if (namespaceName != null)
                ns = region.GetNamespace(NdctlCommand.NamespaceName(namespaceName));
            else
            {
                var candidates = region.Namespaces.Where(n => n.Mode is NamespaceMode.Raw or NamespaceMode.Fsdax).ToList();
                ns = candidates.Count switch
                {
                    1 => candidates[0],
                    0 => throw new NamespaceException(Errno.ENXIO,
                        $"'{path}' has no raw or fsdax namespace (devdax and sector namespaces have no pmem block device)"),
                    _ => throw new NamespaceException(Errno.EINVAL,
                        $"'{path}' has {candidates.Count} block namespaces ({string.Join(", ", candidates.Select(n => n.Name))}): choose one with --namespace"),
                };
            }
            // Held before the driver attaches, as mkfs.xfs opens the device O_EXCL before it reads it.
            hold = readOnly ? null : region.Hold(ns);
            var device = context.Services.GetRequiredService<PmemDriver>().AttachPmem(region, ns);
            return new FsImageDevice(bus, ns, device, hold);
        }
        catch
        {
            bus.Dispose();
            hold?.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        // The image is written back and unmapped first: until then the namespace stays held.
        _bus.Dispose();
        _hold?.Dispose();
    }
}
