namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>The per-AG B+trees, whose blocks share the short-form header (<see cref="XfsBtreeShortBlock"/>).</summary>
/// <remarks>The kernel's <c>xfs_btnum_t</c> values for the AG trees (XFS_BTNUM_BNO, CNT, INO, FINO, REFC).</remarks>
public enum XfsBtreeKind
{
    /// <summary>Free space by block number (bnobt).</summary>
    Bno,
    /// <summary>Free space by extent size (cntbt).</summary>
    Cnt,
    /// <summary>Inode chunks (inobt).</summary>
    Ino,
    /// <summary>Inode chunks with free inodes (finobt).</summary>
    Fino,
    /// <summary>Shared-extent reference counts (refcountbt).</summary>
    Refcount,
}
