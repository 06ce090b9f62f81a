namespace DaxStack.Fs.Vfs;

/// <summary>
/// The VFS's in-core inode: the generic attributes every filesystem keeps current (the VFS
/// reads them for permission checks and <c>stat</c>), the operations tables, the per-inode lock,
/// and the reference count the VFS uses to decide when an unlinked inode may be freed.
/// A filesystem derives its own inode type from this one and returns the same object for the
/// same inode number while it is referenced.
/// </summary>
/// <remarks>
/// Models the kernel's <c>struct inode</c> (<c>i_ino</c>, <c>i_mode</c>, <c>i_nlink</c>,
/// <c>i_size</c>, <c>i_blocks</c>, <c>i_flags</c>, <c>i_op</c>, <c>i_fop</c>, <c>i_rwsem</c>,
/// <c>i_count</c>, <c>I_FREEING</c>) embedded in a filesystem inode such as <c>xfs_inode</c>.
/// </remarks>
public abstract class Inode
{
    private readonly Lock _stateLock = new();
    private int _count;
    private bool _freeing;
    private DentryCache? _dentries;

    protected Inode(SuperBlock sb, long ino, uint mode, IInodeOperations operations, IFileOperations fileOperations)
    {
        Sb = sb;
        Ino = ino;
        Mode = mode;
        Operations = operations;
        FileOperations = fileOperations;
        var now = Timespec.Now();
        Atime = now;
        Mtime = now;
        Ctime = now;
    }

    /// <summary>The names looked up in this directory (made on first use).</summary>
    internal DentryCache Dentries => _dentries ?? Interlocked.CompareExchange(ref _dentries, new DentryCache(), null) ?? _dentries;

    /// <summary>The filesystem instance (<c>i_sb</c>).</summary>
    public SuperBlock Sb { get; }

    /// <summary>Inode number (<c>i_ino</c>).</summary>
    public long Ino { get; }

    /// <summary>File type and permission bits (<c>i_mode</c>).</summary>
    public uint Mode { get; set; }

    /// <summary>Hard link count (<c>i_nlink</c>).</summary>
    public uint Nlink { get; set; }

    public uint Uid { get; set; }

    public uint Gid { get; set; }

    /// <summary>File size in bytes (<c>i_size</c>).</summary>
    public long Size { get; set; }

    /// <summary>Space used in 512-byte units (<c>i_blocks</c>).</summary>
    public long Blocks { get; set; }

    public Timespec Atime { get; set; }

    public Timespec Mtime { get; set; }

    public Timespec Ctime { get; set; }

    /// <summary>VFS-visible flags such as immutable and append-only (<c>i_flags</c>).</summary>
    public InodeFlags Flags { get; set; }

    /// <summary>Namespace and attribute operations (<c>i_op</c>).</summary>
    public IInodeOperations Operations { get; }

    /// <summary>Operations on an open file of this inode (<c>i_fop</c>).</summary>
    public IFileOperations FileOperations { get; }

    /// <summary>
    /// The inode lock (<c>i_rwsem</c>): writers hold it exclusive for writes, truncate,
    /// fallocate and directory changes; readers hold it shared. Recursion is allowed so a
    /// filesystem may take it again on the same thread.
    /// </summary>
    public ReaderWriterLockSlim Rwsem { get; } = new(LockRecursionPolicy.SupportsRecursion);

    public bool IsDirectory => InodeMode.IsDir(Mode);

    public bool IsRegular => InodeMode.IsReg(Mode);

    public bool IsImmutable => (Flags & InodeFlags.S_IMMUTABLE) != 0;

    public bool IsAppendOnly => (Flags & InodeFlags.S_APPEND) != 0;

    /// <summary>A directory that was removed (<c>IS_DEADDIR</c>): nothing may be created in it.</summary>
    public bool IsDeadDirectory => (Flags & InodeFlags.S_DEAD) != 0;

    /// <summary>Takes a reference; false if the inode is already being freed (<c>igrab</c>).</summary>
    internal bool TryGrab()
    {
        lock (_stateLock)
        {
            if (_freeing)
            {
                return false;
            }

            _count++;
            return true;
        }
    }

    /// <summary>Drops a reference and frees the inode if that was the last one and it has no links (<c>iput</c>).</summary>
    internal void Put()
    {
        bool evict;
        lock (_stateLock)
        {
            if (_count <= 0)
            {
                throw new InvalidOperationException($"inode {Ino}: reference count underflow");
            }

            _count--;
            evict = ShouldEvictLocked();
        }

        if (evict)
        {
            Sb.Operations.EvictInode(this);
        }
    }

    /// <summary>Frees the inode if nothing references it and it has no links, as after an unlink (<c>iput_final</c>).</summary>
    internal void EvictIfUnused()
    {
        bool evict;
        lock (_stateLock)
        {
            evict = ShouldEvictLocked();
        }

        if (evict)
        {
            Sb.Operations.EvictInode(this);
        }
    }

    private bool ShouldEvictLocked()
    {
        if (_count != 0 || Nlink != 0 || _freeing)
        {
            return false;
        }

        _freeing = true;
        return true;
    }
}
