namespace DaxStack.Fs.Vfs;

/// <summary>Flags of <c>open(2)</c> with their Linux x86-64 values.</summary>
/// <remarks>Models <c>include/uapi/asm-generic/fcntl.h</c>.</remarks>
[Flags]
public enum OpenFlags
{
    O_RDONLY = 0,
    O_WRONLY = 0x1,
    O_RDWR = 0x2,

    /// <summary>Mask of the access mode (<c>O_ACCMODE</c>).</summary>
    O_ACCMODE = 0x3,
    O_CREAT = 0x40,
    O_EXCL = 0x80,
    O_NOCTTY = 0x100,
    O_TRUNC = 0x200,
    O_APPEND = 0x400,
    O_NONBLOCK = 0x800,
    O_DSYNC = 0x1000,
    O_DIRECT = 0x4000,
    O_LARGEFILE = 0x8000,
    O_DIRECTORY = 0x10000,
    O_NOFOLLOW = 0x20000,
    O_NOATIME = 0x40000,
    O_CLOEXEC = 0x80000,

    /// <summary>Full file integrity: <c>__O_SYNC | O_DSYNC</c>.</summary>
    O_SYNC = 0x101000,
}
