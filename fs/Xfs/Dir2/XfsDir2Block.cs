using DaxStack.Device.Errors;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Dir2;

/// <summary>
/// Operations on a single-block directory: lookup through the hash-ordered leaf at the end of the
/// block, add (reusing a stale leaf slot or compacting stale ones, taking the leaf's room from the
/// free region before the leaf), remove (the leaf entry goes stale), replace, and the conversions
/// from short-form, to short-form when the entries fit the inode again, and to leaf form when a
/// new entry does not fit.
/// </summary>
/// <remarks>Models the kernel's libxfs/xfs_dir2_block.c: <c>xfs_dir2_block_lookup_int</c>, <c>xfs_dir2_block_addname</c>, <c>xfs_dir2_block_compact</c>, <c>xfs_dir2_block_removename</c>, <c>xfs_dir2_block_replace</c>, <c>xfs_dir2_sf_to_block</c>, <c>xfs_dir2_block_sfsize</c>, <c>xfs_dir2_block_to_sf</c> and <c>xfs_dir2_block_to_leaf</c>.</remarks>
internal static class XfsDir2Block
{
    public static XfsDir2DataBlock Read(XfsDir2Args args)
    {
        var d = args.Data(0, blockForm: true);
        if (!d.IsBlockForm)
            throw new XfsCorruptionException(args.Name, "block directory's block 0 is not a block-form block");
        return d;
    }

    /// <summary>The leaf index and data entry index of <paramref name="name"/>, or (-1, -1).</summary>
    public static (int Leaf, int Entry) Find(XfsDir2Args args, XfsDir2DataBlock d, ReadOnlySpan<byte> name)
    {
        uint hash = XfsDaHash.HashName(name);
        int lo = 0, hi = d.Leaf.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >> 1;
            if (d.Leaf[mid].Hash < hash)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (int i = lo; i < d.Leaf.Count && d.Leaf[i].Hash == hash; i++)
        {
            var le = d.Leaf[i];
            if (le.IsStale)
                continue;
            if (XfsDir2Format.DataptrToDb(le.Address, args.Bs) != 0)
                throw new XfsCorruptionException(args.Name, $"block leaf entry {i} points outside the block (dataptr {le.Address})");
            int e = d.IndexOf(XfsDir2Format.DataptrToOffset(le.Address, args.Bs));
            if (e < 0)
                throw new XfsCorruptionException(args.Name, $"block leaf entry {i} points at no entry (dataptr {le.Address})");
            if (name.SequenceEqual(d.Entries[e].Name))
                return (i, e);
        }
        return (-1, -1);
    }

    public static XfsDirEntry? Lookup(XfsDir2Args args, ReadOnlySpan<byte> name)
    {
        var d = Read(args);
        var (_, e) = Find(args, d, name);
        if (e < 0)
            return null;
        var entry = d.Entries[e];
        return new XfsDirEntry(entry.Name, entry.Ino, entry.FileType, XfsDir2Format.Dataptr(0, entry.Offset, args.Bs));
    }

    /// <summary>xfs_dir2_sf_to_block: block 0 built from the short-form entries at their offsets.</summary>
    public static void FromShortform(XfsDir2Args args, XfsDir2Shortform sf)
    {
        var dp = args.Dp;
        args.Dp.SetExtents(args.Tp);
        var d = args.New(0, daddr => XfsDir2DataBlock.Create(args.Bs, blockForm: true, daddr, args.Uuid, dp.Ino));
        var entries = new List<XfsDir2DataEntry>
        {
            new(XfsDir2Format.DotOffset, dp.Ino, [(byte)'.'], XfsDirFileType.Directory),
            new(XfsDir2Format.DotDotOffset, sf.Parent, [(byte)'.', (byte)'.'], XfsDirFileType.Directory),
        };
        entries.AddRange(sf.Entries.Select(e => new XfsDir2DataEntry(e.Offset, e.Ino, e.Name, e.FileType)));
        var leaf = entries.Select(e => new XfsDir2LeafEntry(XfsDaHash.HashName(e.Name), XfsDir2Format.Dataptr(0, e.Offset, args.Bs))).OrderBy(l => l.Hash).ToList();
        d.Leaf.AddRange(leaf);
        foreach (var e in entries)
            d.Insert(e);
        args.Dp.SetSize(args.Tp, (ulong)args.Bs);
    }

    public static void AddName(XfsDir2Args args, byte[] name, ulong ino, XfsDirFileType ftype)
    {
        var d = Read(args);
        if (Find(args, d, name).Entry >= 0)
            throw new XfsException(Errno.EEXIST, $"{args.Name}: '{XfsDir2Sf.Text(name)}' exists");
        int len = XfsDir2Format.DataEntrySize(name.Length);
        uint hash = XfsDaHash.HashName(name);
        int stale = d.Stale;
        if (stale > 0 && d.LongestFree >= len)
        {
            // Room for the data without touching the leaf: reuse a stale leaf slot.
            int offset = d.BestFree()[0].Offset;
            d.Leaf.RemoveAt(d.Leaf.FindIndex(l => l.IsStale));
            PlaceEntry(args, d, new XfsDir2DataEntry(offset, ino, name, ftype), hash);
            return;
        }
        var saved = d.Leaf.ToList();
        if (stale > 0)
            d.Leaf.RemoveAll(l => l.IsStale);
        var free = d.FreeRegions();
        XfsDir2DataFree? end = free.Count > 0 && free[^1].End == d.DataEnd ? free[^1] : null;
        XfsDir2DataFree? use = null;
        if (end is { } last)
        {
            var best = d.BestFree();
            if (best[0] == last)
            {
                if (last.Length >= len + XfsDir2Format.LeafEntrySize)
                    use = last;
                else if (best[1].Length >= len)
                    use = best[1];
            }
            else if (best[0].Length >= len)
            {
                use = best[0];
            }
        }
        if (use is not { } region)
        {
            // No room for the entry and one more leaf entry: the leaf moves to its own block.
            d.Leaf.Clear();
            d.Leaf.AddRange(saved);
            ToLeaf(args, d);
            XfsDir2Leaf.AddName(args, name, ino, ftype);
            return;
        }
        PlaceEntry(args, d, new XfsDir2DataEntry(region.Offset, ino, name, ftype), hash);
    }

    private static void PlaceEntry(XfsDir2Args args, XfsDir2DataBlock d, XfsDir2DataEntry entry, uint hash)
    {
        var le = new XfsDir2LeafEntry(hash, XfsDir2Format.Dataptr(0, entry.Offset, args.Bs));
        int i = 0;
        while (i < d.Leaf.Count && d.Leaf[i].Hash <= hash)
            i++;
        d.Leaf.Insert(i, le);
        d.Insert(entry);
        args.Dirty(0);
    }

    public static void RemoveName(XfsDir2Args args, ReadOnlySpan<byte> name)
    {
        var d = Read(args);
        var (li, e) = Find(args, d, name);
        if (e < 0)
            throw new XfsException(Errno.ENOENT, $"{args.Name}: no entry '{XfsDir2Sf.Text(name)}'");
        d.Entries.RemoveAt(e);
        d.Leaf[li] = d.Leaf[li] with { Address = XfsDir2Format.NullDataptr };
        args.Dirty(0);
        TryToShortform(args, d);
    }

    public static void Replace(XfsDir2Args args, byte[] name, ulong ino, XfsDirFileType ftype)
    {
        var d = Read(args);
        var (_, e) = Find(args, d, name);
        if (e < 0)
            throw new XfsException(Errno.ENOENT, $"{args.Name}: no entry '{XfsDir2Sf.Text(name)}'");
        d.Entries[e] = d.Entries[e] with { Ino = ino, FileType = ftype };
        args.Dirty(0);
    }

    /// <summary>The short-form equivalent of block <paramref name="d"/> (entries but "." and "..").</summary>
    public static XfsDir2Shortform ToShortformModel(XfsDir2Args args, XfsDir2DataBlock d)
    {
        var sf = new XfsDir2Shortform();
        bool parentSeen = false;
        foreach (var e in d.Entries)
        {
            if (e.Name is [(byte)'.'])
                continue;
            if (e.Name is [(byte)'.', (byte)'.'])
            {
                sf.Parent = e.Ino;
                parentSeen = true;
                continue;
            }
            sf.Entries.Add(new XfsDir2SfEntry(e.Name, (ushort)e.Offset, e.FileType, e.Ino));
        }
        if (!parentSeen)
            throw new XfsCorruptionException(args.Name, "block 0 has no '..' entry");
        return sf;
    }

    /// <summary>xfs_dir2_block_to_sf when xfs_dir2_block_sfsize fits the inode.</summary>
    public static bool TryToShortform(XfsDir2Args args, XfsDir2DataBlock d)
    {
        var sf = ToShortformModel(args, d);
        if (sf.Entries.Count > byte.MaxValue || sf.ByteCount > args.Dp.LocalCapacity)
            return false;
        args.Release(0);
        XfsDir2Sf.Write(args, sf);
        return true;
    }

    /// <summary>xfs_dir2_block_to_leaf: block 0 becomes a data block and the leaf moves to the leaf block.</summary>
    public static void ToLeaf(XfsDir2Args args, XfsDir2DataBlock d)
    {
        var leaf = args.New(args.LeafBlk, daddr => XfsDir2LeafBlock.Create(args.Bs, leafN: false, daddr, args.Uuid, args.Dp.Ino));
        leaf.Entries.AddRange(d.Leaf);
        d.Leaf.Clear();
        d.IsBlockForm = false;
        leaf.Bests.Add((ushort)d.LongestFree);
        args.Dirty(0);
    }
}
