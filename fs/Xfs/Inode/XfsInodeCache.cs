using System.Runtime.CompilerServices;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Xfs.Inode;

/// <summary>
/// The in-core inodes of one mounted filesystem: one <see cref="XfsInode"/> per inode number,
/// read from disk the first time it is asked for and kept, so the in-core extent lists and
/// later changes are shared by everyone using the inode.
/// </summary>
/// <remarks>Models the kernel's inode cache (<c>xfs_iget</c> over the per-AG radix trees <c>pag_ici_root</c>). Inodes are not evicted yet.</remarks>
public sealed class XfsInodeCache
{
    private static readonly ConditionalWeakTable<XfsMount, XfsInodeCache> Caches = new();
    private readonly Dictionary<ulong, XfsInode> _inodes = [];
    private readonly XfsMount _mount;

    private XfsInodeCache(XfsMount mount)
    {
        _mount = mount;
    }

    /// <summary>The inode cache of <paramref name="mount"/>.</summary>
    public static XfsInodeCache For(XfsMount mount)
    {
        ArgumentNullException.ThrowIfNull(mount);
        return Caches.GetValue(mount, m => new XfsInodeCache(m));
    }

    /// <summary>Inodes in the cache.</summary>
    public int Count => _inodes.Count;

    /// <summary>The clock new timestamps come from (settable for reproducible tests).</summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;

    /// <summary>
    /// xfs_iget: inode <paramref name="ino"/>, in use or not, from the cache or read and verified
    /// from disk (through <paramref name="tp"/>, which locates its cluster).
    /// </summary>
    public XfsInode Get(XfsTransaction tp, ulong ino)
    {
        ArgumentNullException.ThrowIfNull(tp);
        if (_inodes.TryGetValue(ino, out var ip))
            return ip;
        ip = XfsInode.Read(_mount, ino, XfsImap.Locate(tp, ino));
        _inodes.Add(ino, ip);
        return ip;
    }

    /// <summary>The allocated inode <paramref name="ino"/>; EINVAL (<see cref="XfsException"/>) when it is free, as xfs_iget answers a lookup of a free inode.</summary>
    public XfsInode GetInUse(XfsTransaction tp, ulong ino)
    {
        var ip = Get(tp, ino);
        if (!ip.InUse)
            throw new XfsException(Device.Errors.Errno.EINVAL, $"inode {ino} is not allocated");
        return ip;
    }

    /// <summary>Drops inode <paramref name="ino"/> from the cache (its next <see cref="Get"/> reads it again).</summary>
    internal void Forget(ulong ino) => _inodes.Remove(ino);

    /// <summary>The current time as an inode timestamp.</summary>
    public XfsTimestamp Now() => XfsTimestamp.From(Clock.GetUtcNow());
}
