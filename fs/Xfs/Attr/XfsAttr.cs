using DaxStack.Device.Errors;
using DaxStack.Fs.Vfs;
using DaxStack.Fs.Xfs.Alloc;
using DaxStack.Fs.Xfs.Bmap;
using DaxStack.Fs.Xfs.Buffers;
using DaxStack.Fs.Xfs.Dir2;
using DaxStack.Fs.Xfs.Inode;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Super;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Xfs.Attr;

/// <summary>
/// Extended attributes of an inode: a short-form attribute fork inside the inode, or once that
/// is too small, one attribute leaf block mapped by an extents-format attribute fork. Every
/// change is made in the caller's transaction on the in-core inode and the leaf buffer and
/// logged with them, so a crash leaves the old or the new attributes, never a torn set. The
/// first attribute adds the fork (choosing di_forkoff as XFS does with attr2: as far right as
/// the data fork allows, or the default offset, converting the data fork when it no longer
/// fits: a short-form directory to a block, extents to a B+tree, a B+tree root down a level);
/// later short-form attributes move di_forkoff left when they need room; a name or value of 255
/// bytes or more, or a fork that would leave the data fork too little room, moves every
/// attribute to a leaf block; removing attributes from a leaf brings them back to short form
/// when they fit, and removing the last one removes the fork unless the data fork is a B+tree.
/// Not implemented, and ENOSPC: values too large to stay in the leaf block (remote value blocks,
/// a record of 3072 bytes or more) and attributes beyond one leaf block (node format). Callers
/// hold the mount lock.
/// </summary>
/// <remarks>Models libxfs/xfs_attr.c (<c>xfs_attr_get</c>, <c>xfs_attr_set</c>), xfs_attr_leaf.c
/// (<c>xfs_attr_shortform_create</c>, <c>xfs_attr_shortform_add</c>, <c>xfs_attr_sf_removename</c>,
/// <c>xfs_attr_shortform_lookup</c>, <c>xfs_attr_shortform_bytesfit</c>, <c>xfs_attr_fork_remove</c>,
/// <c>xfs_attr_shortform_to_leaf</c>, <c>xfs_attr3_leaf_add</c>, <c>xfs_attr3_leaf_remove</c>,
/// <c>xfs_attr_shortform_allfit</c>, <c>xfs_attr3_leaf_to_shortform</c>), xfs_attr_inactive and
/// xfs_bmap.c (<c>xfs_bmap_add_attrfork</c>, <c>xfs_bmap_set_attrforkoff</c>,
/// <c>xfs_default_attroffset</c>, <c>xfs_bmap_compute_attr_offset</c>).</remarks>
public static class XfsAttr
{
    /// <summary>Blocks a set may allocate: a directory block or a bmap B+tree leaf, and a new B+tree level.</summary>
    public const uint SetReservation = 8;

    // Offset of sb_versionnum in the superblock.
    private const int SbVersionNumOffset = 100;

    // MINDBTPTRS / MINABTPTRS: pointers a data / attr fork B+tree root must have room for.
    private const int MinDataBtreePointers = 3;
    private const int MinAttrBtreePointers = 2;

    /// <summary>The value of <paramref name="name"/> in <paramref name="ns"/>, or null (xfs_attr_get).</summary>
    public static byte[]? Get(XfsInode ip, XattrNamespace ns, ReadOnlySpan<byte> name)
    {
        ArgumentNullException.ThrowIfNull(ip);
        byte flags = XfsAttrShortform.FlagsOf(ns);
        foreach (var e in Entries(ip, null))
        {
            if (e.Matches(flags, name))
                return e.Value;
        }
        return null;
    }

    /// <summary>Every attribute of <paramref name="ip"/> in fork order (xfs_attr_list).</summary>
    public static IReadOnlyList<XfsAttrSfEntry> List(XfsInode ip)
    {
        ArgumentNullException.ThrowIfNull(ip);
        return Entries(ip, null);
    }

    /// <summary>
    /// Creates or replaces an attribute and sets the change time (xfs_attr_set): EEXIST with
    /// <see cref="XattrFlags.XATTR_CREATE"/> when it exists, ENODATA with
    /// <see cref="XattrFlags.XATTR_REPLACE"/> when it does not, ENOSPC when it does not fit one
    /// leaf block or its value would need remote blocks. After an exception the caller cancels
    /// the transaction.
    /// </summary>
    public static void Set(XfsTransaction tp, XfsInode ip, XattrNamespace ns, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, XattrFlags flags)
    {
        ArgumentNullException.ThrowIfNull(tp);
        ArgumentNullException.ThrowIfNull(ip);
        if (name.IsEmpty)
            throw new XfsException(Errno.EINVAL, $"inode {ip.Ino}: an empty attribute name");
        var entries = Entries(ip, tp);
        byte nsFlags = XfsAttrShortform.FlagsOf(ns);
        int index = IndexOf(entries, nsFlags, name);
        if (index >= 0 && (flags & XattrFlags.XATTR_CREATE) != 0)
            throw new XfsException(Errno.EEXIST, $"inode {ip.Ino}: attribute {Describe(ns, name)} exists");
        if (index < 0 && (flags & XattrFlags.XATTR_REPLACE) != 0)
            throw new XfsException(Errno.ENODATA, $"inode {ip.Ino}: no attribute {Describe(ns, name)} to replace");
        int blockSize = tp.Mount.Geometry.BlockSize;
        if (XfsAttr3LeafBlock.LocalSize(name.Length, value.Length) >= XfsAttr3LeafBlock.LocalMax(blockSize))
            throw new XfsException(Errno.ENOSPC, $"inode {ip.Ino}: attribute {Describe(ns, name)} with a {value.Length}-byte value needs remote value blocks, which are not implemented");
        var entry = new XfsAttrSfEntry(nsFlags, name.ToArray(), value.ToArray());
        ip.Join(tp);
        if (ip.AttrFork == null)
            AddAttrFork(tp, ip, XfsAttrShortform.HeaderSize + entry.Size);
        // A replace removes the old entry and adds the new one, keeping the fork in between
        // (XFS_DA_OP_REPLACE).
        if (index >= 0)
            entries.RemoveAt(index);
        if (ip.AttrFork!.Format == XfsDinodeFormat.Local)
        {
            if (!TryShortformAdd(tp, ip, entries, entry))
                ShortformToLeaf(tp, ip, entries, entry);
        }
        else
        {
            var leaf = ReadLeaf(tp, ip);
            int old = IndexOf(leaf.Entries, nsFlags, name);
            if (old >= 0)
                leaf.Entries.RemoveAt(old);
            leaf.Add(entry);
            if (!XfsAttr3LeafBlock.Fits(leaf.Entries, blockSize))
                throw new XfsException(Errno.ENOSPC, $"inode {ip.Ino}: the attribute leaf block is full (attribute B+trees are not implemented)");
            WriteLeaf(tp, leaf);
        }
        ip.Core.Ctime = XfsInodeCache.For(tp.Mount).Now();
        ip.Log(tp);
    }

    // xfs_attr_shortform_addname: the entry goes short-form if its name and value are short and
    // bytesfit finds room; false when the fork must become a leaf block.
    private static bool TryShortformAdd(XfsTransaction tp, XfsInode ip, List<XfsAttrSfEntry> entries, XfsAttrSfEntry entry)
    {
        if (entry.Name.Length >= XfsAttrShortform.EntSizeMax || entry.Value.Length >= XfsAttrShortform.EntSizeMax || entries.Count + 1 > byte.MaxValue)
            return false;
        int newSize = XfsAttrShortform.HeaderSize + entries.Sum(e => e.Size) + entry.Size;
        int forkoff = ShortformBytesFit(ip, newSize);
        if (forkoff == 0)
            return false;
        SetForkOff(tp, ip, forkoff, null);
        entries.Add(entry);
        ip.AttrFork!.Local = XfsAttrShortform.Encode(entries);
        return true;
    }

    // xfs_attr_shortform_to_leaf + xfs_attr3_leaf_add: every attribute moves to a new leaf block,
    // file block 0 of an extents-format attr fork; di_forkoff stays.
    private static void ShortformToLeaf(XfsTransaction tp, XfsInode ip, List<XfsAttrSfEntry> entries, XfsAttrSfEntry entry)
    {
        var mp = tp.Mount;
        var geo = mp.Geometry;
        var all = entries.Append(entry).ToList();
        if (!XfsAttr3LeafBlock.Fits(all, geo.BlockSize))
            throw new XfsException(Errno.ENOSPC, $"inode {ip.Ino}: {all.Count} attributes do not fit one attribute leaf block (attribute B+trees are not implemented)");
        if (ip.LiteralSize - (ip.Core.ForkOff * 8) < XfsBmbtRecord.Size)
            throw new InvalidOperationException($"inode {ip.Ino}: forkoff {ip.Core.ForkOff} leaves no room for an attr extent");
        ulong fsb = AllocateBlock(tp, ip);
        var leaf = XfsAttr3LeafBlock.Create(geo.BlockSize, LeafDaddr(geo, fsb), mp.MetadataUuid, ip.Ino);
        foreach (var e in all)
            leaf.Add(e);
        var bp = tp.GetBuffer(leaf.Blkno, geo.BlockSize, XfsAttr3LeafBufferOps.Instance);
        tp.LogChanges(bp, 0, leaf.ToBytes(), XfsAttr3LeafBlock.CrcOffset);
        var fork = new XfsIfork { Format = XfsDinodeFormat.Extents };
        fork.ExtentList.Add(new XfsBmbtRecord(0, fsb, 1, false));
        ip.ReplaceAttrFork(fork);
    }

    /// <summary>
    /// Removes an attribute and sets the change time (xfs_attr_set with no value,
    /// xfs_attr_sf_removename): ENODATA when there is none. The last one takes the fork with it
    /// unless the data fork is a B+tree, whose root keeps its place.
    /// </summary>
    public static void Remove(XfsTransaction tp, XfsInode ip, XattrNamespace ns, ReadOnlySpan<byte> name)
    {
        ArgumentNullException.ThrowIfNull(tp);
        ArgumentNullException.ThrowIfNull(ip);
        var entries = Entries(ip, tp);
        int index = IndexOf(entries, XfsAttrShortform.FlagsOf(ns), name);
        if (index < 0)
            throw new XfsException(Errno.ENODATA, $"inode {ip.Ino}: no attribute {Describe(ns, name)} to remove");
        ip.Join(tp);
        entries.RemoveAt(index);
        if (ip.AttrFork!.Format == XfsDinodeFormat.Local)
        {
            if (entries.Count == 0 && ip.DataFork.Format != XfsDinodeFormat.Btree)
            {
                // xfs_attr_fork_remove: the data fork gets the whole literal area back.
                ip.Core.ForkOff = 0;
                ip.ReplaceAttrFork(null);
            }
            else
            {
                // xfs_attr_shortform_bytesfit of a smaller fork keeps di_forkoff where it is.
                ip.AttrFork.Local = XfsAttrShortform.Encode(entries);
            }
        }
        else
        {
            int forkoff = ShortformAllFit(ip, entries);
            if (forkoff == 0)
            {
                var leaf = ReadLeaf(tp, ip);
                leaf.Entries.Clear();
                leaf.Entries.AddRange(entries);
                WriteLeaf(tp, leaf);
            }
            else
            {
                // xfs_attr3_leaf_to_shortform: the leaf block goes; with nothing left, the fork.
                FreeAttrBlocks(tp, ip);
                if (forkoff < 0)
                {
                    ip.Core.ForkOff = 0;
                    ip.ReplaceAttrFork(null);
                }
                else
                {
                    SetForkOff(tp, ip, forkoff, new XfsIfork { Format = XfsDinodeFormat.Local, Local = XfsAttrShortform.Encode(entries) });
                }
            }
        }
        ip.Core.Ctime = XfsInodeCache.For(tp.Mount).Now();
        ip.Log(tp);
    }

    /// <summary>
    /// xfs_attr_inactive: frees the blocks of an extents-format attribute fork and removes the
    /// fork, before the inode itself is freed. Nothing to do for no fork or a short-form one;
    /// EOPNOTSUPP for a B+tree attribute fork.
    /// </summary>
    public static void Inactive(XfsTransaction tp, XfsInode ip)
    {
        ArgumentNullException.ThrowIfNull(tp);
        ArgumentNullException.ThrowIfNull(ip);
        var fork = ip.AttrFork;
        if (fork == null || fork.Format == XfsDinodeFormat.Local)
            return;
        if (fork.Format != XfsDinodeFormat.Extents)
            throw new XfsException(Errno.EOPNOTSUPP, $"inode {ip.Ino}: freeing an attribute fork in {fork.Format} format is not supported");
        ip.Join(tp);
        FreeAttrBlocks(tp, ip);
        ip.Core.ForkOff = 0;
        ip.ReplaceAttrFork(null);
        ip.Log(tp);
    }

    // xfs_attr_shortform_allfit: the di_forkoff that holds these attributes short-form, -1 when
    // there are none and the fork can go, 0 when they do not fit (a name or value too long).
    private static int ShortformAllFit(XfsInode ip, List<XfsAttrSfEntry> entries)
    {
        int bytes = XfsAttrShortform.HeaderSize;
        foreach (var e in entries)
        {
            if (e.Name.Length >= XfsAttrShortform.EntSizeMax || e.Value.Length >= XfsAttrShortform.EntSizeMax)
                return 0;
            bytes += e.Size;
        }
        if (ip.DataFork.Format != XfsDinodeFormat.Btree && bytes == XfsAttrShortform.HeaderSize)
            return -1;
        return ShortformBytesFit(ip, bytes);
    }

    /// <summary>
    /// xfs_default_attroffset in 8-byte units: for 256-byte inodes the literal area less an attr
    /// B+tree root of MINABTPTRS pointers, otherwise room for a data B+tree root of 6 × MINABTPTRS
    /// pointers; 1 (the 4-byte device number rounded up) for a device inode.
    /// </summary>
    public static int DefaultForkOff(XfsInode ip) => DefaultAttrOffset(ip) >> 3;

    // xfs_default_attroffset in bytes.
    private static int DefaultAttrOffset(XfsInode ip)
    {
        ArgumentNullException.ThrowIfNull(ip);
        if (ip.DataFork.Format == XfsDinodeFormat.Dev)
            return 8;
        return ip.Mount.Geometry.InodeSize == 256
            ? ip.LiteralSize - BmdrSpace(MinAttrBtreePointers)
            : BmdrSpace(6 * MinAttrBtreePointers);
    }

    /// <summary>
    /// xfs_attr_shortform_bytesfit (attr2): the di_forkoff that gives a short-form attr fork of
    /// <paramref name="bytes"/> bytes room while the data fork keeps what it uses (at least a
    /// B+tree root of MINDBTPTRS pointers), placed as far right as leaves an attr B+tree root of
    /// MINABTPTRS pointers; the current offset when the fork is big enough already or the data
    /// fork is a B+tree beside an existing attr fork; 0 when it cannot fit.
    /// </summary>
    public static int ShortformBytesFit(XfsInode ip, int bytes)
    {
        ArgumentNullException.ThrowIfNull(ip);
        int litino = ip.LiteralSize;
        if (bytes > litino)
            return 0;
        int offset = (litino - bytes) >> 3;
        var df = ip.DataFork;
        if (df.Format == XfsDinodeFormat.Dev)
            return offset >= 1 ? 1 : 0;
        int forkoff = ip.Core.ForkOff;
        int attrSize = forkoff != 0 ? litino - forkoff * 8 : 0;
        if (bytes <= attrSize)
            return forkoff;
        long dsize = df.Format switch
        {
            XfsDinodeFormat.Local => df.Local.Length,
            XfsDinodeFormat.Extents => (long)df.Count * XfsBmbtRecord.Size,
            _ => 0,
        };
        if (df.Format == XfsDinodeFormat.Extents && forkoff == 0 && dsize > DefaultAttrOffset(ip))
        {
            // Adding the fork will turn the extents into a B+tree: only its root must fit.
            dsize = BmdrSpace(MinDataBtreePointers);
        }
        if (df.Format == XfsDinodeFormat.Btree)
        {
            if (forkoff != 0)
                return offset < forkoff ? 0 : forkoff;
            dsize = BmdrSpace(df.Btree!.RootCount);
        }
        long minForkoff = (Math.Max(dsize, BmdrSpace(MinDataBtreePointers)) + 7) >> 3;
        int maxForkoff = (litino - BmdrSpace(MinAttrBtreePointers)) >> 3;
        if (offset >= maxForkoff)
            return maxForkoff;
        return offset >= minForkoff ? offset : 0;
    }

    // xfs_bmap_add_attrfork + xfs_attr_shortform_create: an empty short-form fork at the offset
    // bytesfit gives for the first attribute, or the default one.
    private static void AddAttrFork(XfsTransaction tp, XfsInode ip, int size)
    {
        int forkoff = ip.DataFork.Format == XfsDinodeFormat.Dev ? DefaultForkOff(ip) : ShortformBytesFit(ip, size);
        if (forkoff == 0)
            forkoff = DefaultForkOff(ip);
        var fork = new XfsIfork { Format = XfsDinodeFormat.Local, Local = XfsAttrShortform.Encode([]) };
        SetForkOff(tp, ip, forkoff, fork);
        AddAttrFeature(tp);
    }

    // xfs_add_attr: the first attribute fork of the filesystem sets XFS_SB_VERSION_ATTRBIT in
    // the primary superblock, logged in the same transaction (secondaries keep the old value,
    // as the kernel leaves them and xfs_repair accepts).
    private static void AddAttrFeature(XfsTransaction tp)
    {
        var sb = tp.Mount.Superblock;
        var old = sb.VersionNum;
        if ((old & XfsSbVersion.Attr) != 0)
            return;
        var bp = tp.ReadBuffer(0, tp.Mount.Geometry.SectorSize, XfsSuperblockBufferOps.Instance);
        Span<byte> field = stackalloc byte[2];
        Be.Put16(field, 0, (ushort)(old | XfsSbVersion.Attr));
        tp.LogChanges(bp, SbVersionNumOffset, field);
        sb.VersionNum = old | XfsSbVersion.Attr;
        tp.OnCancel(() => sb.VersionNum = old);
    }

    // Moves di_forkoff to forkoff (installing attrFork when the inode has none yet) and makes
    // the data fork fit what is left of the literal area (xfs_bmap_add_attrfork_local,
    // _extents, _btree).
    private static void SetForkOff(XfsTransaction tp, XfsInode ip, int forkoff, XfsIfork? attrFork)
    {
        if (forkoff == ip.Core.ForkOff && attrFork == null)
            return;
        int newSize = forkoff * 8;
        if (ip.DataFork.Format == XfsDinodeFormat.Local && ip.DataFork.Local.Length > newSize)
        {
            if (!ip.IsDirectory)
                throw new XfsException(Errno.ENOSPC, $"inode {ip.Ino}: its {ip.DataFork.Local.Length}-byte local data fork leaves no room for an attr fork at byte {newSize}");
            // Before di_forkoff moves, while the short-form directory still fits.
            XfsDirectory.ShortformToBlock(tp, new XfsDirectoryInode(ip));
        }
        ip.Core.ForkOff = (byte)forkoff;
        if (attrFork != null)
            ip.ReplaceAttrFork(attrFork);
        var df = ip.DataFork;
        if (df.Format == XfsDinodeFormat.Btree)
        {
            df.Btree!.ResizeRoot(ip.DataForkSize);
            XfsBmap.Finish(tp, ip);
        }
        else if (df.Format == XfsDinodeFormat.Extents && df.Count > ip.DataForkMaxExtents)
        {
            XfsBmap.Finish(tp, ip);
        }
    }

    // The attributes, from the short-form fork or the leaf block (read through tp when given).
    private static List<XfsAttrSfEntry> Entries(XfsInode ip, XfsTransaction? tp)
    {
        var fork = ip.AttrFork;
        if (fork == null)
            return [];
        if (fork.Format == XfsDinodeFormat.Local)
            return XfsAttrShortform.Decode(fork.Local, $"inode {ip.Ino} attr fork");
        return ReadLeaf(tp, ip).Entries;
    }

    // The single leaf block at attr fork block 0 (xfs_attr3_leaf_read); a fork mapping more is a
    // B+tree of attributes, not implemented.
    private static XfsAttr3LeafBlock ReadLeaf(XfsTransaction? tp, XfsInode ip)
    {
        var fork = ip.AttrFork!;
        if (fork.Format != XfsDinodeFormat.Extents || fork.Count != 1 || fork.Extents[0].StartOff != 0 || fork.Extents[0].BlockCount != 1)
            throw new XfsException(Errno.EOPNOTSUPP, $"inode {ip.Ino}: attr fork in {fork.Format} format with {fork.Count} extents (attribute B+trees and remote values are not implemented)");
        var mp = ip.Mount;
        var geo = mp.Geometry;
        ulong fsb = fork.Extents[0].StartBlock;
        ulong daddr = LeafDaddr(geo, fsb);
        var bp = tp != null
            ? tp.ReadBuffer(daddr, geo.BlockSize, XfsAttr3LeafBufferOps.Instance)
            : mp.Buffers.Read(daddr, geo.BlockSize, XfsAttr3LeafBufferOps.Instance);
        string name = $"inode {ip.Ino} attr leaf {geo.FsbToAgno(fsb)}/{geo.FsbToAgbno(fsb)}";
        var leaf = XfsAttr3LeafBlock.ReadFrom(bp.Data, name);
        if (leaf.Owner != ip.Ino)
            throw XfsCorruptionException.BadField(name, "owner", leaf.Owner, $"the block belongs to inode {ip.Ino}");
        return leaf;
    }

    private static void WriteLeaf(XfsTransaction tp, XfsAttr3LeafBlock leaf)
    {
        var bp = tp.ReadBuffer(leaf.Blkno, leaf.BlockSize, XfsAttr3LeafBufferOps.Instance);
        tp.LogChanges(bp, 0, leaf.ToBytes(), XfsAttr3LeafBlock.CrcOffset);
    }

    private static ulong LeafDaddr(XfsGeometry geo, ulong fsb) => geo.AgBlockToDaddr(geo.FsbToAgno(fsb), geo.FsbToAgbno(fsb));

    // xfs_da_grow_inode for the attr fork: one block near the inode.
    private static ulong AllocateBlock(XfsTransaction tp, XfsInode ip)
    {
        var geo = tp.Mount.Geometry;
        uint agno = geo.InoToAgno(ip.Ino);
        uint agbno = geo.AginoToAgbno(geo.InoToAgino(ip.Ino));
        if (!XfsAlloc.TryAllocate(tp, XfsAllocRequest.Near(agno, agbno, 1, 1), out var got)
            && !XfsAlloc.TryAllocateAnyAg(tp, (agno + 1) % geo.AgCount, 1, 1, 1, out got))
            throw new XfsException(Errno.ENOSPC, $"inode {ip.Ino}: no free block for an attribute leaf");
        ip.Core.NBlocks++;
        return geo.AgBlockToFsb(got.AgNo, got.AgBno);
    }

    // xfs_da_shrink_inode / xfs_bunmapi of the attr fork: every mapped block is freed and its
    // buffer dropped.
    private static void FreeAttrBlocks(XfsTransaction tp, XfsInode ip)
    {
        var geo = tp.Mount.Geometry;
        foreach (var e in ip.AttrFork!.Extents)
        {
            for (ulong k = 0; k < e.BlockCount; k++)
            {
                var bp = tp.Mount.Buffers.Find(LeafDaddr(geo, e.StartBlock + k), geo.BlockSize);
                if (bp != null)
                    tp.Invalidate(bp);
            }
            XfsAlloc.Free(tp, geo.FsbToAgno(e.StartBlock), geo.FsbToAgbno(e.StartBlock), e.BlockCount);
            ip.Core.NBlocks -= e.BlockCount;
        }
    }

    private static int IndexOf(List<XfsAttrSfEntry> entries, byte flags, ReadOnlySpan<byte> name)
    {
        for (int i = 0; i < entries.Count; i++)
        {
            if (entries[i].Matches(flags, name))
                return i;
        }
        return -1;
    }

    private static string Describe(XattrNamespace ns, ReadOnlySpan<byte> name) => XattrNames.Prefix(ns) + System.Text.Encoding.UTF8.GetString(name);

    // xfs_bmdr_space_calc: a bmdr root block header and n key/pointer pairs.
    private static int BmdrSpace(int pointers) => 4 + pointers * 16;
}
