namespace DaxStack.Fs.Vfs;

/// <summary>
/// An open file description: the inode and mount it was opened through, the status flags, the
/// access mode and the file position. Descriptors point at it; the filesystem may keep its own
/// state in <see cref="PrivateData"/>.
/// </summary>
/// <remarks>Models the kernel's <c>struct file</c> (<c>f_inode</c>, <c>f_path</c>, <c>f_flags</c>, <c>f_mode</c>, <c>f_pos</c>, <c>f_pos_lock</c>, <c>private_data</c>).</remarks>
public sealed class OpenFile
{
    internal OpenFile(Inode inode, Mount mount, OpenFlags flags, bool canRead, bool canWrite)
    {
        Inode = inode;
        Mount = mount;
        Flags = flags;
        CanRead = canRead;
        CanWrite = canWrite;
    }

    public Inode Inode { get; }

    public Mount Mount { get; }

    /// <summary>Status flags (<c>f_flags</c>): the access mode and O_APPEND, O_DIRECT, O_SYNC ... as opened or set by F_SETFL.</summary>
    public OpenFlags Flags { get; internal set; }

    /// <summary>Opened for reading (<c>FMODE_READ</c>).</summary>
    public bool CanRead { get; }

    /// <summary>Opened for writing (<c>FMODE_WRITE</c>).</summary>
    public bool CanWrite { get; }

    /// <summary>The file position (<c>f_pos</c>).</summary>
    public long Pos { get; set; }

    /// <summary>The filesystem's per-open state (<c>private_data</c>).</summary>
    public object? PrivateData { get; set; }

    /// <summary>Serialises read, write and lseek on the position (<c>f_pos_lock</c>).</summary>
    internal Lock PosLock { get; } = new();
}
