namespace DaxStack.Fs.Vfs;

/// <summary>
/// Namespace and attribute operations on an inode. The VFS has done the generic checks
/// (permissions, read-only mount, immutable and append-only flags, name length, existence,
/// link-count limits, type checks) and holds the locks each method names; the filesystem does
/// the work and reports its own errors (ENOSPC, ENOTEMPTY, EOPNOTSUPP ...) as
/// <see cref="ErrnoException"/>. Namespace-changing methods run under the superblock's namespace
/// lock and the directories' <see cref="Inode.Rwsem"/> held exclusive.
/// </summary>
/// <remarks>Models the kernel's <c>struct inode_operations</c> (<c>lookup</c>, <c>create</c>, <c>link</c>, <c>unlink</c>, <c>mkdir</c>, <c>rmdir</c>, <c>rename</c>, <c>setattr</c>, <c>fiemap</c>, <c>fileattr_get</c>, <c>fileattr_set</c>) and the filesystem's <c>xattr_handler</c> <c>get</c>/<c>set</c> with <c>listxattr</c>.</remarks>
public interface IInodeOperations
{
    /// <summary>
    /// The inode <paramref name="name"/> names in <paramref name="dir"/>, or null. <paramref name="name"/>
    /// is never "." and is at most 255 bytes; ".." names the parent (the root's parent is itself).
    /// Called with <paramref name="dir"/>'s lock held shared.
    /// </summary>
    Inode? Lookup(Inode dir, string name);

    /// <summary>Creates a regular file with <paramref name="mode"/> (type bits included) owned by <paramref name="owner"/> (<c>create</c>).</summary>
    Inode Create(Inode dir, string name, uint mode, Credentials owner);

    /// <summary>Creates a directory (<c>mkdir</c>); the parent gains a link for the child's "..".</summary>
    Inode Mkdir(Inode dir, string name, uint mode, Credentials owner);

    /// <summary>Adds a name for <paramref name="inode"/> in <paramref name="dir"/> and counts the link (<c>link</c>).</summary>
    void Link(Inode inode, Inode dir, string name);

    /// <summary>Removes the name and drops a link of the non-directory <paramref name="inode"/> (<c>unlink</c>).</summary>
    void Unlink(Inode dir, string name, Inode inode);

    /// <summary>Removes the empty directory <paramref name="inode"/> (ENOTEMPTY otherwise), leaving its link count 0 (<c>rmdir</c>).</summary>
    void Rmdir(Inode dir, string name, Inode inode);

    /// <summary>
    /// Moves <paramref name="source"/> from <paramref name="oldName"/> in <paramref name="oldDir"/> to
    /// <paramref name="newName"/> in <paramref name="newDir"/>, replacing <paramref name="target"/> if not
    /// null (a replaced directory must be empty: ENOTEMPTY), or exchanging the two with
    /// <see cref="RenameFlags.RENAME_EXCHANGE"/> (<c>rename</c>).
    /// </summary>
    void Rename(Inode oldDir, string oldName, Inode source, Inode newDir, string newName, Inode? target, RenameFlags flags);

    /// <summary>Changes the attributes <paramref name="attributes"/> names; a size change truncates or extends (<c>setattr</c>). Called with the inode lock held exclusive.</summary>
    void SetAttr(Inode inode, in InodeAttributes attributes);

    /// <summary>Reports the extents of [<paramref name="start"/>, start + <paramref name="length"/>) through <paramref name="info"/> (<c>fiemap</c>).</summary>
    void Fiemap(Inode inode, FiemapExtentInfo info, long start, long length);

    /// <summary>The inode's flags and hints (<c>fileattr_get</c>).</summary>
    FsXattr FileAttrGet(Inode inode);

    /// <summary>Sets the inode's flags and hints, updating <see cref="Inode.Flags"/> to match (<c>fileattr_set</c>).</summary>
    void FileAttrSet(Inode inode, in FsXattr attributes);

    /// <summary>
    /// The value of the extended attribute <paramref name="name"/> (without its prefix) in
    /// <paramref name="ns"/>; ENODATA when there is none (<c>xattr_handler.get</c>). Called with
    /// the inode lock held shared.
    /// </summary>
    byte[] GetXattr(Inode inode, XattrNamespace ns, string name);

    /// <summary>
    /// Creates or replaces an extended attribute and moves the change time, honouring
    /// <see cref="XattrFlags.XATTR_CREATE"/> (EEXIST) and <see cref="XattrFlags.XATTR_REPLACE"/>
    /// (ENODATA); ENOSPC when the filesystem cannot store it (<c>xattr_handler.set</c>). Called
    /// with the inode lock held exclusive; the VFS has checked names, sizes and permissions.
    /// </summary>
    void SetXattr(Inode inode, XattrNamespace ns, string name, ReadOnlySpan<byte> value, XattrFlags flags);

    /// <summary>Every extended attribute of the inode, in the filesystem's order (<c>listxattr</c>). Called with the inode lock held shared.</summary>
    IReadOnlyList<XattrName> ListXattr(Inode inode);

    /// <summary>Removes an extended attribute and moves the change time; ENODATA when there is none (<c>xattr_handler.set</c> with no value). Called with the inode lock held exclusive.</summary>
    void RemoveXattr(Inode inode, XattrNamespace ns, string name);
}
