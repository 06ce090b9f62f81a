namespace DaxStack.Fs.Xfs.Dir2;

/// <summary>What <see cref="XfsDirectoryCheck"/> found: the directory's shape, every inconsistency as a message, and the entries it could read ("." and ".." included) for link counting.</summary>
/// <remarks>Models what xfs_repair's phase 6 directory walk (<c>longform_dir2_entry_check</c>, <c>shortform_dir2_entry_check</c>) reports and collects.</remarks>
public sealed class XfsDirectoryCheckResult
{
    /// <summary>The shape the block map and fork say the directory has.</summary>
    public XfsDir2Form Form { get; internal set; }

    /// <summary>Every inconsistency found, one message each.</summary>
    public List<string> Problems { get; } = [];

    /// <summary>The entries read, in readdir order.</summary>
    public List<XfsDirEntry> Entries { get; } = [];

    /// <summary>Whether no problem was found.</summary>
    public bool IsClean => Problems.Count == 0;
}
