namespace DaxStack.Fs.Xfs.Log;

/// <summary>How a log write ended; <see cref="XlogStatusExtensions.ToErrno"/> gives the errno a syscall reports.</summary>
/// <remarks>Models the negative errnos <c>xlog_write</c> and <c>xfs_log_force</c> return (-ENOSPC from the grant heads, -EIO after a shutdown).</remarks>
public enum XlogStatus
{
    /// <summary>Done.</summary>
    Ok,

    /// <summary>The records would pass the tail: write buffers home and move the tail first (ENOSPC).</summary>
    LogFull,

    /// <summary>A logged range lies outside its buffer (EINVAL).</summary>
    InvalidRegion,

    /// <summary>A log write or flush failed; the log is shut down and refuses further work (EIO).</summary>
    IoError,
}
