namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>
/// A directory data block, decoded: the v5 header (blkno, lsn, uuid, owner), the entries in
/// offset order and, for a single-block directory ("XDB3"), the leaf entries and tail at the end
/// of the block. Everything between the entries up to <see cref="DataEnd"/> is free; the
/// unused-entry records and the bestfree table are derived from that when the block is written,
/// and checked against it when it is read (xfs_dir3_data_check's rules: tags, no two adjacent
/// free regions, bestfree sorted and exact, block leaf consistent with the entries).
/// </summary>
/// <remarks>Models the kernel's <c>struct xfs_dir3_data_hdr</c>, <c>xfs_dir2_data_entry_t</c>, <c>xfs_dir2_data_unused_t</c>, <c>xfs_dir2_block_tail_t</c> with <c>__xfs_dir3_data_check</c>, <c>xfs_dir2_data_freescan</c> and <c>xfs_dir2_data_freeinsert</c> (xfs_dir2_data.c).</remarks>
public sealed class XfsDir2DataBlock : XfsDir3Block
{
    private XfsDir2DataBlock(int blockSize, bool blockForm)
        : base(blockSize)
    {
        IsBlockForm = blockForm;
    }

    /// <summary>"XDB3" (data, leaf and tail in one block) rather than "XDD3".</summary>
    public bool IsBlockForm { get; set; }

    /// <summary>The entries in offset order.</summary>
    public List<XfsDir2DataEntry> Entries { get; } = [];

    /// <summary>The block-form leaf entries in hash order (stale ones included).</summary>
    public List<XfsDir2LeafEntry> Leaf { get; } = [];

    /// <summary>The bestfree table as it was read (recomputed on write).</summary>
    public XfsDir2DataFree[] StoredBestFree { get; private set; } = new XfsDir2DataFree[XfsDir2Format.BestFreeCount];

    /// <summary>Stale leaf entries (block form).</summary>
    public int Stale => Leaf.Count(e => e.IsStale);

    /// <summary>Where the data area ends: the leaf entries in block form, the block end otherwise.</summary>
    public int DataEnd => IsBlockForm ? BlockSize - XfsDir2Format.BlockTailSize - (XfsDir2Format.LeafEntrySize * Leaf.Count) : BlockSize;

    /// <summary>A new block: one free region covering the data area.</summary>
    public static XfsDir2DataBlock Create(int blockSize, bool blockForm, ulong blkno, Guid uuid, ulong owner) =>
        new(blockSize, blockForm) { Blkno = blkno, Uuid = uuid, Owner = owner };

    /// <summary>The free regions between entries, in offset order.</summary>
    public List<XfsDir2DataFree> FreeRegions()
    {
        var free = new List<XfsDir2DataFree>();
        int pos = XfsDir2Format.DataHeaderSize;
        foreach (var e in Entries)
        {
            if (e.Offset > pos)
                free.Add(new XfsDir2DataFree(pos, e.Offset - pos));
            pos = e.Offset + e.Size;
        }
        if (DataEnd > pos)
            free.Add(new XfsDir2DataFree(pos, DataEnd - pos));
        return free;
    }

    /// <summary>The bestfree table: the three longest free regions, longest first (earlier offset first among equals).</summary>
    public XfsDir2DataFree[] BestFree()
    {
        var best = new XfsDir2DataFree[XfsDir2Format.BestFreeCount];
        foreach (var f in FreeRegions())
        {
            // xfs_dir2_data_freeinsert: a region goes before the first entry strictly shorter.
            for (int i = 0; i < best.Length; i++)
            {
                if (f.Length > best[i].Length)
                {
                    for (int j = best.Length - 1; j > i; j--)
                        best[j] = best[j - 1];
                    best[i] = f;
                    break;
                }
            }
        }
        return best;
    }

    /// <summary>bestfree[0].length: the longest free region.</summary>
    public int LongestFree => BestFree()[0].Length;

    /// <summary>Index of the entry at <paramref name="offset"/>, or -1.</summary>
    public int IndexOf(int offset)
    {
        int lo = 0, hi = Entries.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >> 1;
            int o = Entries[mid].Offset;
            if (o == offset)
                return mid;
            if (o < offset)
                lo = mid + 1;
            else
                hi = mid - 1;
        }
        return -1;
    }

    /// <summary>Puts <paramref name="entry"/> into the block; it must lie inside one free region.</summary>
    public void Insert(XfsDir2DataEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        int i = 0;
        while (i < Entries.Count && Entries[i].Offset < entry.Offset)
            i++;
        int start = i == 0 ? XfsDir2Format.DataHeaderSize : Entries[i - 1].Offset + Entries[i - 1].Size;
        int end = i == Entries.Count ? DataEnd : Entries[i].Offset;
        if (entry.Offset < start || entry.Offset + entry.Size > end || (entry.Offset & 7) != 0)
            throw new InvalidOperationException($"directory entry of {entry.Size} bytes at {entry.Offset} does not fit the free region {start}..{end}");
        Entries.Insert(i, entry);
    }

    /// <summary>
    /// Parses and checks a data or block block (the whole block). Throws
    /// <see cref="XfsCorruptionException"/> naming <paramref name="name"/>. The CRC is the
    /// verifier's business, not this method's.
    /// </summary>
    public static XfsDir2DataBlock ReadFrom(ReadOnlySpan<byte> b, string name)
    {
        int bs = b.Length;
        if (bs < 512 || (bs & (bs - 1)) != 0)
            throw new XfsCorruptionException(name, $"a directory block is a power of two of at least 512 bytes, not {bs}");
        uint magic = Be.U32(b, 0);
        if (magic is not (XfsDir2Format.BlockMagic or XfsDir2Format.DataMagic))
            throw XfsCorruptionException.BadMagic(name, magic, XfsDir2Format.DataMagic);
        var blk = new XfsDir2DataBlock(bs, magic == XfsDir2Format.BlockMagic);
        blk.ReadSelfDescription(b, 8);
        for (int i = 0; i < XfsDir2Format.BestFreeCount; i++)
            blk.StoredBestFree[i] = new XfsDir2DataFree(Be.U16(b, 48 + (4 * i)), Be.U16(b, 50 + (4 * i)));
        int end = bs;
        if (blk.IsBlockForm)
        {
            uint count = Be.U32(b, bs - 8), stale = Be.U32(b, bs - 4);
            long leafStart = bs - XfsDir2Format.BlockTailSize - ((long)count * XfsDir2Format.LeafEntrySize);
            if (leafStart < XfsDir2Format.DataHeaderSize)
                throw XfsCorruptionException.BadField(name, "block tail count", count, "the leaf entries do not fit the block");
            end = (int)leafStart;
            uint lastHash = 0;
            for (int i = 0; i < count; i++)
            {
                var le = new XfsDir2LeafEntry(Be.U32(b, end + (8 * i)), Be.U32(b, end + (8 * i) + 4));
                if (le.Hash < lastHash)
                    throw new XfsCorruptionException(name, $"leaf entry {i} hash 0x{le.Hash:x} is below the previous 0x{lastHash:x}");
                lastHash = le.Hash;
                blk.Leaf.Add(le);
            }
            if (blk.Stale != stale)
                throw XfsCorruptionException.BadField(name, "block tail stale", stale, $"{blk.Stale} leaf entries are stale");
        }
        int pos = XfsDir2Format.DataHeaderSize;
        bool previousFree = false;
        var free = new List<XfsDir2DataFree>();
        while (pos < end)
        {
            if (end - pos < 8)
                throw new XfsCorruptionException(name, $"{end - pos} bytes left at offset {pos}: too few for an entry");
            if (Be.U16(b, pos) != XfsDir2Format.FreeTag && end - pos < XfsDir2Format.DataEntrySize(1))
                throw new XfsCorruptionException(name, $"{end - pos} bytes left at offset {pos}: too few for a named entry");
            if (Be.U16(b, pos) == XfsDir2Format.FreeTag)
            {
                int length = Be.U16(b, pos + 2);
                if (length < 8 || (length & 7) != 0 || pos + length > end)
                    throw XfsCorruptionException.BadField(name, $"unused entry at {pos} length", length, $"not a multiple of 8 inside {pos}..{end}");
                if (Be.U16(b, pos + length - 2) != pos)
                    throw XfsCorruptionException.BadField(name, $"unused entry at {pos} tag", Be.U16(b, pos + length - 2), "not its offset");
                if (previousFree)
                    throw new XfsCorruptionException(name, $"two adjacent free regions at {pos}");
                free.Add(new XfsDir2DataFree(pos, length));
                previousFree = true;
                pos += length;
                continue;
            }
            previousFree = false;
            int namelen = b[pos + 8];
            if (namelen == 0)
                throw new XfsCorruptionException(name, $"entry at {pos} has an empty name");
            int size = XfsDir2Format.DataEntrySize(namelen);
            if (pos + size > end)
                throw new XfsCorruptionException(name, $"entry at {pos} of {size} bytes runs past {end}");
            if (Be.U16(b, pos + size - 2) != pos)
                throw XfsCorruptionException.BadField(name, $"entry at {pos} tag", Be.U16(b, pos + size - 2), "not its offset");
            var nameBytes = b.Slice(pos + 9, namelen);
            if (nameBytes.IndexOf((byte)'/') >= 0 || nameBytes.IndexOf((byte)0) >= 0)
                throw new XfsCorruptionException(name, $"entry at {pos} name contains '/' or NUL");
            var ftype = (XfsDirFileType)b[pos + 9 + namelen];
            if (ftype > XfsDirFileType.Whiteout)
                throw XfsCorruptionException.BadField(name, $"entry at {pos} ftype", (byte)ftype, "not a file type");
            ulong ino = Be.U64(b, pos);
            if (ino == 0 || ino >= 1UL << 56)
                throw XfsCorruptionException.BadField(name, $"entry at {pos} inode number", ino, "not an inode number");
            blk.Entries.Add(new XfsDir2DataEntry(pos, ino, nameBytes.ToArray(), ftype));
            pos += size;
        }
        CheckBestFree(blk.StoredBestFree, free, name);
        if (blk.IsBlockForm)
            CheckBlockLeaf(blk, bs, name);
        return blk;
    }

    private static void CheckBestFree(XfsDir2DataFree[] best, List<XfsDir2DataFree> free, string name)
    {
        for (int i = 0; i < best.Length; i++)
        {
            var f = best[i];
            if (f.Length == 0)
            {
                if (f.Offset != 0)
                    throw XfsCorruptionException.BadField(name, $"bestfree[{i}] offset", f.Offset, "set for an empty slot");
                continue;
            }
            if (i > 0 && (best[i - 1].Length < f.Length || best[i - 1].Length == 0))
                throw new XfsCorruptionException(name, $"bestfree[{i}] length {f.Length} is out of order");
            if (!free.Contains(f))
                throw new XfsCorruptionException(name, $"bestfree[{i}] ({f.Offset}, {f.Length}) is not a free region");
        }
        int smallest = best[^1].Length;
        foreach (var f in free)
        {
            if (f.Length > smallest && Array.IndexOf(best, f) < 0)
                throw new XfsCorruptionException(name, $"free region ({f.Offset}, {f.Length}) is missing from bestfree");
        }
    }

    private static void CheckBlockLeaf(XfsDir2DataBlock blk, int bs, string name)
    {
        var live = new HashSet<XfsDir2LeafEntry>();
        foreach (var le in blk.Leaf)
        {
            if (le.IsStale)
                continue;
            if (!live.Add(le))
                throw new XfsCorruptionException(name, $"leaf entry (0x{le.Hash:x}, {le.Address}) appears twice");
        }
        if (live.Count != blk.Entries.Count)
            throw new XfsCorruptionException(name, $"{live.Count} live leaf entries for {blk.Entries.Count} data entries");
        foreach (var e in blk.Entries)
        {
            var want = new XfsDir2LeafEntry(XfsDaHash.HashName(e.Name), XfsDir2Format.Dataptr(0, e.Offset, bs));
            if (!live.Contains(want))
                throw new XfsCorruptionException(name, $"entry '{e.NameText}' at {e.Offset} has no leaf entry with its hash and address");
        }
    }

    /// <summary>Writes the block (CRC field zero; the write verifier stamps it).</summary>
    public void WriteTo(Span<byte> b)
    {
        Be.NeedRoom(b, BlockSize, "directory data block");
        b = b[..BlockSize];
        b.Clear();
        Be.Put32(b, 0, IsBlockForm ? XfsDir2Format.BlockMagic : XfsDir2Format.DataMagic);
        WriteSelfDescription(b, 8);
        var best = BestFree();
        for (int i = 0; i < best.Length; i++)
        {
            Be.Put16(b, 48 + (4 * i), (ushort)best[i].Offset);
            Be.Put16(b, 50 + (4 * i), (ushort)best[i].Length);
        }
        StoredBestFree = best;
        foreach (var e in Entries)
        {
            Be.Put64(b, e.Offset, e.Ino);
            b[e.Offset + 8] = (byte)e.Name.Length;
            e.Name.CopyTo(b[(e.Offset + 9)..]);
            b[e.Offset + 9 + e.Name.Length] = (byte)e.FileType;
            Be.Put16(b, e.Offset + e.Size - 2, (ushort)e.Offset);
        }
        foreach (var f in FreeRegions())
        {
            Be.Put16(b, f.Offset, XfsDir2Format.FreeTag);
            Be.Put16(b, f.Offset + 2, (ushort)f.Length);
            Be.Put16(b, f.End - 2, (ushort)f.Offset);
        }
        if (IsBlockForm)
        {
            int pos = DataEnd;
            foreach (var le in Leaf)
            {
                Be.Put32(b, pos, le.Hash);
                Be.Put32(b, pos + 4, le.Address);
                pos += 8;
            }
            Be.Put32(b, BlockSize - 8, (uint)Leaf.Count);
            Be.Put32(b, BlockSize - 4, (uint)Stale);
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
