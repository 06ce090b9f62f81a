using DaxStack.Device.Errors;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Dir2;

/// <summary>
/// Operations on a leaf directory (data blocks plus one LEAF1 block whose tail keeps every data
/// block's longest free region): lookup by hash, add (into the last data block with room, or a
/// new one at the first hole), remove (stale leaf entry, empty data blocks other than the first
/// freed and the bests table trimmed), replace, and the conversions to block form when the leaf
/// fits at the end of the only data block and to node form when the leaf block is full.
/// </summary>
/// <remarks>Models the kernel's libxfs/xfs_dir2_leaf.c: <c>xfs_dir2_leaf_lookup_int</c>, <c>xfs_dir2_leaf_addname</c>, <c>xfs_dir3_leaf_compact</c>, <c>xfs_dir2_leaf_removename</c>, <c>xfs_dir2_leaf_replace</c>, <c>xfs_dir2_leaf_to_block</c>, <c>xfs_dir2_leaf_to_node</c> and <c>xfs_dir3_data_init</c>.</remarks>
internal static class XfsDir2Leaf
{
    /// <summary>A name found: the leaf entry index, its data block and the entry index there.</summary>
    public readonly record struct Found(int LeafIndex, ulong Db, XfsDir2DataBlock Data, int EntryIndex);

    public static XfsDir2LeafBlock Read(XfsDir2Args args)
    {
        var leaf = args.Leaf1();
        if (leaf.IsLeafN)
            throw new XfsCorruptionException(args.Name, "leaf directory's leaf block is a LEAFN block");
        return leaf;
    }

    /// <summary>Finds <paramref name="name"/> among the entries of <paramref name="leaf"/> from index <paramref name="start"/> that have its hash.</summary>
    public static Found? FindIn(XfsDir2Args args, XfsDir2LeafBlock leaf, int start, uint hash, ReadOnlySpan<byte> name, out int stoppedAt)
    {
        int i = start;
        for (; i < leaf.Entries.Count && leaf.Entries[i].Hash == hash; i++)
        {
            var le = leaf.Entries[i];
            if (le.IsStale)
                continue;
            ulong db = XfsDir2Format.DataptrToDb(le.Address, args.Bs);
            if (db >= args.LeafBlk)
                throw new XfsCorruptionException(args.Name, $"leaf entry {i} points outside the data space (dataptr {le.Address})");
            var d = args.Data(db);
            int e = d.IndexOf(XfsDir2Format.DataptrToOffset(le.Address, args.Bs));
            if (e < 0)
                throw new XfsCorruptionException(args.Name, $"leaf entry {i} points at no entry (dataptr {le.Address})");
            if (name.SequenceEqual(d.Entries[e].Name))
            {
                stoppedAt = i;
                return new Found(i, db, d, e);
            }
        }
        stoppedAt = i;
        return null;
    }

    public static XfsDirEntry? Lookup(XfsDir2Args args, ReadOnlySpan<byte> name)
    {
        var leaf = Read(args);
        uint hash = XfsDaHash.HashName(name);
        if (FindIn(args, leaf, leaf.LowerBound(hash), hash, name, out _) is not { } f)
            return null;
        var e = f.Data.Entries[f.EntryIndex];
        return new XfsDirEntry(e.Name, e.Ino, e.FileType, XfsDir2Format.Dataptr(f.Db, e.Offset, args.Bs));
    }

    public static void AddName(XfsDir2Args args, byte[] name, ulong ino, XfsDirFileType ftype)
    {
        var leaf = Read(args);
        uint hash = XfsDaHash.HashName(name);
        if (FindIn(args, leaf, leaf.LowerBound(hash), hash, name, out _) is not null)
            throw new XfsException(Errno.EEXIST, $"{args.Name}: '{XfsDir2Sf.Text(name)}' exists");
        int len = XfsDir2Format.DataEntrySize(name.Length);
        int useDb = -1;
        for (int i = leaf.Bests.Count - 1; i >= 0; i--)
        {
            if (leaf.Bests[i] != XfsDir2Format.NullDataOff && leaf.Bests[i] >= len)
            {
                useDb = i;
                break;
            }
        }
        ulong newDb = useDb < 0 ? FirstHole(args, leaf.Bests, 0) : 0;
        int bestsAfter = useDb < 0 ? Math.Max(leaf.Bests.Count, (int)newDb + 1) : leaf.Bests.Count;
        int room = (args.Bs - XfsDir2Format.DaHeaderSize - XfsDir2Format.LeafTailSize - (2 * bestsAfter)) / XfsDir2Format.LeafEntrySize;
        if (leaf.Entries.Count + 1 > room)
        {
            if (leaf.Entries.Count - leaf.Stale + 1 > room)
            {
                ToNode(args, leaf);
                XfsDir2Node.AddName(args, name, ino, ftype);
                return;
            }
            leaf.Compact();
        }
        ulong db;
        XfsDir2DataBlock d;
        if (useDb < 0)
        {
            db = newDb;
            d = NewDataBlock(args, db);
            while (leaf.Bests.Count <= (int)db)
                leaf.Bests.Add(XfsDir2Format.NullDataOff);
        }
        else
        {
            db = (ulong)useDb;
            d = args.Data(db);
        }
        if (d.LongestFree < len)
            throw new XfsCorruptionException(args.Name, $"the bests table says data block {db} has {leaf.Bests[(int)db]} free bytes, it has {d.LongestFree}");
        int offset = d.BestFree()[0].Offset;
        d.Insert(new XfsDir2DataEntry(offset, ino, name, ftype));
        args.Dirty(db);
        leaf.Bests[(int)db] = (ushort)d.LongestFree;
        leaf.Insert(new XfsDir2LeafEntry(hash, XfsDir2Format.Dataptr(db, offset, args.Bs)));
        args.Dirty(args.LeafBlk);
    }

    /// <summary>
    /// The first data block that is a hole, from a bests table starting at data block
    /// <paramref name="firstDb"/>: its first NULLDATAOFF slot, or the block after its end. A hole
    /// the table names must really be unmapped.
    /// </summary>
    public static ulong FirstHole(XfsDir2Args args, IReadOnlyList<ushort> bests, int firstDb)
    {
        int i = 0;
        while (i < bests.Count && bests[i] != XfsDir2Format.NullDataOff)
            i++;
        ulong db = (ulong)(firstDb + i);
        if (args.IsMapped(db))
            throw new XfsCorruptionException(args.Name, $"the bests table has no data block {db}, but it is mapped");
        return db;
    }

    /// <summary>xfs_dir3_data_init at data block <paramref name="db"/>, growing di_size over it.</summary>
    public static XfsDir2DataBlock NewDataBlock(XfsDir2Args args, ulong db)
    {
        var d = args.New(db, daddr => XfsDir2DataBlock.Create(args.Bs, blockForm: false, daddr, args.Uuid, args.Dp.Ino));
        ulong end = (db + 1) * (ulong)args.Bs;
        if (end > args.Dp.Size)
            args.Dp.SetSize(args.Tp, end);
        return d;
    }

    /// <summary>After data block <paramref name="db"/> was freed: di_size ends at the last data block left.</summary>
    public static void ShrinkSize(XfsDir2Args args, ulong db)
    {
        if (args.Dp.Size > (db + 1) * (ulong)args.Bs)
            return;
        ulong? last = args.LastDataBlock();
        args.Dp.SetSize(args.Tp, last is ulong l ? (l + 1) * (ulong)args.Bs : 0);
    }

    public static void RemoveName(XfsDir2Args args, ReadOnlySpan<byte> name)
    {
        var leaf = Read(args);
        uint hash = XfsDaHash.HashName(name);
        if (FindIn(args, leaf, leaf.LowerBound(hash), hash, name, out _) is not { } f)
            throw new XfsException(Errno.ENOENT, $"{args.Name}: no entry '{XfsDir2Sf.Text(name)}'");
        var d = f.Data;
        d.Entries.RemoveAt(f.EntryIndex);
        leaf.Entries[f.LeafIndex] = leaf.Entries[f.LeafIndex] with { Address = XfsDir2Format.NullDataptr };
        args.Dirty(args.LeafBlk);
        if ((int)f.Db >= leaf.Bests.Count)
            throw new XfsCorruptionException(args.Name, $"data block {f.Db} has no bests entry ({leaf.Bests.Count} entries)");
        if (d.Entries.Count == 0 && f.Db != 0)
        {
            args.Release(f.Db);
            leaf.Bests[(int)f.Db] = XfsDir2Format.NullDataOff;
            while (leaf.Bests.Count > 0 && leaf.Bests[^1] == XfsDir2Format.NullDataOff)
                leaf.Bests.RemoveAt(leaf.Bests.Count - 1);
            ShrinkSize(args, f.Db);
        }
        else
        {
            leaf.Bests[(int)f.Db] = (ushort)d.LongestFree;
            args.Dirty(f.Db);
        }
        TryToBlock(args, leaf);
    }

    public static void Replace(XfsDir2Args args, ReadOnlySpan<byte> name, ulong ino, XfsDirFileType ftype)
    {
        var leaf = Read(args);
        uint hash = XfsDaHash.HashName(name);
        if (FindIn(args, leaf, leaf.LowerBound(hash), hash, name, out _) is not { } f)
            throw new XfsException(Errno.ENOENT, $"{args.Name}: no entry '{XfsDir2Sf.Text(name)}'");
        f.Data.Entries[f.EntryIndex] = f.Data.Entries[f.EntryIndex] with { Ino = ino, FileType = ftype };
        args.Dirty(f.Db);
    }

    /// <summary>
    /// xfs_dir2_leaf_to_block: with data block 0 the only one and room in its trailing free region
    /// for the live leaf entries and the tail, the leaf moves back into it; then to short-form if
    /// the entries fit the inode.
    /// </summary>
    public static bool TryToBlock(XfsDir2Args args, XfsDir2LeafBlock leaf)
    {
        if (leaf.Bests.Count != 1)
            return false;
        var d = args.Data(0);
        var free = d.FreeRegions();
        int live = leaf.Entries.Count - leaf.Stale;
        int need = (live * XfsDir2Format.LeafEntrySize) + XfsDir2Format.BlockTailSize;
        if (free.Count == 0 || free[^1].End != args.Bs || free[^1].Length < need)
            return false;
        d.IsBlockForm = true;
        d.Leaf.AddRange(leaf.Entries.Where(l => !l.IsStale));
        args.Dirty(0);
        args.Release(args.LeafBlk);
        XfsDir2Block.TryToShortform(args, d);
        return true;
    }

    /// <summary>xfs_dir2_leaf_to_node: the bests move to a new free-index block and the leaf becomes a LEAFN.</summary>
    public static void ToNode(XfsDir2Args args, XfsDir2LeafBlock leaf)
    {
        var free = args.New(args.FreeBlk, daddr => XfsDir2FreeBlock.Create(args.Bs, 0, daddr, args.Uuid, args.Dp.Ino));
        free.Bests.AddRange(leaf.Bests);
        leaf.Bests.Clear();
        leaf.IsLeafN = true;
        args.Dirty(args.LeafBlk);
    }
}
