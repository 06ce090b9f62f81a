namespace DaxStack.Fs.Vfs;

/// <summary>What <c>stat(2)</c> returns about an inode.</summary>
/// <remarks>Models <c>struct stat</c> as filled by <c>generic_fillattr</c>; <see cref="Blocks"/> counts 512-byte units.</remarks>
public readonly record struct Stat(
    ulong Dev,
    long Ino,
    uint Mode,
    uint Nlink,
    uint Uid,
    uint Gid,
    long Size,
    int Blksize,
    long Blocks,
    Timespec Atime,
    Timespec Mtime,
    Timespec Ctime)
{
    public bool IsDirectory => InodeMode.IsDir(Mode);

    public bool IsRegular => InodeMode.IsReg(Mode);
}
