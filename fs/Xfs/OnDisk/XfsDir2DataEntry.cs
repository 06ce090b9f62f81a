namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>One entry of a directory data block: where it starts in the block, the inode, the name and the file type.</summary>
/// <remarks>Models the kernel's <c>xfs_dir2_data_entry_t</c> (inumber, namelen, name, ftype, tag).</remarks>
/// <param name="Offset">Byte offset of the entry in its block (the tag's value).</param>
/// <param name="Ino">The inode number.</param>
/// <param name="Name">The name bytes (1 to 255).</param>
/// <param name="FileType">The ftype byte.</param>
public sealed record XfsDir2DataEntry(int Offset, ulong Ino, byte[] Name, XfsDirFileType FileType)
{
    /// <summary>Bytes the entry takes in the block.</summary>
    public int Size => XfsDir2Format.DataEntrySize(Name.Length);

    /// <summary>The name as UTF-8 text.</summary>
    public string NameText => System.Text.Encoding.UTF8.GetString(Name);
}
