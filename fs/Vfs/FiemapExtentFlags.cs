namespace DaxStack.Fs.Vfs;

/// <summary>The flags <c>fe_flags</c> of one extent FIEMAP reports.</summary>
/// <remarks>Models <c>FIEMAP_EXTENT_*</c> of <c>include/uapi/linux/fiemap.h</c>.</remarks>
[Flags]
public enum FiemapExtentFlags : uint
{
    None = 0,
    FIEMAP_EXTENT_LAST = 0x1,
    FIEMAP_EXTENT_UNKNOWN = 0x2,
    FIEMAP_EXTENT_DELALLOC = 0x4,
    FIEMAP_EXTENT_ENCODED = 0x8,
    FIEMAP_EXTENT_DATA_ENCRYPTED = 0x80,
    FIEMAP_EXTENT_NOT_ALIGNED = 0x100,
    FIEMAP_EXTENT_DATA_INLINE = 0x200,
    FIEMAP_EXTENT_DATA_TAIL = 0x400,
    FIEMAP_EXTENT_UNWRITTEN = 0x800,
    FIEMAP_EXTENT_MERGED = 0x1000,
    FIEMAP_EXTENT_SHARED = 0x2000,
}
