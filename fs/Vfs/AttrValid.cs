namespace DaxStack.Fs.Vfs;

/// <summary>Which fields of an <see cref="InodeAttributes"/> change.</summary>
/// <remarks>Models the kernel's <c>ATTR_MODE</c>, <c>ATTR_UID</c>, ... <c>ia_valid</c> bits.</remarks>
[Flags]
public enum AttrValid
{
    None = 0,
    ATTR_MODE = 1 << 0,
    ATTR_UID = 1 << 1,
    ATTR_GID = 1 << 2,
    ATTR_SIZE = 1 << 3,
    ATTR_ATIME = 1 << 4,
    ATTR_MTIME = 1 << 5,
    ATTR_CTIME = 1 << 6,
}
