using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Dir2;

/// <summary>
/// A directory as the checker and the read-only lister see it: the inode's number, fork format,
/// size and local bytes, the block map (directory block to filesystem block), and a way to read
/// a filesystem block's raw bytes (no verification: the checker wants to report what is wrong).
/// </summary>
/// <remarks>Models the inputs of xfs_repair's directory checks: the in-core inode fork (<c>xfs_iext</c> records) and unverified <c>libxfs_readbuf</c> reads.</remarks>
/// <param name="Ino">The directory's inode number.</param>
/// <param name="Format">di_format of the data fork.</param>
/// <param name="Size">di_size.</param>
/// <param name="Local">The data fork's bytes when local.</param>
/// <param name="Map">Directory block → filesystem block, for every mapped block.</param>
/// <param name="ReadBlock">Reads one filesystem block's bytes.</param>
/// <param name="Geometry">The filesystem's geometry.</param>
/// <param name="Uuid">The metadata uuid every block must carry.</param>
public sealed record XfsDirectorySource(
    ulong Ino,
    XfsDinodeFormat Format,
    ulong Size,
    byte[] Local,
    SortedDictionary<ulong, ulong> Map,
    Func<ulong, byte[]> ReadBlock,
    XfsGeometry Geometry,
    Guid Uuid)
{
    /// <summary>XFS_BMAP_CRC_MAGIC, "BMA3": a block-map B+tree block.</summary>
    private const uint BmapMagic = 0x424d4133;

    /// <summary>sizeof(struct xfs_btree_block) for v5 long-pointer blocks; the CRC sits at 64.</summary>
    private const int LongBlockHeader = 72;

    /// <summary>
    /// The directory in inode <paramref name="inode"/> of an image: the local fork, the extent
    /// records, or the records of the block-map B+tree rooted in the fork (its blocks read through
    /// <paramref name="readBlock"/> and checked: magic, CRC, level, owner), expanded block by block.
    /// </summary>
    public static XfsDirectorySource FromDinode(XfsDinode inode, XfsGeometry geometry, Guid uuid, Func<ulong, byte[]> readBlock)
    {
        ArgumentNullException.ThrowIfNull(inode);
        ArgumentNullException.ThrowIfNull(geometry);
        ArgumentNullException.ThrowIfNull(readBlock);
        var map = new SortedDictionary<ulong, ulong>();
        string name = $"inode {inode.Ino}";
        IEnumerable<XfsBmbtRecord> records = inode.Format switch
        {
            XfsDinodeFormat.Local => [],
            XfsDinodeFormat.Extents => inode.ReadExtents(),
            XfsDinodeFormat.Btree => BtreeRecords(inode, geometry, uuid, readBlock),
            _ => throw XfsCorruptionException.BadField(name, "data fork format", inode.Format, "not a directory format"),
        };
        foreach (var x in records)
        {
            for (uint i = 0; i < x.BlockCount; i++)
            {
                if (!map.TryAdd(x.StartOff + i, x.StartBlock + i))
                    throw new XfsCorruptionException(name, $"directory block {x.StartOff + i} is mapped twice");
            }
        }
        byte[] local = inode.Format == XfsDinodeFormat.Local ? inode.DataFork.ToArray() : [];
        return new XfsDirectorySource(inode.Ino, inode.Format, inode.Size, local, map, readBlock, geometry, uuid);
    }

    private static List<XfsBmbtRecord> BtreeRecords(XfsDinode inode, XfsGeometry geo, Guid uuid, Func<ulong, byte[]> readBlock)
    {
        string name = $"inode {inode.Ino}";
        var fork = inode.DataFork;
        if (fork.Length < 4)
            throw new XfsCorruptionException(name, "block-map B+tree root truncated");
        int level = Be.U16(fork, 0), numrecs = Be.U16(fork, 2);
        // xfs_bmdr_maxrecs: keys and pointers share the fork after the 4-byte root header.
        int rootMax = (fork.Length - 4) / 16;
        if (level == 0 || level > 9 || numrecs == 0 || numrecs > rootMax)
            throw new XfsCorruptionException(name, $"block-map B+tree root has level {level} and {numrecs} records (at most {rootMax})");
        var records = new List<XfsBmbtRecord>();
        var visited = new HashSet<ulong>();
        for (int i = 0; i < numrecs; i++)
            Walk(Be.U64(fork, 4 + (rootMax * 8) + (i * 8)), level - 1);
        return records;

        void Walk(ulong fsb, int expectLevel)
        {
            string what = $"bmbt block {fsb} of inode {inode.Ino}";
            if (!geo.IsValidFsb(fsb) || !visited.Add(fsb))
                throw new XfsCorruptionException(what, "pointer outside the filesystem or reached twice");
            var b = readBlock(fsb);
            if (Be.U32(b, 0) != BmapMagic)
                throw XfsCorruptionException.BadMagic(what, Be.U32(b, 0), BmapMagic);
            if (!XfsCrc.Verify(b, 64))
                throw XfsCorruptionException.CrcMismatch(what);
            int lvl = Be.U16(b, 4), n = Be.U16(b, 6);
            if (lvl != expectLevel)
                throw XfsCorruptionException.BadField(what, "level", lvl, $"expected {expectLevel}");
            if (Be.Uuid(b, 40) != uuid || Be.U64(b, 56) != inode.Ino)
                throw new XfsCorruptionException(what, "uuid or owner is not this inode's");
            int max = (b.Length - LongBlockHeader) / (lvl == 0 ? XfsBmbtRecord.Size : 16);
            if (n == 0 || n > max)
                throw XfsCorruptionException.BadField(what, "numrecs", n, $"not 1 to {max}");
            for (int i = 0; i < n; i++)
            {
                if (lvl == 0)
                    records.Add(XfsBmbtRecord.ReadFrom(b.AsSpan(LongBlockHeader + (i * XfsBmbtRecord.Size), XfsBmbtRecord.Size)));
                else
                    Walk(Be.U64(b, LongBlockHeader + (max * 8) + (i * 8)), lvl - 1);
            }
        }
    }
}
