using DaxStack.Device.Errors;

namespace DaxStack.Device.Namespaces;

/// <summary>
/// A namespace, label or badblocks operation failed. The message names the object and the
/// problem and ends with the errno's text, as the kernel's and ndctl's messages do
/// (<c>... : No space left on device</c>), so the CLI can print it after <c>ndctl COMMAND: </c>.
/// Nothing on disk was changed by the operation that threw.
/// </summary>
public sealed class NamespaceException : Exception
{
    public NamespaceException(Errno errno, string detail, Exception? inner = null)
        : base($"{detail}: {Describe(errno)}", inner)
    {
        Errno = errno;
        Detail = detail;
    }

    /// <summary>Why it failed.</summary>
    public Errno Errno { get; }

    /// <summary>The message without the errno text.</summary>
    public string Detail { get; }

    /// <summary>The C library's strerror text of <paramref name="errno"/>.</summary>
    public static string Describe(Errno errno) => ErrnoText.StrError(errno);
}
