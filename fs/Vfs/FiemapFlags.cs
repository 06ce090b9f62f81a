namespace DaxStack.Fs.Vfs;

/// <summary>The request flags <c>fm_flags</c> of <c>FS_IOC_FIEMAP</c>.</summary>
/// <remarks>Models <c>FIEMAP_FLAG_SYNC</c>, <c>FIEMAP_FLAG_XATTR</c>, <c>FIEMAP_FLAG_CACHE</c> of <c>include/uapi/linux/fiemap.h</c>.</remarks>
[Flags]
public enum FiemapFlags : uint
{
    None = 0,
    FIEMAP_FLAG_SYNC = 0x1,
    FIEMAP_FLAG_XATTR = 0x2,
    FIEMAP_FLAG_CACHE = 0x4,

    /// <summary>The flags any filesystem may be asked for (<c>FIEMAP_FLAGS_COMPAT</c>).</summary>
    Compat = FIEMAP_FLAG_SYNC | FIEMAP_FLAG_XATTR,
}
