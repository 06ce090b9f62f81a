namespace DaxStack.Fs.Vfs;

/// <summary>The inode flags <c>fsx_xflags</c> of <c>FS_IOC_FSGETXATTR</c> / <c>FS_IOC_FSSETXATTR</c>.</summary>
/// <remarks>Models <c>FS_XFLAG_*</c> of <c>include/uapi/linux/fs.h</c>.</remarks>
[Flags]
public enum FsXflags : uint
{
    None = 0,
    FS_XFLAG_REALTIME = 0x1,
    FS_XFLAG_PREALLOC = 0x2,
    FS_XFLAG_IMMUTABLE = 0x8,
    FS_XFLAG_APPEND = 0x10,
    FS_XFLAG_SYNC = 0x20,
    FS_XFLAG_NOATIME = 0x40,
    FS_XFLAG_NODUMP = 0x80,
    FS_XFLAG_RTINHERIT = 0x100,
    FS_XFLAG_PROJINHERIT = 0x200,
    FS_XFLAG_NOSYMLINKS = 0x400,
    FS_XFLAG_EXTSIZE = 0x800,
    FS_XFLAG_EXTSZINHERIT = 0x1000,
    FS_XFLAG_NODEFRAG = 0x2000,
    FS_XFLAG_FILESTREAM = 0x4000,
    FS_XFLAG_DAX = 0x8000,
    FS_XFLAG_COWEXTSIZE = 0x10000,
    FS_XFLAG_HASATTR = 0x80000000,
}
