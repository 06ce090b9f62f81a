namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>What distinguishes each AG B+tree's blocks: magic, name, record, key and pointer sizes.</summary>
/// <remarks>The per-tree constants of the kernel's xfs_alloc_btree.c, xfs_ialloc_btree.c and xfs_refcount_btree.c (<c>*_maxrecs</c>).</remarks>
public static class XfsBtreeKinds
{
    /// <summary>The CRC-format magic number of the tree's blocks.</summary>
    public static uint Magic(this XfsBtreeKind kind) => kind switch
    {
        XfsBtreeKind.Bno => XfsMagic.BnoBtree,
        XfsBtreeKind.Cnt => XfsMagic.CntBtree,
        XfsBtreeKind.Ino => XfsMagic.InoBtree,
        XfsBtreeKind.Fino => XfsMagic.FinoBtree,
        XfsBtreeKind.Refcount => XfsMagic.RefcountBtree,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>The tree's name as xfs_repair and xfs_db print it (bnobt, cntbt, inobt, finobt, refcountbt).</summary>
    public static string Name(this XfsBtreeKind kind) => kind switch
    {
        XfsBtreeKind.Bno => "bnobt",
        XfsBtreeKind.Cnt => "cntbt",
        XfsBtreeKind.Ino => "inobt",
        XfsBtreeKind.Fino => "finobt",
        XfsBtreeKind.Refcount => "refcountbt",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>Bytes per leaf record.</summary>
    public static int RecordSize(this XfsBtreeKind kind) => kind switch
    {
        XfsBtreeKind.Bno or XfsBtreeKind.Cnt => XfsAllocRecord.Size,
        XfsBtreeKind.Ino or XfsBtreeKind.Fino => XfsInobtRecord.Size,
        XfsBtreeKind.Refcount => XfsRefcountRecord.Size,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>Bytes per node key (the free-space trees key on both fields; inode and refcount trees on the start).</summary>
    public static int KeySize(this XfsBtreeKind kind) => kind switch
    {
        XfsBtreeKind.Bno or XfsBtreeKind.Cnt => 8,
        _ => 4,
    };

    /// <summary>The most records a leaf (<paramref name="leaf"/>) or key/pointer pairs a node holds in a block of <paramref name="blockSize"/> bytes.</summary>
    public static int MaxRecords(this XfsBtreeKind kind, int blockSize, bool leaf)
    {
        int room = blockSize - XfsBtreeShortBlock.HeaderSize;
        return leaf ? room / kind.RecordSize() : room / (kind.KeySize() + sizeof(uint));
    }
}
