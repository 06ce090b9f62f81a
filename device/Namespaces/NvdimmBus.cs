using DaxStack.Device.Errors;
using DaxStack.Device.Cost;
using DaxStack.Device.Media;
using DaxStack.Device.Platform;
using DaxStack.Device.Poison;

namespace DaxStack.Device.Namespaces;

/// <summary>
/// The NVDIMM bus: turns images (or in-memory media) into regions of a
/// <see cref="PhysicalAddressSpace"/>, each with its namespaces. An image <c>F</c> may have two
/// files beside it: <c>F.labels</c> (its namespace labels; without it the image is one raw
/// namespace, so tools that format the image file directly keep working) and <c>F.badblocks</c>
/// (its poisoned sectors). Nothing is ever written into the image for metadata.
/// Opening checks everything before mapping anything: an image that is missing, not a multiple
/// of 4096 bytes or not the size its labels were written for (truncated or grown), labels that
/// are corrupt or belong to another image, and a corrupt badblocks list each fail with a <see cref="NamespaceException"/>.
/// </summary>
/// <remarks>Models the kernel's <c>struct nvdimm_bus</c> with its region enumeration (<c>nd_region_probe</c>) and label scanning (<c>nd_region_register_namespaces</c>).</remarks>
public sealed class NvdimmBus : IDisposable
{
    private readonly CostProfileCatalog _profiles;
    private readonly bool _ownsSpace;
    private readonly object _gate = new();
    private readonly List<BusRegion> _regions = [];
    private bool _disposed;

    /// <summary>A bus on a new address space of its own (disposed with the bus).</summary>
    public NvdimmBus(CostProfileCatalog profiles)
        : this(new PhysicalAddressSpace(), profiles, ownsSpace: true)
    {
    }

    /// <summary>A bus adding its regions to <paramref name="space"/> (which the caller keeps and disposes).</summary>
    public NvdimmBus(PhysicalAddressSpace space, CostProfileCatalog profiles)
        : this(space, profiles, ownsSpace: false)
    {
    }

    private NvdimmBus(PhysicalAddressSpace space, CostProfileCatalog profiles, bool ownsSpace)
    {
        ArgumentNullException.ThrowIfNull(space);
        ArgumentNullException.ThrowIfNull(profiles);
        Space = space;
        _profiles = profiles;
        _ownsSpace = ownsSpace;
    }

    /// <summary>The address space the regions are placed in.</summary>
    public PhysicalAddressSpace Space { get; }

    /// <summary>The regions opened so far, in address order.</summary>
    public IReadOnlyList<BusRegion> Regions
    {
        get { lock (_gate) return [.. _regions]; }
    }

    /// <summary>
    /// Opens an existing image as a new region. The cost profile is <paramref name="profile"/> if
    /// given, else the one recorded in the labels, else the configured default; a profile given
    /// here is recorded the next time the labels are written. A read-only region refuses changes.
    /// </summary>
    public BusRegion OpenImage(string imagePath, string? profile = null, bool readOnly = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(imagePath);
        string labelPath = LabelStorageArea.PathFor(imagePath);
        ThrowIfDirectory(imagePath);
        FileInfo info;
        try
        {
            info = FileMedia.Describe(imagePath);
        }
        catch (IOException e)
        {
            throw SideFile.Failure(e, $"cannot open image '{imagePath}'");
        }
        if (!info.Exists)
            throw new NamespaceException(Errno.ENOENT, File.Exists(labelPath)
                ? $"image '{imagePath}' does not exist (but its label file '{labelPath}' does)"
                : $"image '{imagePath}' does not exist");
        long length = info.Length;
        if (length == 0 || length % PhysicalAddressSpace.PageSize != 0)
            throw ResizedSinceLabelled(imagePath, labelPath, length) ?? new NamespaceException(Errno.ENXIO,
                $"image '{imagePath}' is {length} bytes, not a positive multiple of {PhysicalAddressSpace.PageSize}: truncated, or not an image");

        var labels = LabelStorageArea.Load(labelPath);
        if (labels != null)
            CheckLabelsFit(labels, imagePath, labelPath, length);
        var costProfile = ResolveProfile(string.IsNullOrEmpty(profile) ? labels?.Index.Profile : profile, labelPath);
        var bad = BadblocksFile.Load(BadblocksFile.PathFor(imagePath), length);

        FileMedia media;
        try
        {
            media = FileMedia.Open(imagePath, readOnly);
        }
        catch (InvalidDataException e)
        {
            throw new NamespaceException(Errno.ENXIO, $"image '{imagePath}' changed size while being opened: {e.Message}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw SideFile.Failure(e, $"cannot open image '{imagePath}'");
        }
        if (media.Length != length)
        {
            media.Dispose();
            throw new NamespaceException(Errno.ENXIO, $"image '{imagePath}' changed size while being opened ({length} then {media.Length} bytes)");
        }
        return Attach(media, costProfile, imagePath, labels, bad, readOnly);
    }

    /// <summary>
    /// Creates a new sparse image of <paramref name="size"/> bytes with an empty label file, as a
    /// new NVDIMM starts after its labels are initialised: the whole region is free for
    /// <see cref="BusRegion.CreateNamespace"/>. Fails with EEXIST if the image, or a label or
    /// badblocks file for it, already exists, and with EINVAL for a size that is not a positive
    /// multiple of 4096 or an unknown profile; nothing is created then.
    /// </summary>
    public BusRegion CreateImage(string imagePath, long size, string? profile = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(imagePath);
        if (size <= 0 || size % PhysicalAddressSpace.PageSize != 0)
            throw new NamespaceException(Errno.EINVAL, $"image size {size} is not a positive multiple of {PhysicalAddressSpace.PageSize}");
        string labelPath = LabelStorageArea.PathFor(imagePath);
        string badblocksPath = BadblocksFile.PathFor(imagePath);
        ThrowIfDirectory(imagePath);
        // A name ending in '/' can only be a directory: creating a file by it fails with EISDIR,
        // which .NET reports as a permission problem.
        if (imagePath.EndsWith('/'))
            throw new NamespaceException(Errno.EISDIR, $"cannot create image '{imagePath}': a name ending in '/' is a directory's");
        if (File.Exists(imagePath))
            throw new NamespaceException(Errno.EEXIST, $"image '{imagePath}' already exists");
        foreach (var side in new[] { labelPath, badblocksPath })
            if (File.Exists(side))
                throw new NamespaceException(Errno.EEXIST, $"'{side}' exists but its image does not: move it away before creating a new image");
        var costProfile = ResolveProfile(profile, labelPath);
        if (System.Text.Encoding.UTF8.GetByteCount(costProfile.Name) >= NamespaceIndex.ProfileField)
            throw new NamespaceException(Errno.EINVAL,
                $"cost profile name '{costProfile.Name}' is longer than {NamespaceIndex.ProfileField - 1} bytes and cannot be recorded in '{labelPath}'");

        FileMedia media;
        try
        {
            media = FileMedia.Create(imagePath, size);
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new NamespaceException(Errno.EFBIG, $"cannot create image '{imagePath}': {size} bytes is more than its file system allows in one file", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw SideFile.Failure(e, $"cannot create image '{imagePath}'");
        }
        LabelStorageArea empty;
        try
        {
            empty = new LabelStorageArea(new NamespaceIndex
            {
                LabelCount = 0,
                Sequence = 1,
                ImageSize = size,
                ImageName = ImageName(imagePath),
                Profile = costProfile.Name,
            }, []);
            empty.Save(labelPath);
        }
        catch (Exception)
        {
            media.Dispose();
            File.Delete(imagePath);
            throw;
        }
        return Attach(media, costProfile, imagePath, empty, [], readOnly: false);
    }

    /// <summary>Adds in-memory media as a label-less region (one raw namespace); its labels and poison live only in memory.</summary>
    public BusRegion AddMemory(IMedia media, string? profile = null)
    {
        ArgumentNullException.ThrowIfNull(media);
        return Attach(media, ResolveProfile(profile, labelPath: null), imagePath: null, labels: null, [], readOnly: false);
    }

    /// <summary>Writes back and releases every region if the bus owns its address space. Safe to call more than once.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
        }
        if (_ownsSpace)
            Space.Dispose();
    }

    private BusRegion Attach(IMedia media, CostProfile profile, string? imagePath, LabelStorageArea? labels,
        IReadOnlyList<PoisonList.BadRange> bad, bool readOnly)
    {
        lock (_gate)
        {
            NvdimmRegion region;
            try
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                region = new NvdimmRegion($"region{Space.Regions.Count}", media, profile);
                Space.AddRegion(region);
            }
            catch
            {
                media.Dispose();
                throw;
            }
            region.Poison.Load(bad);
            var busRegion = new BusRegion(Space, region, imagePath, labels, readOnly);
            _regions.Add(busRegion);
            return busRegion;
        }
    }

    private static void CheckLabelsFit(LabelStorageArea labels, string imagePath, string labelPath, long length)
    {
        string imageName = ImageName(imagePath);
        var index = labels.Index;
        if (index.ImageName != imageName)
            throw new NamespaceException(Errno.ENXIO,
                $"label file '{labelPath}' belongs to image '{index.ImageName}' ({index.ImageSize} bytes), not to '{imageName}'");
        if (length != index.ImageSize)
            throw SizeChanged(imagePath, length, index.ImageSize);
        if (NamespaceLayout.CheckSet(labels.Labels, length) is { } problem)
            throw LabelStorageArea.Corrupt(labelPath, problem);
    }

    /// <summary>
    /// The error for an image whose label file names it but records another size: the image was
    /// truncated or grown after its labels were written. Both sizes are named; like a label file
    /// of another image it fails with ENXIO.
    /// </summary>
    private static NamespaceException SizeChanged(string imagePath, long length, long labelledSize) =>
        new(Errno.ENXIO, length < labelledSize
            ? $"image '{imagePath}' is now {length} bytes; its labels were written for {labelledSize} bytes: the image is truncated"
            : $"image '{imagePath}' is now {length} bytes; its labels were written for {labelledSize} bytes: the image has grown since its labels were written (resize it back to {labelledSize} bytes to use them)");

    /// <summary>
    /// For an image whose size is not a positive multiple of the page size: the
    /// <see cref="SizeChanged"/> error if a readable label file names this image and records
    /// another size, else null (the plain size error is then the one to give).
    /// </summary>
    private static NamespaceException? ResizedSinceLabelled(string imagePath, string labelPath, long length)
    {
        LabelStorageArea? labels;
        try
        {
            labels = LabelStorageArea.Load(labelPath);
        }
        catch (NamespaceException)
        {
            return null;
        }
        if (labels == null || labels.Index.ImageName != ImageName(imagePath)
            || labels.Index.ImageSize == length)
            return null;
        return SizeChanged(imagePath, length, labels.Index.ImageSize);
    }

    // The name a label file records its image by: the image's file name, after resolving the path.
    private static string ImageName(string imagePath) => Path.GetFileName(Path.GetFullPath(imagePath));

    private CostProfile ResolveProfile(string? name, string? labelPath)
    {
        if (string.IsNullOrEmpty(name))
            return _profiles.Default;
        try
        {
            return _profiles.Get(name);
        }
        catch (KeyNotFoundException e)
        {
            throw new NamespaceException(Errno.EINVAL,
                labelPath != null && File.Exists(labelPath) ? $"{e.Message}, named by '{labelPath}' or the command line" : e.Message, e);
        }
    }

    private static void ThrowIfDirectory(string imagePath)
    {
        if (Directory.Exists(imagePath))
            throw new NamespaceException(Errno.EISDIR, $"image '{imagePath}' is a directory");
    }
}
