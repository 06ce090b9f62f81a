using DaxStack.Device.Errors;

namespace DaxStack.Driver.Block;

/// <summary>Converts block statuses to errno values.</summary>
public static class BlkStatusExtensions
{
    /// <summary>The errno a system call sees for <paramref name="status"/>; 0 for <see cref="BlkStatus.Ok"/>.</summary>
    /// <remarks>Models the kernel's <c>blk_status_to_errno</c> (block/blk-core.c).</remarks>
    public static Errno ToErrno(this BlkStatus status) => status switch
    {
        BlkStatus.Ok => 0,
        BlkStatus.NotSupported => Errno.EOPNOTSUPP,
        BlkStatus.NoSpace => Errno.ENOSPC,
        BlkStatus.Medium => Errno.ENODATA,
        BlkStatus.Invalid => Errno.EINVAL,
        _ => Errno.EIO,
    };
}
