namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>
/// An interior block of a directory's dabtree, decoded: its level above the leaves, its sibling
/// links and the (hash, child block) entries in hash order, each hash the largest under its child.
/// </summary>
/// <remarks>Models the kernel's <c>struct xfs_da3_intnode</c> / <c>xfs_da3_node_hdr</c> with the checks of <c>xfs_da3_node_verify</c> (xfs_da_btree.c).</remarks>
public sealed class XfsDa3NodeBlock : XfsDa3Block
{
    private XfsDa3NodeBlock(int blockSize)
        : base(blockSize)
    {
    }

    /// <summary>__level: 1 for a node whose children are leaves.</summary>
    public int Level { get; set; }

    /// <summary>The entries in hash order.</summary>
    public List<XfsDa3NodeEntry> Entries { get; } = [];

    /// <summary>Entries a node block holds.</summary>
    public int Capacity => XfsDir2Format.NodeMaxEntries(BlockSize);

    /// <summary>An empty node.</summary>
    public static XfsDa3NodeBlock Create(int blockSize, int level, ulong blkno, Guid uuid, ulong owner) =>
        new(blockSize) { Level = level, Blkno = blkno, Uuid = uuid, Owner = owner };

    /// <summary>Index of the child to descend to for <paramref name="hash"/>: the first whose hash is at least it, else the last.</summary>
    public int ChildFor(uint hash)
    {
        for (int i = 0; i < Entries.Count; i++)
        {
            if (Entries[i].Hash >= hash)
                return i;
        }
        return Entries.Count - 1;
    }

    /// <summary>Parses and checks a node block. Throws <see cref="XfsCorruptionException"/> naming <paramref name="name"/>.</summary>
    public static XfsDa3NodeBlock ReadFrom(ReadOnlySpan<byte> b, string name)
    {
        int bs = b.Length;
        ushort magic = ReadMagic(b);
        if (magic != XfsDir2Format.NodeMagic)
            throw XfsCorruptionException.BadMagic(name, magic, XfsDir2Format.NodeMagic);
        var node = new XfsDa3NodeBlock(bs);
        node.ReadInfo(b);
        int count = Be.U16(b, 56), level = Be.U16(b, 58);
        if (level is 0 or > XfsDir2Format.MaxDepth)
            throw XfsCorruptionException.BadField(name, "node level", level, $"not 1 to {XfsDir2Format.MaxDepth}");
        if (count == 0 || count > node.Capacity)
            throw XfsCorruptionException.BadField(name, "node count", count, $"not 1 to {node.Capacity}");
        node.Level = level;
        for (int i = 0; i < count; i++)
            node.Entries.Add(new XfsDa3NodeEntry(Be.U32(b, XfsDir2Format.DaHeaderSize + (8 * i)), Be.U32(b, XfsDir2Format.DaHeaderSize + (8 * i) + 4)));
        return node;
    }

    /// <summary>Writes the block (CRC field zero; the write verifier stamps it).</summary>
    public void WriteTo(Span<byte> b)
    {
        Be.NeedRoom(b, BlockSize, "dabtree node");
        if (Entries.Count > Capacity)
            throw new InvalidOperationException($"{Entries.Count} node entries do not fit a block holding {Capacity}");
        b = b[..BlockSize];
        b.Clear();
        WriteInfo(b, XfsDir2Format.NodeMagic);
        Be.Put16(b, 56, (ushort)Entries.Count);
        Be.Put16(b, 58, (ushort)Level);
        for (int i = 0; i < Entries.Count; i++)
        {
            Be.Put32(b, XfsDir2Format.DaHeaderSize + (8 * i), Entries[i].Hash);
            Be.Put32(b, XfsDir2Format.DaHeaderSize + (8 * i) + 4, Entries[i].Before);
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
