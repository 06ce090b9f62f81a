namespace DaxStack.Fs.Vfs;

/// <summary>
/// The VFS-visible per-inode flags a filesystem derives from its on-disk flags; the generic checks
/// (immutable, append-only, dead directory) read them.
/// </summary>
/// <remarks>Models the kernel's <c>inode-&gt;i_flags</c> (<c>S_SYNC</c>, <c>S_APPEND</c>, <c>S_IMMUTABLE</c>, <c>S_DEAD</c>, <c>S_NOATIME</c>, <c>S_DAX</c>).</remarks>
[Flags]
public enum InodeFlags
{
    None = 0,
    S_SYNC = 1 << 0,
    S_NOATIME = 1 << 1,
    S_APPEND = 1 << 2,
    S_IMMUTABLE = 1 << 3,
    S_DEAD = 1 << 4,
    S_DAX = 1 << 13,
}
