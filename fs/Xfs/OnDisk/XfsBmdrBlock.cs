namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>
/// The root of a block-map B+tree kept inside an inode fork (format btree): a 4-byte header
/// (level, number of keys), then as many keys (file offsets) and pointers (filesystem blocks)
/// as the fork has room for, the pointers starting after the room for all the keys.
/// Read-only: the checker decodes these.
/// </summary>
/// <remarks>Models the kernel's <c>struct xfs_bmdr_block</c> with <c>xfs_bmdr_maxrecs</c>, <c>xfs_bmdr_key_addr</c> and <c>xfs_bmdr_ptr_addr</c> (xfs_bmap_btree.h).</remarks>
public sealed class XfsBmdrBlock
{
    /// <summary>sizeof(xfs_bmdr_block_t): bytes before the first key.</summary>
    public const int HeaderSize = 4;

    private XfsBmdrBlock(ushort level, ulong[] keys, ulong[] pointers)
    {
        Level = level;
        Keys = keys;
        Pointers = pointers;
    }

    /// <summary>bb_level: the root's level (at least 1: a fork whose extents fit the inode uses the extents format).</summary>
    public ushort Level { get; }

    /// <summary>The keys: the first file offset mapped under each pointer.</summary>
    public IReadOnlyList<ulong> Keys { get; }

    /// <summary>The pointers: filesystem blocks of the children.</summary>
    public IReadOnlyList<ulong> Pointers { get; }

    /// <summary>xfs_bmdr_maxrecs: key/pointer pairs a fork of <paramref name="forkSize"/> bytes holds.</summary>
    public static int MaxRecords(int forkSize) => (forkSize - HeaderSize) / (XfsBtreeLongBlock.KeySize + XfsBtreeLongBlock.PointerSize);

    /// <summary>
    /// Parses the root in <paramref name="fork"/> (the whole fork) of the fork named
    /// <paramref name="name"/>: level 1 to <see cref="XfsAgf.MaxLevels"/> - 1 and 1 to
    /// <see cref="MaxRecords"/> keys. Throws <see cref="XfsCorruptionException"/>.
    /// </summary>
    public static XfsBmdrBlock ReadFrom(ReadOnlySpan<byte> fork, string name)
    {
        Be.Need(fork, HeaderSize, name);
        ushort level = Be.U16(fork, 0);
        ushort numrecs = Be.U16(fork, 2);
        int max = MaxRecords(fork.Length);
        if (level is 0 || level >= XfsAgf.MaxLevels)
            throw XfsCorruptionException.BadField(name, "bmbt root level", level, $"not 1 to {XfsAgf.MaxLevels - 1}");
        if (numrecs == 0 || numrecs > max)
            throw XfsCorruptionException.BadField(name, "bmbt root numrecs", numrecs, $"not 1 to {max}");
        var keys = new ulong[numrecs];
        var pointers = new ulong[numrecs];
        int pointerBase = HeaderSize + max * XfsBtreeLongBlock.KeySize;
        for (int i = 0; i < numrecs; i++)
        {
            keys[i] = Be.U64(fork, HeaderSize + i * XfsBtreeLongBlock.KeySize);
            pointers[i] = Be.U64(fork, pointerBase + i * XfsBtreeLongBlock.PointerSize);
        }
        return new XfsBmdrBlock(level, keys, pointers);
    }
}
