namespace DaxStack.Fs.Vfs;

/// <summary>The <c>flags</c> argument of <c>renameat2(2)</c>.</summary>
/// <remarks>Models <c>RENAME_NOREPLACE</c>, <c>RENAME_EXCHANGE</c>, <c>RENAME_WHITEOUT</c> of <c>include/uapi/linux/fs.h</c>.</remarks>
[Flags]
public enum RenameFlags
{
    None = 0,
    RENAME_NOREPLACE = 1,
    RENAME_EXCHANGE = 2,
    RENAME_WHITEOUT = 4,
}
