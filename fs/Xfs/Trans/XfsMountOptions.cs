namespace DaxStack.Fs.Xfs.Trans;

/// <summary>How the metadata core of a filesystem runs, in the spirit of XFS mount options.</summary>
/// <remarks>Models the subset of the kernel's mount options (<c>struct xfs_mount</c> <c>m_features</c> such as <c>XFS_FEAT_IKEEP</c>) the metadata core needs.</remarks>
public sealed record XfsMountOptions
{
    /// <summary>ikeep: keep inode chunks whose inodes are all free instead of freeing their blocks. Default false (noikeep).</summary>
    public bool Ikeep { get; init; }

    /// <summary>Metadata buffers kept in the cache (clean ones beyond this are dropped, least recently used first). Default <see cref="Buffers.XfsBufferCache.DefaultCapacity"/>.</summary>
    public int BufferCacheCapacity { get; init; } = Buffers.XfsBufferCache.DefaultCapacity;

    /// <summary>Where committed transactions go; null for <see cref="XfsWriteHomeCommitter"/>. Default null.</summary>
    public ITransactionCommitter? Committer { get; init; }

    /// <summary>Bytes of logged changes the CIL of <see cref="XfsMount.Mount"/> holds before it forces itself. Default <see cref="Cil.XfsCilCommitter.DefaultBudgetBytes"/> (256 KiB).</summary>
    public long LogBudgetBytes { get; init; } = Cil.XfsCilCommitter.DefaultBudgetBytes;

    /// <summary>Seed of the generator for new inode chunks' generation numbers; null for an unpredictable one. Default null.</summary>
    public int? GenerationSeed { get; init; }

    /// <summary>Leave inodes on the AGI unlinked lists at <see cref="XfsMount.Mount"/> instead of inactivating them (for tests and inspection of a crashed image). Default false.</summary>
    public bool SkipUnlinkedRecovery { get; init; }

    /// <summary>
    /// ro: <see cref="XfsMount.Mount"/> hands out a mount on which every transaction fails with
    /// EROFS. A dirty log is still replayed first when the device is writable (as XFS does), and
    /// refused with EROFS when it is not. Default false.
    /// </summary>
    public bool ReadOnly { get; init; }
}
