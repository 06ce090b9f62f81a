using DaxStack.Device.Errors;
using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Ramfs;

/// <summary>
/// One ramfs instance: its superblock, the page and inode budgets (ENOSPC beyond them), inode
/// numbers, and counters of durability requests. Memory has no stable storage, so fsync and
/// syncfs have nothing to write; they are counted so tests can see when the VFS asks for them.
/// </summary>
/// <remarks>Models tmpfs's <c>shmem_sb_info</c> (<c>max_blocks</c>, <c>max_inodes</c>) and <c>shmem_ops</c> (<c>evict_inode</c>, <c>statfs</c>, <c>put_super</c>).</remarks>
public sealed class RamfsSuper : ISuperOperations
{
    /// <summary>ramfs's <c>f_type</c> (<c>RAMFS_MAGIC</c>).</summary>
    public const long Magic = 0x858458f6;

    private readonly Lock _lock = new();
    private long _usedPages;
    private long _inodes;
    private long _nextIno = 1;
    private long _fsyncCalls;
    private long _syncFsCalls;

    internal RamfsSuper(RamfsOptions options)
    {
        Options = options;
        Sb = new SuperBlock(this, Magic, RamfsPage.Size, options.MaxFileSize, options.MaxLinks);
        InodeOperations = new RamfsInodeOperations(this);
        FileOperations = new RamfsFileOperations(this);
        DirOperations = new RamfsDirOperations();
    }

    public RamfsOptions Options { get; }

    public SuperBlock Sb { get; }

    /// <summary>Pages of file data now allocated.</summary>
    public long UsedPages
    {
        get
        {
            lock (_lock)
            {
                return _usedPages;
            }
        }
    }

    /// <summary>Inodes now allocated, the root included.</summary>
    public long InodeCount
    {
        get
        {
            lock (_lock)
            {
                return _inodes;
            }
        }
    }

    /// <summary>How many times fsync or fdatasync (including O_SYNC/O_DSYNC writes) reached this instance.</summary>
    public long FsyncCalls => Interlocked.Read(ref _fsyncCalls);

    /// <summary>How many times syncfs reached this instance.</summary>
    public long SyncFsCalls => Interlocked.Read(ref _syncFsCalls);

    /// <summary>Whether the instance was unmounted.</summary>
    public bool Unmounted { get; private set; }

    internal RamfsInodeOperations InodeOperations { get; }

    internal RamfsFileOperations FileOperations { get; }

    internal RamfsDirOperations DirOperations { get; }

    internal long CapacityPages => Options.CapacityBytes / RamfsPage.Size;

    /// <summary>A new inode of <paramref name="mode"/>; ENOSPC when the inode budget is spent.</summary>
    internal RamfsInode NewInode(uint mode, Credentials owner, RamfsInode? dir)
    {
        long ino;
        lock (_lock)
        {
            if (_inodes >= Options.MaxInodes)
            {
                throw new ErrnoException(Errno.ENOSPC, $"ramfs: all {Options.MaxInodes} inodes are in use");
            }

            _inodes++;
            ino = _nextIno++;
        }

        bool isDir = InodeMode.IsDir(mode);
        var inode = new RamfsInode(Sb, this, ino, mode, InodeOperations, isDir ? DirOperations : FileOperations)
        {
            Uid = owner.Uid,
            Gid = owner.Gid,
        };

        // A setgid directory passes its group on, and its setgid bit to subdirectories.
        if (dir != null && (dir.Mode & InodeMode.S_ISGID) != 0)
        {
            inode.Gid = dir.Gid;
            if (isDir)
            {
                inode.Mode |= InodeMode.S_ISGID;
            }
        }

        return inode;
    }

    /// <summary>Takes <paramref name="count"/> pages from the budget, or none (false).</summary>
    internal bool TryReservePages(long count)
    {
        lock (_lock)
        {
            if (_usedPages + count > CapacityPages)
            {
                return false;
            }

            _usedPages += count;
            return true;
        }
    }

    internal void ReleasePages(long count)
    {
        lock (_lock)
        {
            _usedPages -= count;
        }
    }

    internal void CountFsync() => Interlocked.Increment(ref _fsyncCalls);

    /// <inheritdoc/>
    public void EvictInode(Inode inode)
    {
        var ri = (RamfsInode)inode;
        ri.Rwsem.EnterWriteLock();
        try
        {
            ReleasePages(ri.Pages.Count);
            ri.Pages.Clear();
            ri.UpdateBlocks();
        }
        finally
        {
            ri.Rwsem.ExitWriteLock();
        }

        lock (_lock)
        {
            _inodes--;
        }
    }

    /// <inheritdoc/>
    public StatFs StatFs()
    {
        lock (_lock)
        {
            long free = CapacityPages - _usedPages;
            return new StatFs(Magic, RamfsPage.Size, CapacityPages, free, free, Options.MaxInodes, Options.MaxInodes - _inodes,
                Process.NameMax, RamfsPage.Size, 0);
        }
    }

    /// <inheritdoc/>
    public void SyncFs() => Interlocked.Increment(ref _syncFsCalls);

    /// <inheritdoc/>
    public void PutSuper() => Unmounted = true;
}
