using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Repair;

/// <summary>One directory entry as a directory checker lists it: name, target inode and file type ("." and ".." excluded).</summary>
/// <remarks>The information xfs_repair phase 6 takes from each directory entry (name, inumber, ftype) to check connectivity and link counts.</remarks>
/// <param name="Name">The name bytes.</param>
/// <param name="Ino">The inode it names.</param>
/// <param name="FileType">The entry's ftype.</param>
public sealed record XfsCheckedDirEntry(byte[] Name, ulong Ino, XfsDirFileType FileType)
{
    /// <summary>The name for messages (UTF-8, invalid bytes replaced).</summary>
    public string NameText => System.Text.Encoding.UTF8.GetString(Name);
}
