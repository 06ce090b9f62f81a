namespace DaxStack.Fs.Vfs;

/// <summary>
/// One mounted filesystem instance: its operations, root inode and the limits the VFS's generic
/// checks need (block size, maximum file size, maximum link count).
/// </summary>
/// <remarks>Models the kernel's <c>struct super_block</c> (<c>s_op</c>, <c>s_root</c>, <c>s_blocksize</c>, <c>s_maxbytes</c>, <c>s_max_links</c>, <c>s_magic</c>, <c>SB_RDONLY</c>, <c>s_vfs_rename_mutex</c>).</remarks>
public sealed class SuperBlock
{
    public SuperBlock(ISuperOperations operations, long magic, int blockSize, long maxBytes, uint maxLinks)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 512);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, blockSize);
        Operations = operations;
        Magic = magic;
        BlockSize = blockSize;
        MaxBytes = maxBytes;
        MaxLinks = maxLinks;
    }

    /// <summary>Filesystem-wide operations (<c>s_op</c>).</summary>
    public ISuperOperations Operations { get; }

    /// <summary>The filesystem's magic number, reported as <c>f_type</c> (<c>s_magic</c>).</summary>
    public long Magic { get; }

    /// <summary>Block size in bytes (<c>s_blocksize</c>), also <c>st_blksize</c>.</summary>
    public int BlockSize { get; }

    /// <summary>Largest file size (<c>s_maxbytes</c>).</summary>
    public long MaxBytes { get; }

    /// <summary>Largest link count, 0 for no limit (<c>s_max_links</c>).</summary>
    public uint MaxLinks { get; }

    /// <summary>The root directory; the filesystem sets it while mounting (<c>s_root</c>).</summary>
    public Inode? Root { get; set; }

    /// <summary>Mounted read-only (<c>SB_RDONLY</c>): set by the VFS for a read-only mount, or by the filesystem when it can only mount read-only.</summary>
    public bool ReadOnly { get; set; }

    /// <summary>The device number <c>st_dev</c> reports, assigned at mount (<c>s_dev</c>).</summary>
    public ulong Dev { get; internal set; }

    /// <summary>
    /// Serialises namespace changes (create, link, unlink, mkdir, rmdir, rename) in this
    /// filesystem, so directory locks are always taken parent before child and never in two
    /// orders: a simplification of <c>s_vfs_rename_mutex</c> plus the parent <c>i_rwsem</c>.
    /// </summary>
    internal Lock NamespaceLock { get; } = new();
}
