namespace DaxStack.Fs.Vfs;

/// <summary>The file type and permission bits of <c>st_mode</c>, with their octal Linux values.</summary>
/// <remarks>Models <c>S_IFMT</c>, <c>S_IFREG</c>, <c>S_ISUID</c> ... of <c>include/uapi/linux/stat.h</c>.</remarks>
public static class InodeMode
{
    public const uint S_IFMT = 0xF000;
    public const uint S_IFSOCK = 0xC000;
    public const uint S_IFLNK = 0xA000;
    public const uint S_IFREG = 0x8000;
    public const uint S_IFBLK = 0x6000;
    public const uint S_IFDIR = 0x4000;
    public const uint S_IFCHR = 0x2000;
    public const uint S_IFIFO = 0x1000;
    public const uint S_ISUID = 0x800;
    public const uint S_ISGID = 0x400;
    public const uint S_ISVTX = 0x200;
    public const uint S_IRWXU = 0x1C0;
    public const uint S_IRUSR = 0x100;
    public const uint S_IWUSR = 0x80;
    public const uint S_IXUSR = 0x40;
    public const uint S_IRWXG = 0x38;
    public const uint S_IXGRP = 0x8;
    public const uint S_IRWXO = 0x7;

    /// <summary>Every permission bit (<c>S_IRWXUGO</c>).</summary>
    public const uint S_IRWXUGO = S_IRWXU | S_IRWXG | S_IRWXO;

    /// <summary>Permission bits plus setuid, setgid and sticky (<c>S_IALLUGO</c>).</summary>
    public const uint S_IALLUGO = S_ISUID | S_ISGID | S_ISVTX | S_IRWXUGO;

    /// <summary>Any execute bit (<c>S_IXUGO</c>).</summary>
    public const uint S_IXUGO = 0x49;

    public static bool IsDir(uint mode) => (mode & S_IFMT) == S_IFDIR;

    public static bool IsReg(uint mode) => (mode & S_IFMT) == S_IFREG;
}
