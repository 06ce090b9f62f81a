namespace DaxStack.Fs.Vfs;

/// <summary>One entry <c>getdents64(2)</c> returns: inode number, the offset of the next entry, type and name.</summary>
/// <remarks>Models <c>struct linux_dirent64</c> (<c>d_ino</c>, <c>d_off</c>, <c>d_type</c>, <c>d_name</c>).</remarks>
public readonly record struct DirEntry(long Ino, long Off, DirentType Type, string Name)
{
    /// <summary>The <c>d_type</c> for an <c>st_mode</c> (<c>fs_umode_to_dtype</c>).</summary>
    public static DirentType TypeOf(uint mode) => (DirentType)((mode & InodeMode.S_IFMT) >> 12);
}
