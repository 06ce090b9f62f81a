namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary><c>di_flags2</c>: the v3 inode's second flag word.</summary>
/// <remarks>The kernel's <c>XFS_DIFLAG2_*</c> bits (xfs_format.h).</remarks>
[Flags]
public enum XfsDiFlags2 : ulong
{
    None = 0,
    /// <summary>XFS_DIFLAG2_DAX: use DAX for this file.</summary>
    Dax = 1 << 0,
    /// <summary>XFS_DIFLAG2_REFLINK: the file may share blocks.</summary>
    Reflink = 1 << 1,
    /// <summary>XFS_DIFLAG2_COWEXTSIZE: di_cowextsize is the copy-on-write hint.</summary>
    CowExtSize = 1 << 2,
    /// <summary>XFS_DIFLAG2_BIGTIME: timestamps are 64-bit nanosecond counts.</summary>
    BigTime = 1 << 3,
    /// <summary>XFS_DIFLAG2_NREXT64: 64-bit extent counters.</summary>
    NRext64 = 1 << 4,
}
