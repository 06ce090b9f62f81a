namespace DaxStack.Fs.Vfs;

/// <summary>
/// Filesystem-wide operations the VFS calls. Errors are thrown as <see cref="ErrnoException"/>.
/// </summary>
/// <remarks>Models the kernel's <c>struct super_operations</c> (<c>evict_inode</c>, <c>statfs</c>, <c>sync_fs</c>, <c>put_super</c>).</remarks>
public interface ISuperOperations
{
    /// <summary>
    /// The inode has no links and no references left: free its data and the inode itself
    /// (<c>evict_inode</c>). Called exactly once per inode.
    /// </summary>
    void EvictInode(Inode inode);

    /// <summary>Space and inode counts (<c>statfs</c>).</summary>
    StatFs StatFs();

    /// <summary>Make everything written so far durable (<c>sync_fs</c>).</summary>
    void SyncFs();

    /// <summary>The filesystem is being unmounted: write back and release it (<c>put_super</c>).</summary>
    void PutSuper();
}
