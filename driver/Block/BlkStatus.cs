namespace DaxStack.Driver.Block;

/// <summary>
/// The status a block request completes with. Block paths return it; <see cref="BlkStatusExtensions.ToErrno"/>
/// is the one place it turns into an errno.
/// </summary>
/// <remarks>Models the kernel's <c>blk_status_t</c> (include/linux/blk_types.h).</remarks>
public enum BlkStatus : byte
{
    /// <summary>BLK_STS_OK: the request completed.</summary>
    Ok = 0,

    /// <summary>BLK_STS_NOTSUPP: the device does not support the operation (EOPNOTSUPP).</summary>
    NotSupported = 1,

    /// <summary>BLK_STS_NOSPC: no room to write (ENOSPC); here, the image file's file system is full.</summary>
    NoSpace = 3,

    /// <summary>BLK_STS_MEDIUM: a media error the device could name (ENODATA).</summary>
    Medium = 7,

    /// <summary>BLK_STS_IOERR: I/O error, including reads of poisoned sectors and requests past the end (EIO).</summary>
    IoError = 10,

    /// <summary>BLK_STS_INVAL: a malformed request, such as one not aligned to the logical block size (EINVAL).</summary>
    Invalid = 14,
}
