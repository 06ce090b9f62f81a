namespace DaxStack.Device.Namespaces;

/// <summary>
/// The reasons a namespace or label operation fails, with their Linux x86-64 errno numbers, as
/// libndctl reports them (a negative errno from the kernel's sysfs writes).
/// </summary>
public enum NamespaceErrno
{
    /// <summary>No such file, namespace or region.</summary>
    ENOENT = 2,

    /// <summary>A label or badblocks file is corrupt, or reading or writing one failed.</summary>
    EIO = 5,

    /// <summary>The image does not match its labels: truncated, or the labels belong to another image.</summary>
    ENXIO = 6,

    /// <summary>Permission denied on the image or a file beside it.</summary>
    EACCES = 13,

    /// <summary>The namespace is active and the operation needs --force.</summary>
    EBUSY = 16,

    /// <summary>A namespace with that name or uuid, or an image or label file, already exists.</summary>
    EEXIST = 17,

    /// <summary>An invalid mode, size, alignment, sector size or name.</summary>
    EINVAL = 22,

    /// <summary>The namespace does not fit in the region's free space.</summary>
    ENOSPC = 28,

    /// <summary>The region was opened read-only.</summary>
    EROFS = 30,
}
