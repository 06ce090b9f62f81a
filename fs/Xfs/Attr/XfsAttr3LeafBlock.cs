using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Attr;

/// <summary>
/// A v5 attribute leaf block holding every attribute of an inode whose attributes outgrew the
/// short-form fork: an 80-byte header (xfs_da3_blkinfo with magic 0x3bee, count, usedbytes,
/// firstused, holes, a three-slot free map), then 8-byte entries sorted by the XFS name hash
/// (hashval, nameidx, flags), and at the end of the block the packed local name/value records
/// (valuelen be16, namelen u8, name, value, padded to 4 bytes) the entries point at. This
/// implementation writes the block compacted (no holes, one free region between the entries and
/// the names) and stores every value locally; a block with remote values can be read for names
/// but not for those values.
/// </summary>
/// <remarks>Models <c>struct xfs_attr3_leafblock</c>, <c>xfs_attr3_leaf_hdr</c>, <c>xfs_attr_leaf_entry</c>, <c>xfs_attr_leaf_name_local</c> (xfs_da_format.h) with the checks of <c>xfs_attr3_leaf_verify</c> / <c>xfs_attr3_leaf_verify_entry</c> (xfs_attr_leaf.c) and those xfs_repair's <c>process_leaf_attr_block</c> makes (hash order and value, firstused, usedbytes, no overlaps).</remarks>
public sealed class XfsAttr3LeafBlock : XfsDa3Block
{
    /// <summary>XFS_ATTR3_LEAF_MAGIC in info.magic.</summary>
    public const ushort Magic = 0x3bee;

    /// <summary>Offset of info.crc.</summary>
    public const int CrcOffset = 12;

    /// <summary>sizeof(struct xfs_attr3_leaf_hdr).</summary>
    public const int HeaderSize = 80;

    /// <summary>sizeof(struct xfs_attr_leaf_entry).</summary>
    public const int EntrySize = 8;

    /// <summary>XFS_ATTR_LOCAL: the value is in the block.</summary>
    public const byte FlagLocal = 1 << 0;

    /// <summary>XFS_ATTR_INCOMPLETE: an attribute half made or half removed.</summary>
    public const byte FlagIncomplete = 1 << 7;

    private XfsAttr3LeafBlock(int blockSize)
        : base(blockSize)
    {
    }

    /// <summary>The attributes in hash order (namespace flags only, no LOCAL bit).</summary>
    public List<XfsAttrSfEntry> Entries { get; } = [];

    /// <summary>An empty block.</summary>
    public static XfsAttr3LeafBlock Create(int blockSize, ulong blkno, Guid uuid, ulong owner) => new(blockSize) { Blkno = blkno, Uuid = uuid, Owner = owner };

    /// <summary>xfs_attr_leaf_entsize_local: bytes a local name/value record takes.</summary>
    public static int LocalSize(int nameLength, int valueLength) => (3 + nameLength + valueLength + 3) & ~3;

    /// <summary>xfs_attr_leaf_entsize_local_max: a record this large or larger would keep its value remote.</summary>
    public static int LocalMax(int blockSize) => (blockSize >> 1) + (blockSize >> 2);

    /// <summary>Whether <paramref name="entries"/> fit one block of <paramref name="blockSize"/> bytes.</summary>
    public static bool Fits(IEnumerable<XfsAttrSfEntry> entries, int blockSize)
    {
        int used = HeaderSize;
        foreach (var e in entries)
            used += EntrySize + LocalSize(e.Name.Length, e.Value.Length);
        return used <= blockSize;
    }

    /// <summary>Inserts <paramref name="entry"/> after every entry of a lower or equal hash (xfs_attr3_leaf_add).</summary>
    public void Add(XfsAttrSfEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        uint hash = XfsDaHash.HashName(entry.Name);
        int at = Entries.Count;
        for (int i = 0; i < Entries.Count; i++)
        {
            if (XfsDaHash.HashName(Entries[i].Name) > hash)
            {
                at = i;
                break;
            }
        }
        Entries.Insert(at, entry);
    }

    /// <summary>
    /// Parses and checks a leaf block; throws
    /// <see cref="XfsCorruptionException"/> naming <paramref name="name"/>, and
    /// <see cref="XfsException"/> EOPNOTSUPP for a remote value.
    /// </summary>
    public static XfsAttr3LeafBlock ReadFrom(ReadOnlySpan<byte> b, string name)
    {
        if (Check(b) is { } problem)
            throw new XfsCorruptionException(name, problem);
        var leaf = new XfsAttr3LeafBlock(b.Length);
        leaf.ReadInfo(b);
        int count = Be.U16(b, 56);
        for (int i = 0; i < count; i++)
        {
            int e = HeaderSize + (i * EntrySize);
            int idx = Be.U16(b, e + 4);
            byte flags = b[e + 6];
            if ((flags & FlagLocal) == 0)
                throw new XfsException(Device.Errors.Errno.EOPNOTSUPP, $"{name}: entry {i} keeps its value in remote blocks, which are not implemented");
            int valuelen = Be.U16(b, idx), namelen = b[idx + 2];
            leaf.Entries.Add(new XfsAttrSfEntry((byte)(flags & XfsAttrShortform.NamespaceMask),
                b.Slice(idx + 3, namelen).ToArray(), b.Slice(idx + 3 + namelen, valuelen).ToArray()));
        }
        return leaf;
    }

    /// <summary>
    /// What is wrong with the leaf block in <paramref name="b"/>, or null: the magic, the header
    /// (count, firstused, usedbytes, holes, the free map inside the block and 4-byte aligned),
    /// each entry (name record inside the block at or after firstused, no overlap, known flags,
    /// non-empty name without NUL, hash equal to the name's and in order).
    /// </summary>
    public static string? Check(ReadOnlySpan<byte> b)
    {
        int bs = b.Length;
        if (bs < HeaderSize)
            return $"attr leaf of {bs} bytes";
        if (Be.U16(b, 8) != Magic)
            return $"bad magic number 0x{Be.U16(b, 8):x} (expected 0x{Magic:x})";
        int count = Be.U16(b, 56), usedbytes = Be.U16(b, 58), firstused = Be.U16(b, 60), holes = b[62];
        if (count == 0)
            return "attr leaf with no entries";
        if (HeaderSize + (count * EntrySize) > firstused || firstused > bs)
            return $"bad attr leaf firstused {firstused} for {count} entries in a {bs}-byte block";
        for (int m = 0; m < 3; m++)
        {
            int mbase = Be.U16(b, 64 + (4 * m)), msize = Be.U16(b, 66 + (4 * m));
            if ((mbase & 3) != 0 || (msize & 3) != 0 || mbase + msize > bs)
                return $"bad attr leaf freemap[{m}] {mbase}+{msize}";
        }
        var used = new bool[bs];
        int usedSum = 0, lowest = bs;
        uint lastHash = 0;
        for (int i = 0; i < count; i++)
        {
            int e = HeaderSize + (i * EntrySize);
            uint hash = Be.U32(b, e);
            int idx = Be.U16(b, e + 4);
            byte flags = b[e + 6];
            if ((flags & ~(FlagLocal | XfsAttrShortform.NamespaceMask)) != 0)
                return $"attr leaf entry {i} has unknown flags 0x{flags:x}";
            if ((flags & XfsAttrShortform.NamespaceMask) == XfsAttrShortform.NamespaceMask)
                return $"attr leaf entry {i} has flags 0x{flags:x} naming two namespaces";
            if (idx < firstused || idx >= bs)
                return $"attr leaf entry {i} nameidx {idx} is outside {firstused}..{bs}";
            int namelen, size, nameAt;
            if ((flags & FlagLocal) != 0)
            {
                if (idx + 3 > bs)
                    return $"attr leaf entry {i} record at {idx} runs past the block";
                namelen = b[idx + 2];
                size = LocalSize(namelen, Be.U16(b, idx));
                nameAt = idx + 3;
            }
            else
            {
                if (idx + 9 > bs)
                    return $"attr leaf entry {i} remote record at {idx} runs past the block";
                namelen = b[idx + 8];
                size = (9 + 2 + namelen + 3) & ~3;
                nameAt = idx + 9;
            }
            if (idx + size > bs)
                return $"attr leaf entry {i} record at {idx} of {size} bytes runs past the block";
            if (namelen == 0 || b.Slice(nameAt, namelen).Contains((byte)0))
                return $"attr leaf entry {i} has a bad name (namelen {namelen})";
            if (hash != XfsDaHash.HashName(b.Slice(nameAt, namelen)) || hash < lastHash)
                return $"attr leaf entry {i} has a bad hashval 0x{hash:x}";
            for (int k = idx; k < idx + size; k++)
            {
                if (used[k])
                    return $"attr leaf entry {i} record at {idx} overlaps another";
                used[k] = true;
            }
            lastHash = hash;
            usedSum += size;
            lowest = Math.Min(lowest, idx);
        }
        if (usedSum != usedbytes)
            return $"bad attr leaf usedbytes {usedbytes}: the records take {usedSum}";
        if (holes == 0 && firstused != lowest)
            return $"bad attr leaf firstused {firstused}: the lowest record is at {lowest}";
        return null;
    }

    /// <summary>The block's bytes, compacted (CRC field zero; the write verifier stamps it).</summary>
    public byte[] ToBytes()
    {
        if (Entries.Count == 0)
            throw new InvalidOperationException("an attr leaf block needs an entry");
        if (!Fits(Entries, BlockSize))
            throw new InvalidOperationException($"{Entries.Count} attributes do not fit a {BlockSize}-byte attr leaf");
        var b = new byte[BlockSize];
        WriteInfo(b, Magic);
        int pos = BlockSize, usedbytes = 0;
        for (int i = 0; i < Entries.Count; i++)
        {
            var a = Entries[i];
            int size = LocalSize(a.Name.Length, a.Value.Length);
            pos -= size;
            usedbytes += size;
            Be.Put16(b, pos, (ushort)a.Value.Length);
            b[pos + 2] = (byte)a.Name.Length;
            a.Name.CopyTo(b, pos + 3);
            a.Value.CopyTo(b, pos + 3 + a.Name.Length);
            int e = HeaderSize + (i * EntrySize);
            Be.Put32(b, e, XfsDaHash.HashName(a.Name));
            Be.Put16(b, e + 4, (ushort)pos);
            b[e + 6] = (byte)(a.Flags | FlagLocal);
        }
        int entriesEnd = HeaderSize + (Entries.Count * EntrySize);
        Be.Put16(b, 56, (ushort)Entries.Count);
        Be.Put16(b, 58, (ushort)usedbytes);
        Be.Put16(b, 60, (ushort)pos);
        Be.Put16(b, 64, (ushort)entriesEnd);
        Be.Put16(b, 66, (ushort)(pos - entriesEnd));
        return b;
    }
}
