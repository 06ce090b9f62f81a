using DaxStack.Device.Errors;
using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>
/// An XFS operation failed with the errno the kernel would return: a read or write of the
/// device failed (EIO), or a structure is corrupt (<see cref="XfsCorruptionException"/>). The
/// message names the structure (<c>agf 1</c>, <c>inode 128</c>) and the problem. It is the
/// VFS's <see cref="ErrnoException"/>, so the errno reaches the system call unchanged.
/// </summary>
/// <remarks>Models the negative errno XFS functions return (<c>-EIO</c>, <c>-EFSCORRUPTED</c>, <c>-EFSBADCRC</c>).</remarks>
public class XfsException : ErrnoException
{
    public XfsException(Errno errno, string message, Exception? inner = null)
        : base(errno, message, inner)
    {
    }
}
