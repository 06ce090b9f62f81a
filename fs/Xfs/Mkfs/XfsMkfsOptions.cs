namespace DaxStack.Fs.Xfs.Mkfs;

/// <summary>
/// What <see cref="XfsMkfs"/> is asked to make, in mkfs.xfs's terms. Everything not listed is
/// fixed by the format DaxStack writes: v5 with CRCs, finobt, inobtcount, bigtime, ftype,
/// no rmapbt, no sparse inodes, 512-byte inodes and sectors, an internal v2 log.
/// </summary>
/// <remarks>Models the subset of mkfs.xfs's <c>struct cli_params</c> that <c>daxstack mkfs</c> accepts.</remarks>
public sealed record XfsMkfsOptions
{
    /// <summary>-b size: filesystem block size in bytes. Only 4096 is accepted. Default 4096.</summary>
    public int BlockSize { get; init; } = OnDisk.XfsFormat.BlockSize;

    /// <summary>-d agcount: number of allocation groups; null for mkfs.xfs's default for the device size.</summary>
    public uint? AgCount { get; init; }

    /// <summary>-m reflink: keep a reference-count B+tree so files can share blocks. Default true.</summary>
    public bool Reflink { get; init; } = true;

    /// <summary>-L: the label, at most 12 bytes of UTF-8. Default none.</summary>
    public string? Label { get; init; }

    /// <summary>-m uuid: the filesystem uuid; null for a random one.</summary>
    public Guid? Uuid { get; init; }

    /// <summary>-f: overwrite an existing filesystem. Default false.</summary>
    public bool Force { get; init; }

    /// <summary>The clock the root directory's timestamps come from. Default the system clock.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;
}
