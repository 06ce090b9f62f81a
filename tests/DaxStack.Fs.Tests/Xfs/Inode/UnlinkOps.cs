using System.Text;
using DaxStack.Fs.Xfs.Ialloc;
using DaxStack.Fs.Xfs.Inode;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Tests.Xfs.Inode;

/// <summary>
/// What the namespace code will do around the unlinked lists, as far as these tests need it:
/// nameless inodes, a name removed from the root's short-form directory together with the
/// link (xfs_remove's droplink), and views of the AGI lists and the space counters.
/// </summary>
internal static class UnlinkOps
{
    /// <summary>Creates <paramref name="count"/> nameless regular files with one link each (near <paramref name="parent"/>, the root by default).</summary>
    public static List<XfsInode> CreateInodes(XfsMount mp, int count, XfsInode? parent = null, ushort mode = XfsDinode.TypeRegular | 0x1A4)
    {
        var result = new List<XfsInode>();
        for (int i = 0; i < count; i++)
        {
            using var tp = XfsTransaction.Begin(mp, XfsIalloc.AllocateReservation(mp));
            parent ??= XfsInodeCache.For(mp).GetInUse(tp, mp.Superblock.RootIno);
            result.Add(XfsInodeAlloc.Create(tp, parent, mode, 0, 0, 1));
            tp.Commit();
        }
        return result;
    }

    /// <summary>Drops one link of <paramref name="ip"/> in a transaction of its own; returns its commit sequence.</summary>
    public static long DropLink(XfsMount mp, XfsInode ip)
    {
        using var tp = XfsTransaction.Begin(mp);
        XfsInactive.DropLink(tp, ip);
        tp.Commit();
        return tp.CommitSequence;
    }

    /// <summary>Removes <paramref name="name"/> (naming <paramref name="ip"/>) from the root directory and drops the link, in one transaction.</summary>
    public static long Unlink(XfsMount mp, string name, XfsInode ip)
    {
        using var tp = XfsTransaction.Begin(mp);
        var root = XfsInodeCache.For(mp).GetInUse(tp, mp.Superblock.RootIno);
        root.Join(tp);
        var dir = XfsDir2Shortform.ReadFrom(root.DataFork.Local, root.Core.Size, root.Ino);
        byte[] bytes = Encoding.UTF8.GetBytes(name);
        int removed = dir.Entries.RemoveAll(e => e.Ino == ip.Ino && e.Name.AsSpan().SequenceEqual(bytes));
        Assert.That(removed, Is.EqualTo(1), $"the root names {name} -> {ip.Ino}");
        var fork = new byte[root.DataForkSize];
        int size = dir.WriteTo(fork);
        root.DataFork.Local = fork[..size];
        root.Core.Size = (ulong)size;
        root.Log(tp);
        XfsInactive.DropLink(tp, ip);
        tp.Commit();
        return tp.CommitSequence;
    }

    /// <summary>The agi_unlinked heads of AG <paramref name="agno"/> as the transaction sees them.</summary>
    public static uint[] Heads(XfsMount mp, uint agno)
    {
        using var tp = XfsTransaction.Begin(mp);
        return XfsAgHeaders.ReadAgi(tp, agno).Unlinked;
    }

    /// <summary>Bucket <paramref name="bucket"/> of AG <paramref name="agno"/>, head first.</summary>
    public static IReadOnlyList<ulong> List(XfsMount mp, uint agno, int bucket)
    {
        using var tp = XfsTransaction.Begin(mp);
        return XfsIunlink.List(tp, agno, bucket);
    }

    /// <summary>Every inode on any unlinked list.</summary>
    public static IReadOnlyList<ulong> ListAll(XfsMount mp)
    {
        using var tp = XfsTransaction.Begin(mp);
        return XfsIunlink.ListAll(tp);
    }

    /// <summary>Whether the inode B+tree says <paramref name="ino"/> is allocated.</summary>
    public static bool IsAllocated(XfsMount mp, ulong ino)
    {
        using var tp = XfsTransaction.Begin(mp);
        return XfsIalloc.IsAllocated(tp, ino);
    }

    /// <summary>Free blocks, inodes and free inodes of the superblock.</summary>
    public static (ulong FdBlocks, ulong ICount, ulong IFree) Counters(XfsMount mp) =>
        (mp.Superblock.FdBlocks, mp.Superblock.ICount, mp.Superblock.IFree);

    /// <summary>Sets <paramref name="ip"/>'s di_next_unlinked to <paramref name="value"/> (damage for corruption tests).</summary>
    public static void SetNextUnlinked(XfsMount mp, XfsInode ip, uint value)
    {
        using var tp = XfsTransaction.Begin(mp);
        ip.Join(tp);
        ip.Core.NextUnlinked = value;
        ip.Log(tp);
        tp.Commit();
    }

    /// <summary>Sets agi_unlinked[<paramref name="bucket"/>] of AG <paramref name="agno"/> to <paramref name="value"/> (damage for corruption tests).</summary>
    public static void SetHead(XfsMount mp, uint agno, int bucket, uint value)
    {
        using var tp = XfsTransaction.Begin(mp);
        var agi = XfsAgHeaders.ReadAgi(tp, agno);
        agi.Unlinked[bucket] = value;
        XfsAgHeaders.WriteAgi(tp, agno, agi);
        tp.Commit();
    }

    /// <summary>Random bytes from <paramref name="seed"/>.</summary>
    public static byte[] Pattern(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }
}
