using DaxStack.Device.Errors;

namespace DaxStack.Fs.Vfs;

/// <summary>
/// A system call failed with a Linux errno: the one exception type the syscall surface raises.
/// The message names the call and the object; <see cref="Exception.Message"/> for display is
/// usually prefixed with <see cref="ErrnoText.StrError"/> of <see cref="Errno"/> by callers.
/// Filesystems throw it (or a type derived from it) from their operations tables.
/// </summary>
/// <remarks>Models the negative errno a Linux system call returns to user space.</remarks>
public class ErrnoException : Exception
{
    public ErrnoException(Errno errno, string message)
        : base(message)
    {
        Errno = errno;
    }

    public ErrnoException(Errno errno, string message, Exception? inner)
        : base(message, inner)
    {
        Errno = errno;
    }

    /// <summary>The errno the system call returns.</summary>
    public Errno Errno { get; }

    /// <summary>glibc's text for <see cref="Errno"/>.</summary>
    public string StrError => ErrnoText.StrError(Errno);
}
