namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>
/// One entry of a short-form directory: the name, the offset the entry would have in a block
/// directory (which keeps readdir cookies stable across format changes), the file type and the
/// inode number.
/// </summary>
/// <remarks>Models the kernel's <c>struct xfs_dir2_sf_entry</c> (xfs_da_format.h): namelen, offset[2], name, ftype, inumber.</remarks>
/// <param name="Name">The name bytes (1 to 255, no '/' or NUL).</param>
/// <param name="Offset">xfs_dir2_sf_get_offset: the block-directory data offset.</param>
/// <param name="FileType">The ftype byte.</param>
/// <param name="Ino">The inode number.</param>
public sealed record XfsDir2SfEntry(byte[] Name, ushort Offset, XfsDirFileType FileType, ulong Ino)
{
    /// <summary>The name as UTF-8 text.</summary>
    public string NameText => System.Text.Encoding.UTF8.GetString(Name);
}
