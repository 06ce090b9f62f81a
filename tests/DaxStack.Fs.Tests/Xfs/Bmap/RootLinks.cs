using DaxStack.Fs.Xfs.Ialloc;
using DaxStack.Fs.Xfs.Inode;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Tests.Xfs.Bmap;

/// <summary>
/// Just enough of a directory for inode and block-map tests: creates regular files named in the
/// root's short-form directory (so xfs_repair sees them connected), through the in-core inode.
/// </summary>
internal static class RootLinks
{
    public static readonly DateTimeOffset Epoch = new(2026, 11, 30, 8, 0, 0, TimeSpan.Zero);

    /// <summary>Creates an empty regular file named <paramref name="name"/> in the root directory.</summary>
    public static XfsInode CreateFile(XfsMount mp, string name)
    {
        var cache = XfsInodeCache.For(mp);
        cache.Clock = new FixedClock(Epoch);
        using var tp = XfsTransaction.Begin(mp, XfsIalloc.AllocateReservation(mp));
        var root = cache.GetInUse(tp, mp.Superblock.RootIno);
        var ip = XfsInodeAlloc.Create(tp, root, XfsDinode.TypeRegular | 0x1A4, 0, 0, 1);
        root.Join(tp);
        var dir = XfsDir2Shortform.ReadFrom(root.DataFork.Local, root.Core.Size, root.Ino);
        ushort offset = dir.Entries.Count == 0
            ? XfsDir2Shortform.FirstOffset
            : (ushort)(dir.Entries[^1].Offset + XfsDir2Shortform.DataEntrySize(dir.Entries[^1].Name.Length));
        dir.Entries.Add(new XfsDir2SfEntry(System.Text.Encoding.UTF8.GetBytes(name), offset, XfsDirFileType.RegularFile, ip.Ino));
        var bytes = new byte[root.DataForkSize];
        int size = dir.WriteTo(bytes);
        root.DataFork.Local = bytes[..size];
        root.Core.Size = (ulong)size;
        root.Log(tp);
        tp.Commit();
        return ip;
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
