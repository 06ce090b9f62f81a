namespace DaxStack.Fs.Vfs;

/// <summary>The <c>d_type</c> of a directory entry.</summary>
/// <remarks>Models <c>DT_UNKNOWN</c> .. <c>DT_SOCK</c> of <c>include/linux/fs_types.h</c>.</remarks>
public enum DirentType : byte
{
    DT_UNKNOWN = 0,
    DT_FIFO = 1,
    DT_CHR = 2,
    DT_DIR = 4,
    DT_BLK = 6,
    DT_REG = 8,
    DT_LNK = 10,
    DT_SOCK = 12,
}
