namespace DaxStack.Fs.Vfs;

/// <summary>
/// The names of one directory the VFS has looked up, each with the inode it leads to or none (a
/// negative entry: the name is known not to exist), so a path walk finds them without asking the
/// filesystem again. Every namespace change the VFS makes in the directory (create, mkdir, link,
/// unlink, rmdir, rename) drops the names it touches while it holds the directory's write lock,
/// so the cache never outlives what the filesystem says.
/// </summary>
/// <remarks>
/// Models the kernel's dentry cache for one parent (<c>d_lookup</c>, <c>d_add</c>, <c>d_drop</c>,
/// negative dentries). There is no LRU: past <see cref="Capacity"/> names it starts again empty.
/// ".." is not cached (it changes when the directory moves).
/// </remarks>
internal sealed class DentryCache
{
    /// <summary>Names kept per directory before the cache starts over.</summary>
    public const int Capacity = 4096;

    private readonly Dictionary<string, Inode?> _names = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>Whether <paramref name="name"/> is cached; <paramref name="inode"/> is null for a negative entry.</summary>
    public bool TryLookup(string name, out Inode? inode)
    {
        lock (_lock)
        {
            return _names.TryGetValue(name, out inode);
        }
    }

    /// <summary>Caches what the filesystem's lookup of <paramref name="name"/> returned.</summary>
    public void Add(string name, Inode? inode)
    {
        lock (_lock)
        {
            if (_names.Count >= Capacity)
            {
                _names.Clear();
            }

            _names[name] = inode;
        }
    }

    /// <summary>Forgets <paramref name="name"/> (its directory entry is changing).</summary>
    public void Drop(string name)
    {
        lock (_lock)
        {
            _names.Remove(name);
        }
    }
}
