namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>
/// A free-index block of a node directory, decoded: for data blocks <see cref="FirstDb"/> onward,
/// the longest free region of each (NULLDATAOFF for a hole), with the count of slots in use
/// (nvalid) and of slots naming a data block (nused).
/// </summary>
/// <remarks>Models the kernel's <c>struct xfs_dir3_free_hdr</c> / <c>xfs_dir3_free</c> with the checks of <c>xfs_dir3_free_verify</c> and <c>xfs_dir3_free_header_check</c> (xfs_dir2_node.c).</remarks>
public sealed class XfsDir2FreeBlock : XfsDir3Block
{
    private XfsDir2FreeBlock(int blockSize)
        : base(blockSize)
    {
    }

    /// <summary>firstdb: the data block of Bests[0].</summary>
    public int FirstDb { get; set; }

    /// <summary>The bests of data blocks FirstDb.. (nvalid of them).</summary>
    public List<ushort> Bests { get; } = [];

    /// <summary>nused as read (recomputed on write).</summary>
    public int StoredNUsed { get; private set; }

    /// <summary>Slots naming a data block.</summary>
    public int NUsed => Bests.Count(b => b != XfsDir2Format.NullDataOff);

    /// <summary>An empty free-index block for data blocks from <paramref name="firstDb"/>.</summary>
    public static XfsDir2FreeBlock Create(int blockSize, int firstDb, ulong blkno, Guid uuid, ulong owner) =>
        new(blockSize) { FirstDb = firstDb, Blkno = blkno, Uuid = uuid, Owner = owner };

    /// <summary>Parses and checks a free-index block. Throws <see cref="XfsCorruptionException"/> naming <paramref name="name"/>.</summary>
    public static XfsDir2FreeBlock ReadFrom(ReadOnlySpan<byte> b, string name)
    {
        int bs = b.Length;
        uint magic = Be.U32(b, 0);
        if (magic != XfsDir2Format.FreeMagic)
            throw XfsCorruptionException.BadMagic(name, magic, XfsDir2Format.FreeMagic);
        var free = new XfsDir2FreeBlock(bs);
        free.ReadSelfDescription(b, 8);
        int max = XfsDir2Format.FreeMaxBests(bs);
        int firstDb = (int)Be.U32(b, 48), nvalid = (int)Be.U32(b, 52), nused = (int)Be.U32(b, 56);
        if (firstDb < 0 || firstDb % max != 0)
            throw XfsCorruptionException.BadField(name, "free firstdb", firstDb, $"not a multiple of {max}");
        if (nvalid < 0 || nvalid > max)
            throw XfsCorruptionException.BadField(name, "free nvalid", nvalid, $"not 0 to {max}");
        if (nused < 0 || nused > nvalid)
            throw XfsCorruptionException.BadField(name, "free nused", nused, $"not 0 to nvalid {nvalid}");
        free.FirstDb = firstDb;
        free.StoredNUsed = nused;
        for (int i = 0; i < nvalid; i++)
            free.Bests.Add(Be.U16(b, XfsDir2Format.DaHeaderSize + (2 * i)));
        return free;
    }

    /// <summary>Writes the block (CRC field zero; the write verifier stamps it).</summary>
    public void WriteTo(Span<byte> b)
    {
        Be.NeedRoom(b, BlockSize, "directory free block");
        if (Bests.Count > XfsDir2Format.FreeMaxBests(BlockSize))
            throw new InvalidOperationException($"{Bests.Count} bests do not fit a free block");
        b = b[..BlockSize];
        b.Clear();
        Be.Put32(b, 0, XfsDir2Format.FreeMagic);
        WriteSelfDescription(b, 8);
        Be.Put32(b, 48, (uint)FirstDb);
        Be.Put32(b, 52, (uint)Bests.Count);
        Be.Put32(b, 56, (uint)NUsed);
        StoredNUsed = NUsed;
        for (int i = 0; i < Bests.Count; i++)
            Be.Put16(b, XfsDir2Format.DaHeaderSize + (2 * i), Bests[i]);
    }

    /// <summary>The block's bytes.</summary>
    public byte[] ToBytes()
    {
        var b = new byte[BlockSize];
        WriteTo(b);
        return b;
    }
}
