namespace DaxStack.Fs.Vfs;

/// <summary>
/// The namespace of an extended attribute, given by the prefix of its name: <c>user.</c>,
/// <c>trusted.</c> or <c>security.</c>. Filesystems store the namespace apart from the name
/// that follows the prefix (XFS as a flag bit of the on-disk entry).
/// </summary>
/// <remarks>Models the kernel's xattr handlers (<c>xfs_xattr_user_handler</c>, <c>xfs_xattr_trusted_handler</c>, <c>xfs_xattr_security_handler</c>) and the prefixes of include/uapi/linux/xattr.h.</remarks>
public enum XattrNamespace
{
    /// <summary><c>user.</c>: regular files and directories, governed by the file's permission bits.</summary>
    User,

    /// <summary><c>trusted.</c>: visible and writable only with CAP_SYS_ADMIN.</summary>
    Trusted,

    /// <summary><c>security.</c>: for security modules; the VFS applies no permission check.</summary>
    Security,
}
