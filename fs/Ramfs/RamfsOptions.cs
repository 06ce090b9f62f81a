namespace DaxStack.Fs.Ramfs;

/// <summary>Limits of one ramfs instance. Immutable; every property documents its unit and default.</summary>
/// <remarks>Models tmpfs's mount options <c>size=</c> and <c>nr_inodes=</c> plus the superblock limits <c>s_maxbytes</c> and <c>s_max_links</c>, and a per-inode budget for extended attributes like tmpfs's inode space.</remarks>
public sealed record RamfsOptions
{
    /// <summary>Bytes of file data the instance may hold, in whole 4 KiB pages; 64 MiB by default. Beyond it: ENOSPC.</summary>
    public long CapacityBytes { get; init; } = 64L << 20;

    /// <summary>Inodes the instance may hold, the root included; 1 048 576 by default. Beyond it: ENOSPC.</summary>
    public long MaxInodes { get; init; } = 1 << 20;

    /// <summary>Largest file size in bytes (<c>s_maxbytes</c>); 1 TiB by default.</summary>
    public long MaxFileSize { get; init; } = 1L << 40;

    /// <summary>Largest link count of an inode (<c>s_max_links</c>), 0 for none; 65 000 by default.</summary>
    public uint MaxLinks { get; init; } = 65000;

    /// <summary>
    /// Whether FICLONE/FICLONERANGE work, by copying the bytes at once (no extent is shared, so
    /// FIEMAP never reports SHARED); false by default, when they fail with EOPNOTSUPP as on tmpfs.
    /// </summary>
    public bool CloneByCopy { get; init; }

    /// <summary>
    /// Bytes of extended attributes one inode may hold, counting each attribute's full name and
    /// value; 65 536 by default. Beyond it: ENOSPC.
    /// </summary>
    public int XattrSpacePerInode { get; init; } = 65536;
}
