using DaxStack.Device.Errors;

namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>
/// An XFS operation failed with the errno the kernel would return: a read or write of the
/// device failed (EIO), or a structure is corrupt (<see cref="XfsCorruptionException"/>). The
/// message names the structure (<c>agf 1</c>, <c>inode 128</c>) and the problem.
/// </summary>
/// <remarks>Models the negative errno XFS functions return (<c>-EIO</c>, <c>-EFSCORRUPTED</c>, <c>-EFSBADCRC</c>).</remarks>
public class XfsException : Exception
{
    public XfsException(Errno errno, string message, Exception? inner = null)
        : base(message, inner)
    {
        Errno = errno;
    }

    /// <summary>The errno a system call would see.</summary>
    public Errno Errno { get; }
}
