namespace DaxStack.Fs.Xfs.Repair;

/// <summary>
/// What a directory checker found in one directory: whether its format was checked at all, the
/// parent (".."), the entries, and the problems of the directory's own structure. When
/// <see cref="Complete"/> is false the checker could not tell every entry (format not checked,
/// or too damaged to list), so link counts that could depend on it are not compared.
/// </summary>
/// <remarks>The per-directory result of xfs_repair's phase 6 directory walk (<c>process_dir_inode</c>).</remarks>
public sealed class XfsDirectoryListing
{
    /// <summary>Whether the directory's format was checked (false: <see cref="NotCheckedReason"/> says why).</summary>
    public bool Checked { get; init; }

    /// <summary>Whether <see cref="Entries"/> are all the directory's entries.</summary>
    public bool Complete { get; init; }

    /// <summary>Why the format was not checked, or null.</summary>
    public string? NotCheckedReason { get; init; }

    /// <summary>The parent inode (".."), or null when unknown.</summary>
    public ulong? Parent { get; init; }

    /// <summary>The entries found.</summary>
    public IReadOnlyList<XfsCheckedDirEntry> Entries { get; init; } = [];

    /// <summary>Problems of the directory's structure, each one message about the directory inode.</summary>
    public IReadOnlyList<string> Problems { get; init; } = [];

    /// <summary>A listing for a directory whose format this checker does not read.</summary>
    public static XfsDirectoryListing NotChecked(string reason) => new() { Checked = false, Complete = false, NotCheckedReason = reason };
}
