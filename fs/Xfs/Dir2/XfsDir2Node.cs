using DaxStack.Device.Errors;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Dir2;

/// <summary>
/// Operations on a node directory: data blocks, a dabtree of LEAFN leaves under interior nodes
/// rooted at the leaf block, and free-index blocks keeping every data block's longest free region.
/// Adding splits full leaves and nodes (the root stays at the leaf block, so a root split copies
/// the root to a new block), removing joins a leaf or node that is at most half full with a
/// sibling under the same parent when both fit three quarters of a block, drops empty ones,
/// collapses a one-child root, frees empty data and free-index blocks, and turns the directory
/// back into a leaf directory when one leaf and one free-index block fit a LEAF1 block.
/// </summary>
/// <remarks>Models the kernel's libxfs/xfs_dir2_node.c and xfs_da_btree.c: <c>xfs_dir2_node_lookup</c>, <c>xfs_dir2_node_addname</c> (<c>xfs_dir2_node_find_freeblk</c>, <c>xfs_dir2_node_add_datablk</c>), <c>xfs_dir2_leafn_add</c>, <c>xfs_dir2_leafn_split</c>, <c>xfs_da3_split</c>, <c>xfs_da3_root_split</c>, <c>xfs_da3_node_split</c>, <c>xfs_dir2_node_removename</c>, <c>xfs_dir2_leafn_remove</c>, <c>xfs_dir3_data_block_free</c>, <c>xfs_da3_join</c>, <c>xfs_dir2_leafn_toosmall</c>, <c>xfs_da3_root_join</c>, <c>xfs_da3_fixhashpath</c> and <c>xfs_dir2_node_to_leaf</c>.</remarks>
internal static class XfsDir2Node
{
    private readonly record struct Step(ulong Dablk, XfsDa3NodeBlock Node, int Index);

    private readonly record struct Hit(ulong LeafDablk, XfsDir2LeafBlock Leaf, XfsDir2Leaf.Found Found);

    private static List<Step> Descend(XfsDir2Args args, uint hash, out ulong leafDablk, out XfsDir2LeafBlock leaf)
    {
        var path = new List<Step>();
        ulong dablk = args.LeafBlk;
        int expect = -1;
        for (int depth = 0; ; depth++)
        {
            if (depth > XfsDir2Format.MaxDepth)
                throw new XfsCorruptionException(args.Name, $"dabtree deeper than {XfsDir2Format.MaxDepth} levels");
            var blk = args.Da(dablk);
            if (blk is XfsDir2LeafBlock l)
            {
                if (!l.IsLeafN || expect > 0)
                    throw new XfsCorruptionException(args.Name, $"dabtree block {dablk} is a leaf where a level {expect} node belongs");
                leafDablk = dablk;
                leaf = l;
                return path;
            }
            var node = (XfsDa3NodeBlock)blk;
            if (expect == 0 || (expect > 0 && node.Level != expect))
                throw XfsCorruptionException.BadField(args.Name, $"dabtree block {dablk} level", node.Level, $"expected {expect}");
            int idx = node.ChildFor(hash);
            path.Add(new Step(dablk, node, idx));
            expect = node.Level - 1;
            dablk = node.Entries[idx].Before;
            if (dablk <= args.LeafBlk || dablk >= args.FreeBlk)
                throw XfsCorruptionException.BadField(args.Name, $"dabtree block {path[^1].Dablk} child", dablk, "outside the leaf space");
        }
    }

    private static Hit? Find(XfsDir2Args args, ReadOnlySpan<byte> name, uint hash)
    {
        Descend(args, hash, out ulong dablk, out var leaf);
        int start = leaf.LowerBound(hash);
        var seen = new HashSet<ulong>();
        while (seen.Add(dablk))
        {
            if (XfsDir2Leaf.FindIn(args, leaf, start, hash, name, out int stopped) is { } f)
                return new Hit(dablk, leaf, f);
            // Names of one hash may continue in the next leaf.
            if (stopped < leaf.Entries.Count || leaf.Forw == 0)
                return null;
            dablk = leaf.Forw;
            if (args.Da(dablk) is not XfsDir2LeafBlock next || !next.IsLeafN)
                throw new XfsCorruptionException(args.Name, $"leaf forward link {dablk} is not a LEAFN block");
            leaf = next;
            start = 0;
        }
        throw new XfsCorruptionException(args.Name, $"leaf sibling links loop at block {dablk}");
    }

    public static XfsDirEntry? Lookup(XfsDir2Args args, ReadOnlySpan<byte> name)
    {
        if (Find(args, name, XfsDaHash.HashName(name)) is not { } hit)
            return null;
        var e = hit.Found.Data.Entries[hit.Found.EntryIndex];
        return new XfsDirEntry(e.Name, e.Ino, e.FileType, XfsDir2Format.Dataptr(hit.Found.Db, e.Offset, args.Bs));
    }

    public static void Replace(XfsDir2Args args, ReadOnlySpan<byte> name, ulong ino, XfsDirFileType ftype)
    {
        if (Find(args, name, XfsDaHash.HashName(name)) is not { } hit)
            throw new XfsException(Errno.ENOENT, $"{args.Name}: no entry '{XfsDir2Sf.Text(name)}'");
        var f = hit.Found;
        f.Data.Entries[f.EntryIndex] = f.Data.Entries[f.EntryIndex] with { Ino = ino, FileType = ftype };
        args.Dirty(f.Db);
    }

    /// <summary>The first data block that is a hole, found through the free-index blocks (xfs_dir2_node_add_datablk's xfs_dir2_grow_inode).</summary>
    private static ulong FirstDataHole(XfsDir2Args args)
    {
        for (ulong fi = 0; ; fi++)
        {
            ulong fdb = args.FreeBlk + fi;
            if (!args.IsMapped(fdb))
            {
                // No free-index block: none of its data blocks exists, so its first is a hole.
                ulong db = fi * (ulong)args.MaxBests;
                if (db >= args.LeafBlk)
                    throw new XfsException(Errno.ENOSPC, $"{args.Name}: the data space is full");
                if (args.IsMapped(db))
                    throw new XfsCorruptionException(args.Name, $"data block {db} is mapped but has no free-index block {fdb}");
                return db;
            }
            var free = args.Free(fdb);
            if (free.Bests.Count < args.MaxBests || free.Bests.Contains(XfsDir2Format.NullDataOff))
                return XfsDir2Leaf.FirstHole(args, free.Bests, free.FirstDb);
        }
    }

    private static XfsDir2FreeBlock FreeFor(XfsDir2Args args, ulong db, bool create, out ulong fdb)
    {
        ulong fi = db / (ulong)args.MaxBests;
        fdb = args.FreeBlk + fi;
        int firstDb = (int)(fi * (ulong)args.MaxBests);
        if (args.IsMapped(fdb))
        {
            var free = args.Free(fdb);
            if (free.FirstDb != firstDb)
                throw XfsCorruptionException.BadField(args.Name, $"free block {fdb} firstdb", free.FirstDb, $"expected {firstDb}");
            return free;
        }
        if (!create)
            throw new XfsCorruptionException(args.Name, $"data block {db} has no free-index block {fdb}");
        return args.New(fdb, daddr => XfsDir2FreeBlock.Create(args.Bs, firstDb, daddr, args.Uuid, args.Dp.Ino));
    }

    public static void AddName(XfsDir2Args args, byte[] name, ulong ino, XfsDirFileType ftype)
    {
        uint hash = XfsDaHash.HashName(name);
        if (Find(args, name, hash) is not null)
            throw new XfsException(Errno.EEXIST, $"{args.Name}: '{XfsDir2Sf.Text(name)}' exists");
        int len = XfsDir2Format.DataEntrySize(name.Length);
        ulong? useDb = null;
        ulong from = args.FreeBlk;
        while (useDb == null && args.Dp.NextMappedBlock(args.Tp, from) is ulong fdb)
        {
            var free = args.Free(fdb);
            for (int i = 0; i < free.Bests.Count; i++)
            {
                if (free.Bests[i] != XfsDir2Format.NullDataOff && free.Bests[i] >= len)
                {
                    useDb = (ulong)(free.FirstDb + i);
                    break;
                }
            }
            from = fdb + 1;
        }
        ulong db;
        XfsDir2DataBlock d;
        if (useDb is ulong found)
        {
            db = found;
            d = args.Data(db);
        }
        else
        {
            db = FirstDataHole(args);
            d = XfsDir2Leaf.NewDataBlock(args, db);
        }
        var fb = FreeFor(args, db, create: useDb == null, out ulong freeDablk);
        int slot = (int)db - fb.FirstDb;
        while (fb.Bests.Count <= slot)
            fb.Bests.Add(XfsDir2Format.NullDataOff);
        int offset = d.BestFree()[0].Offset;
        if (d.LongestFree < len)
            throw new XfsCorruptionException(args.Name, $"free index says data block {db} has {fb.Bests[slot]} free bytes, it has {d.LongestFree}");
        d.Insert(new XfsDir2DataEntry(offset, ino, name, ftype));
        args.Dirty(db);
        fb.Bests[slot] = (ushort)d.LongestFree;
        args.Dirty(freeDablk);
        InsertLeafEntry(args, new XfsDir2LeafEntry(hash, XfsDir2Format.Dataptr(db, offset, args.Bs)));
    }

    private static void InsertLeafEntry(XfsDir2Args args, XfsDir2LeafEntry entry)
    {
        var path = Descend(args, entry.Hash, out ulong dablk, out var leaf);
        int cap = XfsDir2Format.LeafNMaxEntries(args.Bs);
        if (leaf.Entries.Count >= cap && leaf.Stale > 0)
            leaf.Compact();
        leaf.Insert(entry);
        args.Dirty(dablk);
        if (leaf.Entries.Count <= cap)
        {
            FixHashes(args, path, leaf.LastHash);
            return;
        }
        Split(args, path, dablk, leaf);
    }

    private static uint LastHash(object b) => b is XfsDir2LeafBlock l ? l.LastHash : ((XfsDa3NodeBlock)b).Entries[^1].Hash;

    private static uint Forw(object b) => b is XfsDir2LeafBlock l ? l.Forw : ((XfsDa3NodeBlock)b).Forw;

    private static uint Back(object b) => b is XfsDir2LeafBlock l ? l.Back : ((XfsDa3NodeBlock)b).Back;

    private static void SetForw(object b, uint v)
    {
        if (b is XfsDir2LeafBlock l)
            l.Forw = v;
        else
            ((XfsDa3NodeBlock)b).Forw = v;
    }

    private static void SetBack(object b, uint v)
    {
        if (b is XfsDir2LeafBlock l)
            l.Back = v;
        else
            ((XfsDa3NodeBlock)b).Back = v;
    }

    private static int Live(object b) => b is XfsDir2LeafBlock l ? l.Entries.Count - l.Stale : ((XfsDa3NodeBlock)b).Entries.Count;

    private static int Capacity(XfsDir2Args args, object b) =>
        b is XfsDir2LeafBlock ? XfsDir2Format.LeafNMaxEntries(args.Bs) : XfsDir2Format.NodeMaxEntries(args.Bs);

    /// <summary>A new block like <paramref name="b"/> at <paramref name="daddr"/> holding the entries from <paramref name="from"/> on (moved out of <paramref name="b"/>), or all of them as a copy when <paramref name="from"/> is 0 and <paramref name="move"/> is false.</summary>
    private static object Carve(XfsDir2Args args, object b, ulong daddr, int from, bool move)
    {
        if (b is XfsDir2LeafBlock l)
        {
            var n = XfsDir2LeafBlock.Create(args.Bs, leafN: true, daddr, args.Uuid, args.Dp.Ino);
            n.Entries.AddRange(l.Entries.Skip(from));
            if (move)
                l.Entries.RemoveRange(from, l.Entries.Count - from);
            return n;
        }
        var node = (XfsDa3NodeBlock)b;
        var c = XfsDa3NodeBlock.Create(args.Bs, node.Level, daddr, args.Uuid, args.Dp.Ino);
        c.Entries.AddRange(node.Entries.Skip(from));
        if (move)
            node.Entries.RemoveRange(from, node.Entries.Count - from);
        return c;
    }

    private static void Split(XfsDir2Args args, List<Step> path, ulong dablk, object blk)
    {
        int count = blk is XfsDir2LeafBlock l ? l.Entries.Count : ((XfsDa3NodeBlock)blk).Entries.Count;
        ulong rightDablk = args.FirstHole(args.LeafBlk + 1, args.FreeBlk);
        var right = args.New(rightDablk, daddr => Carve(args, blk, daddr, count / 2, move: true));
        uint oldForw = Forw(blk);
        SetForw(right, oldForw);
        SetBack(right, (uint)dablk);
        if (oldForw != 0)
        {
            SetBack(args.Da(oldForw), (uint)rightDablk);
            args.Dirty(oldForw);
        }
        SetForw(blk, (uint)rightDablk);
        args.Dirty(dablk);
        if (path.Count == 0)
        {
            // The root stays at the leaf block: its lower half moves to a new block as well.
            ulong leftDablk = args.FirstHole(args.LeafBlk + 1, args.FreeBlk);
            var left = args.New(leftDablk, daddr => Carve(args, blk, daddr, 0, move: false));
            SetForw(left, (uint)rightDablk);
            SetBack(left, 0);
            SetBack(right, (uint)leftDablk);
            int level = blk is XfsDa3NodeBlock n ? n.Level + 1 : 1;
            if (level > XfsDir2Format.MaxDepth)
                throw new XfsException(Errno.ENOSPC, $"{args.Name}: the dabtree would grow past {XfsDir2Format.MaxDepth} levels");
            var root = XfsDa3NodeBlock.Create(args.Bs, level, args.DaddrOf(args.LeafBlk), args.Uuid, args.Dp.Ino);
            root.Entries.Add(new XfsDa3NodeEntry(LastHash(left), (uint)leftDablk));
            root.Entries.Add(new XfsDa3NodeEntry(LastHash(right), (uint)rightDablk));
            args.Replace(args.LeafBlk, root);
            return;
        }
        var step = path[^1];
        var parent = step.Node;
        parent.Entries[step.Index] = new XfsDa3NodeEntry(LastHash(blk), (uint)dablk);
        parent.Entries.Insert(step.Index + 1, new XfsDa3NodeEntry(LastHash(right), (uint)rightDablk));
        args.Dirty(step.Dablk);
        var up = path.GetRange(0, path.Count - 1);
        if (parent.Entries.Count <= parent.Capacity)
        {
            FixHashes(args, up, parent.Entries[^1].Hash);
            return;
        }
        Split(args, up, step.Dablk, parent);
    }

    /// <summary>Makes every node on <paramref name="path"/> carry its child's last hash (xfs_da3_fixhashpath).</summary>
    private static void FixHashes(XfsDir2Args args, List<Step> path, uint childLast)
    {
        for (int k = path.Count - 1; k >= 0; k--)
        {
            var step = path[k];
            var e = step.Node.Entries[step.Index];
            if (e.Hash != childLast)
            {
                step.Node.Entries[step.Index] = e with { Hash = childLast };
                args.Dirty(step.Dablk);
            }
            childLast = step.Node.Entries[^1].Hash;
        }
    }

    private static bool PathTo(XfsDir2Args args, ulong dablk, uint hash, ulong target, List<Step> path, int depth)
    {
        if (depth > XfsDir2Format.MaxDepth)
            throw new XfsCorruptionException(args.Name, $"dabtree deeper than {XfsDir2Format.MaxDepth} levels");
        if (args.Da(dablk) is not XfsDa3NodeBlock node)
            return dablk == target;
        for (int j = node.ChildFor(hash); j < node.Entries.Count; j++)
        {
            path.Add(new Step(dablk, node, j));
            if (PathTo(args, node.Entries[j].Before, hash, target, path, depth + 1))
                return true;
            path.RemoveAt(path.Count - 1);
            if (node.Entries[j].Hash > hash)
                break;
        }
        return false;
    }

    public static void RemoveName(XfsDir2Args args, ReadOnlySpan<byte> name)
    {
        uint hash = XfsDaHash.HashName(name);
        if (Find(args, name, hash) is not { } hit)
            throw new XfsException(Errno.ENOENT, $"{args.Name}: no entry '{XfsDir2Sf.Text(name)}'");
        var f = hit.Found;
        var leaf = hit.Leaf;
        f.Data.Entries.RemoveAt(f.EntryIndex);
        leaf.Entries[f.LeafIndex] = leaf.Entries[f.LeafIndex] with { Address = XfsDir2Format.NullDataptr };
        args.Dirty(hit.LeafDablk);
        var fb = FreeFor(args, f.Db, create: false, out ulong fdb);
        int slot = (int)f.Db - fb.FirstDb;
        if (slot >= fb.Bests.Count)
            throw new XfsCorruptionException(args.Name, $"data block {f.Db} is beyond free block {fdb}'s {fb.Bests.Count} bests");
        if (f.Data.Entries.Count == 0)
        {
            args.Release(f.Db);
            fb.Bests[slot] = XfsDir2Format.NullDataOff;
            while (fb.Bests.Count > 0 && fb.Bests[^1] == XfsDir2Format.NullDataOff)
                fb.Bests.RemoveAt(fb.Bests.Count - 1);
            if (fb.NUsed == 0)
                args.Release(fdb);
            else
                args.Dirty(fdb);
            XfsDir2Leaf.ShrinkSize(args, f.Db);
        }
        else
        {
            fb.Bests[slot] = (ushort)f.Data.LongestFree;
            args.Dirty(f.Db);
            args.Dirty(fdb);
        }
        if (hit.LeafDablk != args.LeafBlk)
        {
            var path = new List<Step>();
            if (!PathTo(args, args.LeafBlk, hash, hit.LeafDablk, path, 0))
                throw new XfsCorruptionException(args.Name, $"leaf block {hit.LeafDablk} is not reachable from the dabtree root for hash 0x{hash:x}");
            JoinIfSmall(args, path, hit.LeafDablk, leaf);
        }
        RootJoin(args);
        TryToLeaf(args);
    }

    private static void JoinIfSmall(XfsDir2Args args, List<Step> path, ulong dablk, object blk)
    {
        int live = Live(blk);
        if (live == 0)
        {
            RemoveChild(args, path, dablk, blk);
            return;
        }
        int cap = Capacity(args, blk);
        if (live * 2 > cap || path.Count == 0)
            return;
        var step = path[^1];
        var parent = step.Node;
        foreach (int j in new[] { step.Index + 1, step.Index - 1 })
        {
            if (j < 0 || j >= parent.Entries.Count)
                continue;
            ulong sibDablk = parent.Entries[j].Before;
            var sib = args.Da(sibDablk);
            if (sib.GetType() != blk.GetType() || Live(sib) + live > cap * 3 / 4)
                continue;
            bool sibIsRight = j > step.Index;
            var (leftDablk, left, rightDablk, right) = sibIsRight ? (dablk, blk, sibDablk, sib) : (sibDablk, sib, dablk, blk);
            if (left is XfsDir2LeafBlock ll && right is XfsDir2LeafBlock rl)
            {
                ll.Compact();
                rl.Compact();
                ll.Entries.AddRange(rl.Entries);
                rl.Entries.Clear();
            }
            else
            {
                var ln = (XfsDa3NodeBlock)left;
                var rn = (XfsDa3NodeBlock)right;
                ln.Entries.AddRange(rn.Entries);
                rn.Entries.Clear();
            }
            args.Dirty(leftDablk);
            int leftIndex = Math.Min(j, step.Index);
            parent.Entries[leftIndex] = new XfsDa3NodeEntry(LastHash(left), (uint)leftDablk);
            args.Dirty(step.Dablk);
            var toRight = new List<Step>(path.GetRange(0, path.Count - 1)) { new(step.Dablk, parent, leftIndex + 1) };
            RemoveChild(args, toRight, rightDablk, right);
            return;
        }
    }

    private static void RemoveChild(XfsDir2Args args, List<Step> path, ulong dablk, object blk)
    {
        uint back = Back(blk), forw = Forw(blk);
        if (back != 0)
        {
            SetForw(args.Da(back), forw);
            args.Dirty(back);
        }
        if (forw != 0)
        {
            SetBack(args.Da(forw), back);
            args.Dirty(forw);
        }
        args.Release(dablk);
        var step = path[^1];
        var parent = step.Node;
        parent.Entries.RemoveAt(step.Index);
        args.Dirty(step.Dablk);
        var up = path.GetRange(0, path.Count - 1);
        if (parent.Entries.Count == 0)
        {
            if (up.Count == 0)
                throw new XfsCorruptionException(args.Name, "the dabtree root lost its last child");
            RemoveChild(args, up, step.Dablk, parent);
            return;
        }
        FixHashes(args, up, parent.Entries[^1].Hash);
        if (up.Count > 0)
            JoinIfSmall(args, up, step.Dablk, parent);
    }

    /// <summary>xfs_da3_root_join: a root node with one child takes the child's place.</summary>
    private static void RootJoin(XfsDir2Args args)
    {
        while (args.Da(args.LeafBlk) is XfsDa3NodeBlock root && root.Entries.Count == 1)
        {
            ulong childDablk = root.Entries[0].Before;
            var child = args.Da(childDablk);
            var copy = Carve(args, child, args.DaddrOf(args.LeafBlk), 0, move: false);
            SetForw(copy, 0);
            SetBack(copy, 0);
            args.Replace(args.LeafBlk, copy);
            args.Release(childDablk);
        }
    }

    /// <summary>xfs_dir2_node_to_leaf: one leaf and one free-index block that fit a LEAF1 block become one.</summary>
    private static void TryToLeaf(XfsDir2Args args)
    {
        if (args.Da(args.LeafBlk) is not XfsDir2LeafBlock leaf)
            return;
        if (!args.IsMapped(args.FreeBlk) || args.Dp.NextMappedBlock(args.Tp, args.FreeBlk + 1) != null)
            return;
        var free = args.Free(args.FreeBlk);
        int live = leaf.Entries.Count - leaf.Stale;
        int size = XfsDir2Format.DaHeaderSize + XfsDir2Format.LeafTailSize + (2 * free.Bests.Count) + (live * XfsDir2Format.LeafEntrySize);
        if (size > args.Bs)
            return;
        leaf.Compact();
        leaf.IsLeafN = false;
        leaf.Forw = 0;
        leaf.Back = 0;
        leaf.Bests.AddRange(free.Bests);
        args.Dirty(args.LeafBlk);
        args.Release(args.FreeBlk);
    }
}
