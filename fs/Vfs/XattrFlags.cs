namespace DaxStack.Fs.Vfs;

/// <summary>The <c>flags</c> argument of <c>setxattr</c>: 0 creates or replaces.</summary>
/// <remarks>Models <c>XATTR_CREATE</c> and <c>XATTR_REPLACE</c> of include/uapi/linux/xattr.h.</remarks>
[Flags]
public enum XattrFlags
{
    None = 0,

    /// <summary>Fail with EEXIST if the attribute exists.</summary>
    XATTR_CREATE = 1,

    /// <summary>Fail with ENODATA if the attribute does not exist.</summary>
    XATTR_REPLACE = 2,
}
