using System.Text;
using DaxStack.Device.Errors;

namespace DaxStack.Fs.Vfs;

/// <summary>
/// The rules for extended attribute names and sizes the VFS enforces before a filesystem sees
/// a request: name length, value size, and the namespace prefix.
/// </summary>
/// <remarks>Models <c>XATTR_NAME_MAX</c>, <c>XATTR_SIZE_MAX</c>, <c>XATTR_LIST_MAX</c> (include/uapi/linux/limits.h) and <c>xattr_resolve_name</c> / <c>strcmp_prefix</c> (fs/xattr.c).</remarks>
public static class XattrNames
{
    /// <summary>XATTR_NAME_MAX: longest full name in bytes, prefix included.</summary>
    public const int NameMax = 255;

    /// <summary>XATTR_SIZE_MAX: largest value in bytes.</summary>
    public const int SizeMax = 65536;

    /// <summary>XATTR_LIST_MAX: largest listxattr result in bytes.</summary>
    public const int ListMax = 65536;

    /// <summary>The prefix of <paramref name="ns"/>, dot included.</summary>
    public static string Prefix(XattrNamespace ns) => ns switch
    {
        XattrNamespace.User => "user.",
        XattrNamespace.Trusted => "trusted.",
        XattrNamespace.Security => "security.",
        _ => throw new ArgumentOutOfRangeException(nameof(ns), ns, "not an xattr namespace"),
    };

    /// <summary>
    /// Splits a full name into namespace and suffix: ERANGE for an empty name or one over
    /// <see cref="NameMax"/> bytes, EOPNOTSUPP for a prefix no handler serves (<c>system.</c>
    /// included: there are no ACLs), EINVAL for a known prefix with nothing after it.
    /// </summary>
    public static XattrName Parse(string name, string call)
    {
        ArgumentNullException.ThrowIfNull(name);
        int bytes = Encoding.UTF8.GetByteCount(name);
        if (bytes == 0 || bytes > NameMax)
        {
            throw new ErrnoException(Errno.ERANGE, $"{call}: attribute name of {bytes} bytes (1 to {NameMax} allowed)");
        }

        foreach (var ns in (ReadOnlySpan<XattrNamespace>)[XattrNamespace.User, XattrNamespace.Trusted, XattrNamespace.Security])
        {
            string prefix = Prefix(ns);
            if (name.StartsWith(prefix, StringComparison.Ordinal))
            {
                if (name.Length == prefix.Length)
                {
                    throw new ErrnoException(Errno.EINVAL, $"{call}: attribute name \"{name}\" has nothing after its prefix");
                }

                return new XattrName(ns, name[prefix.Length..]);
            }
        }

        throw new ErrnoException(Errno.EOPNOTSUPP, $"{call}: attribute name \"{name}\" has no supported namespace prefix (user., trusted., security.)");
    }
}
