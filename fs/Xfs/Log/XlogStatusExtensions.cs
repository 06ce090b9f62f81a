using DaxStack.Device.Errors;

namespace DaxStack.Fs.Xfs.Log;

/// <summary>Converts <see cref="XlogStatus"/> to the errno the syscall surface reports.</summary>
/// <remarks>The one place log status meets errno, as <c>blk_status_to_errno</c> is for block status.</remarks>
public static class XlogStatusExtensions
{
    /// <summary>The errno for <paramref name="status"/>; Ok has none and throws.</summary>
    public static Errno ToErrno(this XlogStatus status) => status switch
    {
        XlogStatus.LogFull => Errno.ENOSPC,
        XlogStatus.InvalidRegion => Errno.EINVAL,
        XlogStatus.IoError => Errno.EIO,
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "no errno for success"),
    };
}
