namespace DaxStack.Fs.Vfs;

/// <summary>The <c>whence</c> argument of <c>lseek(2)</c>.</summary>
/// <remarks>Models <c>SEEK_SET</c> .. <c>SEEK_HOLE</c> of <c>include/uapi/linux/fs.h</c>.</remarks>
public enum SeekWhence
{
    SEEK_SET = 0,
    SEEK_CUR = 1,
    SEEK_END = 2,
    SEEK_DATA = 3,
    SEEK_HOLE = 4,
}
