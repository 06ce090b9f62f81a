using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Ramfs;

/// <summary>
/// A ramfs inode: the VFS inode plus, for a regular file, its sparse pages, and for a directory,
/// its names (by name and by readdir cookie) and its parent; any inode, its extended attributes. Pages and names are guarded by the
/// VFS's <see cref="Inode.Rwsem"/>.
/// </summary>
/// <remarks>Models a tmpfs <c>shmem_inode_info</c> with its page cache, dentries and <c>simple_xattrs</c>.</remarks>
internal sealed class RamfsInode : Inode
{
    public RamfsInode(SuperBlock sb, RamfsSuper super, long ino, uint mode, IInodeOperations iop, IFileOperations fop)
        : base(sb, ino, mode, iop, fop)
    {
        Super = super;
    }

    public RamfsSuper Super { get; }

    /// <summary>File pages by page index.</summary>
    public SortedDictionary<long, RamfsPage> Pages { get; } = new();

    /// <summary>Directory entries by name.</summary>
    public Dictionary<string, RamfsDirent> Entries { get; } = new(StringComparer.Ordinal);

    /// <summary>Directory entries by cookie, the order readdir returns them in.</summary>
    public SortedDictionary<long, RamfsDirent> ByCookie { get; } = new();

    /// <summary>The next cookie; 0 and 1 are "." and "..".</summary>
    public long NextCookie { get; set; } = 2;

    /// <summary>The parent directory (itself for the root).</summary>
    public RamfsInode? Parent { get; set; }

    public FsXflags XFlags { get; set; }

    public uint ExtSize { get; set; }

    public uint CowExtSize { get; set; }

    public uint ProjId { get; set; }

    /// <summary>Extended attributes in the order they were first set (listxattr's order).</summary>
    public List<KeyValuePair<XattrName, byte[]>> Xattrs { get; } = [];

    public void AddEntry(string name, RamfsInode inode)
    {
        var d = new RamfsDirent(name, inode, NextCookie++);
        Entries.Add(name, d);
        ByCookie.Add(d.Cookie, d);
    }

    public void RemoveEntry(string name)
    {
        var d = Entries[name];
        Entries.Remove(name);
        ByCookie.Remove(d.Cookie);
    }

    /// <summary>Recomputes <see cref="Inode.Blocks"/> from the page count.</summary>
    public void UpdateBlocks() => Blocks = (long)Pages.Count * (RamfsPage.Size / 512);
}
