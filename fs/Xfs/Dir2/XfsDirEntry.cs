using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Dir2;

/// <summary>
/// A directory entry as lookups and readdir return it: the name, the inode, the file type and the
/// entry's readdir cookie (its dataptr: the byte address of the entry in the directory's data
/// space divided by 8, stable across format changes, so a readdir can resume from it).
/// </summary>
/// <remarks>Models what the kernel's <c>xfs_readdir</c> hands <c>dir_emit</c> (name, ino, <c>xfs_dir3_get_dtype</c>) with <c>ctx->pos</c> from <c>xfs_dir2_db_off_to_dataptr</c>.</remarks>
/// <param name="Name">The name bytes.</param>
/// <param name="Ino">The inode number.</param>
/// <param name="FileType">The ftype.</param>
/// <param name="Cookie">The entry's dataptr.</param>
public sealed record XfsDirEntry(byte[] Name, ulong Ino, XfsDirFileType FileType, uint Cookie)
{
    /// <summary>The name as UTF-8 text.</summary>
    public string NameText => System.Text.Encoding.UTF8.GetString(Name);

    public override string ToString() => $"{NameText} -> {Ino} ({FileType}) @{Cookie}";
}
