namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>
/// A directory leaf block, decoded: the single leaf of a leaf directory (LEAF1, with the bests
/// table of every data block and its count at the end of the block) or one leaf of a node
/// directory's dabtree (LEAFN, linked to its siblings). Entries are in hash order; stale entries
/// (removed names) keep their hash and have address 0.
/// </summary>
/// <remarks>Models the kernel's <c>struct xfs_dir3_leaf_hdr</c> (with <c>xfs_da3_blkinfo</c>), <c>xfs_dir2_leaf_entry_t</c>, <c>xfs_dir2_leaf_tail_t</c> and the checks of <c>xfs_dir3_leaf_check_int</c> (xfs_dir2_leaf.c).</remarks>
public sealed class XfsDir2LeafBlock : XfsDa3Block
{
    private XfsDir2LeafBlock(int blockSize, bool leafN)
        : base(blockSize)
    {
        IsLeafN = leafN;
    }

    /// <summary>LEAFN (node directory) rather than LEAF1 (leaf directory).</summary>
    public bool IsLeafN { get; set; }

    /// <summary>The entries in hash order, stale ones included.</summary>
    public List<XfsDir2LeafEntry> Entries { get; } = [];

    /// <summary>LEAF1 only: bestfree[0].length of every data block (NULLDATAOFF for a hole), by data block number.</summary>
    public List<ushort> Bests { get; } = [];

    /// <summary>Stale entries.</summary>
    public int Stale => Entries.Count(e => e.IsStale);

    /// <summary>Entries the block can hold with its current bests table.</summary>
    public int Capacity => (BlockSize - XfsDir2Format.DaHeaderSize - (IsLeafN ? 0 : XfsDir2Format.LeafTailSize + (2 * Bests.Count))) / XfsDir2Format.LeafEntrySize;

    /// <summary>An empty leaf block.</summary>
    public static XfsDir2LeafBlock Create(int blockSize, bool leafN, ulong blkno, Guid uuid, ulong owner) =>
        new(blockSize, leafN) { Blkno = blkno, Uuid = uuid, Owner = owner };

    /// <summary>Drops the stale entries (xfs_dir3_leaf_compact).</summary>
    public void Compact() => Entries.RemoveAll(e => e.IsStale);

    /// <summary>Index of the first entry whose hash is at least <paramref name="hash"/> (Entries.Count if none).</summary>
    public int LowerBound(uint hash)
    {
        int lo = 0, hi = Entries.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >> 1;
            if (Entries[mid].Hash < hash)
                lo = mid + 1;
            else
                hi = mid;
        }
        return lo;
    }

    /// <summary>Inserts <paramref name="entry"/> after every entry of a lower or equal hash.</summary>
    public void Insert(XfsDir2LeafEntry entry)
    {
        int i = LowerBound(entry.Hash);
        while (i < Entries.Count && Entries[i].Hash == entry.Hash)
            i++;
        Entries.Insert(i, entry);
    }

    /// <summary>The largest hash in the block (0 when empty).</summary>
    public uint LastHash => Entries.Count == 0 ? 0 : Entries[^1].Hash;

    /// <summary>Parses and checks a leaf block. Throws <see cref="XfsCorruptionException"/> naming <paramref name="name"/>.</summary>
    public static XfsDir2LeafBlock ReadFrom(ReadOnlySpan<byte> b, string name)
    {
        int bs = b.Length;
        if (bs < 512 || (bs & (bs - 1)) != 0)
            throw new XfsCorruptionException(name, $"a directory block is a power of two of at least 512 bytes, not {bs}");
        ushort magic = ReadMagic(b);
        if (magic is not (XfsDir2Format.Leaf1Magic or XfsDir2Format.LeafNMagic))
            throw XfsCorruptionException.BadMagic(name, magic, XfsDir2Format.Leaf1Magic);
        var leaf = new XfsDir2LeafBlock(bs, magic == XfsDir2Format.LeafNMagic);
        leaf.ReadInfo(b);
        int count = Be.U16(b, 56), stale = Be.U16(b, 58);
        int limit = bs;
        if (!leaf.IsLeafN)
        {
            uint bestCount = Be.U32(b, bs - 4);
            if (bestCount > (uint)(bs - XfsDir2Format.DaHeaderSize - 4) / 2)
                throw XfsCorruptionException.BadField(name, "leaf tail bestcount", bestCount, "the bests table does not fit the block");
            limit = bs - 4 - (2 * (int)bestCount);
            for (int i = 0; i < bestCount; i++)
                leaf.Bests.Add(Be.U16(b, limit + (2 * i)));
        }
        if (XfsDir2Format.DaHeaderSize + (count * XfsDir2Format.LeafEntrySize) > limit)
            throw XfsCorruptionException.BadField(name, "leaf count", count, $"the entries run past byte {limit}");
        uint lastHash = 0;
        for (int i = 0; i < count; i++)
        {
            int pos = XfsDir2Format.DaHeaderSize + (8 * i);
            var le = new XfsDir2LeafEntry(Be.U32(b, pos), Be.U32(b, pos + 4));
            if (le.Hash < lastHash)
                throw new XfsCorruptionException(name, $"leaf entry {i} hash 0x{le.Hash:x} is below the previous 0x{lastHash:x}");
            lastHash = le.Hash;
            leaf.Entries.Add(le);
        }
        if (leaf.Stale != stale)
            throw XfsCorruptionException.BadField(name, "leaf stale", stale, $"{leaf.Stale} entries are stale");
        return leaf;
    }

    /// <summary>Writes the block (CRC field zero; the write verifier stamps it).</summary>
    public void WriteTo(Span<byte> b)
    {
        Be.NeedRoom(b, BlockSize, "directory leaf block");
        if (Entries.Count > Capacity)
            throw new InvalidOperationException($"{Entries.Count} leaf entries do not fit a block holding {Capacity}");
        b = b[..BlockSize];
        b.Clear();
        WriteInfo(b, IsLeafN ? XfsDir2Format.LeafNMagic : XfsDir2Format.Leaf1Magic);
        Be.Put16(b, 56, (ushort)Entries.Count);
        Be.Put16(b, 58, (ushort)Stale);
        for (int i = 0; i < Entries.Count; i++)
        {
            Be.Put32(b, XfsDir2Format.DaHeaderSize + (8 * i), Entries[i].Hash);
            Be.Put32(b, XfsDir2Format.DaHeaderSize + (8 * i) + 4, Entries[i].Address);
        }
        if (!IsLeafN)
        {
            int start = BlockSize - 4 - (2 * Bests.Count);
            for (int i = 0; i < Bests.Count; i++)
                Be.Put16(b, start + (2 * i), Bests[i]);
            Be.Put32(b, BlockSize - 4, (uint)Bests.Count);
        }
    }

    /// <summary>The block's bytes.</summary>
    public byte[] ToBytes()
    {
        var b = new byte[BlockSize];
        WriteTo(b);
        return b;
    }
}
