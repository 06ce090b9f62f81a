namespace DaxStack.Device.Namespaces;

/// <summary>
/// A namespace, label or badblocks operation failed. The message names the object and the
/// problem and ends with the errno's text, as the kernel's and ndctl's messages do
/// (<c>... : No space left on device</c>), so the CLI can print it after <c>ndctl COMMAND: </c>.
/// Nothing on disk was changed by the operation that threw.
/// </summary>
public sealed class NamespaceException : Exception
{
    public NamespaceException(NamespaceErrno errno, string detail, Exception? inner = null)
        : base($"{detail}: {Describe(errno)}", inner)
    {
        Errno = errno;
        Detail = detail;
    }

    /// <summary>Why it failed.</summary>
    public NamespaceErrno Errno { get; }

    /// <summary>The message without the errno text.</summary>
    public string Detail { get; }

    /// <summary>The C library's strerror text of <paramref name="errno"/>.</summary>
    public static string Describe(NamespaceErrno errno) => errno switch
    {
        NamespaceErrno.ENOENT => "No such file or directory",
        NamespaceErrno.EIO => "Input/output error",
        NamespaceErrno.ENXIO => "No such device or address",
        NamespaceErrno.EACCES => "Permission denied",
        NamespaceErrno.EBUSY => "Device or resource busy",
        NamespaceErrno.EEXIST => "File exists",
        NamespaceErrno.EINVAL => "Invalid argument",
        NamespaceErrno.ENOSPC => "No space left on device",
        NamespaceErrno.EROFS => "Read-only file system",
        _ => $"errno {(int)errno}",
    };
}
