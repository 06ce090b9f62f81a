namespace DaxStack.Fs.Vfs;

/// <summary>The <c>mode</c> argument of <c>fallocate(2)</c>; 0 allocates the range.</summary>
/// <remarks>Models <c>include/uapi/linux/falloc.h</c>.</remarks>
[Flags]
public enum FallocateFlags
{
    /// <summary>Allocate the range, extending the size (<c>FALLOC_FL_ALLOCATE_RANGE</c>).</summary>
    None = 0,
    FALLOC_FL_KEEP_SIZE = 0x01,
    FALLOC_FL_PUNCH_HOLE = 0x02,
    FALLOC_FL_NO_HIDE_STALE = 0x04,
    FALLOC_FL_COLLAPSE_RANGE = 0x08,
    FALLOC_FL_ZERO_RANGE = 0x10,
    FALLOC_FL_INSERT_RANGE = 0x20,
    FALLOC_FL_UNSHARE_RANGE = 0x40,
    FALLOC_FL_WRITE_ZEROES = 0x80,

    /// <summary>The exclusive operation modes (<c>FALLOC_FL_MODE_MASK</c>).</summary>
    ModeMask = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_ZERO_RANGE | FALLOC_FL_INSERT_RANGE
        | FALLOC_FL_UNSHARE_RANGE | FALLOC_FL_WRITE_ZEROES,
}
