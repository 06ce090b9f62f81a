namespace DaxStack.Fs.Xfs.Repair;

/// <summary>What phase 3 learned about one allocated inode for the connectivity and link-count phases.</summary>
/// <remarks>Models xfs_repair's incore inode record (repair/incore_ino.c): type, link count, references counted.</remarks>
internal sealed class XfsInodeFindings(ulong ino, ushort fileType, uint nlink)
{
    public ulong Ino { get; } = ino;

    /// <summary>The S_IFMT bits of di_mode.</summary>
    public ushort FileType { get; } = fileType;

    /// <summary>di_nlink.</summary>
    public uint Nlink { get; } = nlink;

    public bool IsDirectory => FileType == OnDisk.XfsDinode.TypeDirectory;

    /// <summary>Entries found naming this inode in the directories that were listed.</summary>
    public int References { get; set; }

    /// <summary>For a directory, its listing (null until phase 6, or when the inode is not a directory).</summary>
    public XfsDirectoryListing? Listing { get; set; }

    /// <summary>For a directory, how many of its listed entries are directories.</summary>
    public int Subdirectories { get; set; }

    /// <summary>For a directory, the verified inode (the directory checker reads its fork); null otherwise.</summary>
    public OnDisk.XfsDinode? Directory { get; set; }

    /// <summary>For a regular file without the reflink flag, its data extents (phase 4 checks none is shared); null otherwise.</summary>
    public List<OnDisk.XfsBmbtRecord>? UnsharedExtents { get; set; }
}
