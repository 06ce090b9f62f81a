using DaxStack.Device.Errors;
using DaxStack.Fs.Xfs.Buffers;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Xfs.Dir2;

/// <summary>
/// The state of one directory operation: the transaction, the directory, the geometry, and the
/// directory blocks read or created so far, decoded once and written back (logged) together by
/// <see cref="Flush"/>. Keeping one decoded copy per block means a block reached twice (a leaf
/// that is also a sibling being relinked) is changed in one place.
/// </summary>
/// <remarks>Models the kernel's <c>struct xfs_da_args</c> / <c>xfs_da_state</c> with <c>xfs_dir3_data_read</c>, <c>xfs_da3_node_read</c>, <c>xfs_dir2_free_read</c>, <c>xfs_da_grow_inode_int</c> (<c>xfs_bmap_first_unused</c>) and <c>xfs_dir2_shrink_inode</c> (<c>xfs_bunmapi</c> plus <c>xfs_trans_binval</c>).</remarks>
internal sealed class XfsDir2Args
{
    private sealed class Cached(XfsBuffer bp, object model)
    {
        public XfsBuffer Bp { get; } = bp;
        public object Model { get; set; } = model;
        public bool Dirty { get; set; }
    }

    private readonly Dictionary<ulong, Cached> _cache = [];

    public XfsDir2Args(XfsTransaction tp, IXfsDirectoryInode dp)
    {
        ArgumentNullException.ThrowIfNull(tp);
        ArgumentNullException.ThrowIfNull(dp);
        Tp = tp;
        Dp = dp;
        Geo = tp.Mount.Geometry;
        Bs = Geo.BlockSize;
        LeafBlk = XfsDir2Format.LeafBlock(Bs);
        FreeBlk = XfsDir2Format.FreeBlock(Bs);
        MaxBests = XfsDir2Format.FreeMaxBests(Bs);
    }

    public XfsTransaction Tp { get; }
    public IXfsDirectoryInode Dp { get; }
    public XfsGeometry Geo { get; }
    public int Bs { get; }
    public ulong LeafBlk { get; }
    public ulong FreeBlk { get; }
    public int MaxBests { get; }
    public Guid Uuid => Tp.Mount.MetadataUuid;

    /// <summary>The directory as error messages name it.</summary>
    public string Name => $"directory inode {Dp.Ino}";

    /// <summary>xfs_dir2_format: which shape the directory has, from its fork and block map.</summary>
    public XfsDir2Form Form()
    {
        if (Dp.DataFormat == XfsDinodeFormat.Local)
            return XfsDir2Form.Shortform;
        if (Dp.DataFormat is not (XfsDinodeFormat.Extents or XfsDinodeFormat.Btree))
            throw XfsCorruptionException.BadField(Name, "data fork format", Dp.DataFormat, "not local, extents or btree");
        var first = Dp.NextMappedBlock(Tp, 0);
        if (first == null)
            throw new XfsCorruptionException(Name, "the directory has no blocks");
        if (Dp.NextMappedBlock(Tp, 1) == null)
        {
            if (first != 0)
                throw new XfsCorruptionException(Name, $"the only block is at {first}, not 0");
            return XfsDir2Form.Block;
        }
        if (Dp.TryMapBlock(Tp, LeafBlk, out _) && Dp.NextMappedBlock(Tp, LeafBlk + 1) == null)
            return XfsDir2Form.Leaf;
        return XfsDir2Form.Node;
    }

    public ulong Daddr(ulong fsb) => Geo.AgBlockToDaddr(Geo.FsbToAgno(fsb), Geo.FsbToAgbno(fsb));

    public bool IsMapped(ulong dablk) => Dp.TryMapBlock(Tp, dablk, out _);

    /// <summary>The first unmapped directory block in [<paramref name="from"/>, <paramref name="limit"/>).</summary>
    public ulong FirstHole(ulong from, ulong limit)
    {
        ulong b = from;
        while (b < limit)
        {
            var next = Dp.NextMappedBlock(Tp, b);
            if (next == null || next.Value > b)
                return b;
            b++;
        }
        throw new XfsException(Errno.ENOSPC, $"{Name}: no free directory block between {from} and {limit}");
    }

    /// <summary>The highest mapped data block (below the leaf space), or null.</summary>
    public ulong? LastDataBlock()
    {
        ulong? last = null;
        ulong b = 0;
        while (Dp.NextMappedBlock(Tp, b) is ulong next && next < LeafBlk)
        {
            last = next;
            b = next + 1;
        }
        return last;
    }

    public XfsDir2DataBlock Data(ulong db, bool blockForm = false) =>
        Load(db, blockForm ? XfsDir2DataBufferOps.Block : XfsDir2DataBufferOps.Data, (b, n) => XfsDir2DataBlock.ReadFrom(b, n), m => ((XfsDir2DataBlock)m).Owner);

    public XfsDir2LeafBlock Leaf1() =>
        Load(LeafBlk, XfsDir2LeafBufferOps.Instance, (b, n) => XfsDir2LeafBlock.ReadFrom(b, n), m => ((XfsDir2LeafBlock)m).Owner);

    /// <summary>A dabtree block: an <see cref="XfsDa3NodeBlock"/> or a LEAFN <see cref="XfsDir2LeafBlock"/>.</summary>
    public object Da(ulong dablk)
    {
        if (dablk < LeafBlk || dablk >= FreeBlk)
            throw XfsCorruptionException.BadField(Name, "dabtree block number", dablk, $"outside the leaf space {LeafBlk}..{FreeBlk - 1}");
        var model = Load<object>(dablk, XfsDa3NodeBufferOps.Instance, (b, n) => Be16(b) == XfsDir2Format.NodeMagic ? XfsDa3NodeBlock.ReadFrom(b, n) : XfsDir2LeafBlock.ReadFrom(b, n),
            m => m is XfsDa3NodeBlock node ? node.Owner : ((XfsDir2LeafBlock)m).Owner);
        if (model is not (XfsDa3NodeBlock or XfsDir2LeafBlock))
            throw new XfsCorruptionException(Name, $"directory block {dablk} is not a dabtree block");
        return model;
    }

    public XfsDir2FreeBlock Free(ulong fdb) =>
        Load(fdb, XfsDir2FreeBufferOps.Instance, (b, n) => XfsDir2FreeBlock.ReadFrom(b, n), m => ((XfsDir2FreeBlock)m).Owner);

    private static ushort Be16(byte[] b) => (ushort)((b[8] << 8) | b[9]);

    private T Load<T>(ulong dablk, IXfsBufferOps ops, Func<byte[], string, T> parse, Func<object, ulong> owner)
        where T : class
    {
        if (_cache.TryGetValue(dablk, out var c))
        {
            if (c.Model is T cached)
                return cached;
            throw new XfsCorruptionException(Name, $"directory block {dablk} is a {c.Model.GetType().Name}, not a {typeof(T).Name}");
        }
        if (!Dp.TryMapBlock(Tp, dablk, out ulong fsb))
            throw new XfsCorruptionException(Name, $"directory block {dablk} is not mapped");
        if (!Geo.IsValidFsb(fsb))
            throw XfsCorruptionException.BadField(Name, $"directory block {dablk} address", fsb, "outside the filesystem");
        var bp = Tp.ReadBuffer(Daddr(fsb), Bs, ops);
        var model = parse(bp.Data, bp.Name);
        if (owner(model) != Dp.Ino)
            throw XfsCorruptionException.BadField(bp.Name, "owner", owner(model), $"the block belongs to {Name}");
        _cache[dablk] = new Cached(bp, model);
        return model;
    }

    /// <summary>Allocates directory block <paramref name="dablk"/> and caches the model <paramref name="make"/> builds from its disk address.</summary>
    public T New<T>(ulong dablk, Func<ulong, T> make)
        where T : class
    {
        if (_cache.ContainsKey(dablk))
            throw new InvalidOperationException($"{Name}: directory block {dablk} is already in use");
        ulong fsb = Dp.AllocateBlock(Tp, dablk);
        ulong daddr = Daddr(fsb);
        var model = make(daddr);
        var bp = Tp.GetBuffer(daddr, Bs, OpsFor(model));
        _cache[dablk] = new Cached(bp, model) { Dirty = true };
        return model;
    }

    /// <summary>The disk address of cached block <paramref name="dablk"/>.</summary>
    public ulong DaddrOf(ulong dablk) => Entry(dablk).Bp.Daddr;

    /// <summary>Replaces the decoded contents of cached block <paramref name="dablk"/> (a format change).</summary>
    public void Replace(ulong dablk, object model)
    {
        var c = Entry(dablk);
        c.Model = model;
        c.Dirty = true;
    }

    public void Dirty(ulong dablk) => Entry(dablk).Dirty = true;

    /// <summary>Unmaps and frees block <paramref name="dablk"/> (which must have been read), invalidating its buffer.</summary>
    public void Release(ulong dablk)
    {
        var c = Entry(dablk);
        Tp.Invalidate(c.Bp);
        Dp.FreeBlock(Tp, dablk);
        _cache.Remove(dablk);
    }

    /// <summary>Logs every changed block.</summary>
    public void Flush()
    {
        foreach (var c in _cache.Values)
        {
            if (!c.Dirty)
                continue;
            var ops = OpsFor(c.Model);
            var bp = c.Bp;
            // A block that changed kind (block to data, leaf1 to leafn) gets its new verifier.
            if (!ReferenceEquals(bp.Ops, ops))
                bp = Tp.GetBuffer(bp.Daddr, Bs, ops);
            var (image, crc) = c.Model switch
            {
                XfsDir2DataBlock d => (d.ToBytes(), XfsDir2Format.DataCrcOffset),
                XfsDir2LeafBlock l => (l.ToBytes(), XfsDir2Format.DaCrcOffset),
                XfsDa3NodeBlock n => (n.ToBytes(), XfsDir2Format.DaCrcOffset),
                XfsDir2FreeBlock f => (f.ToBytes(), XfsDir2Format.DataCrcOffset),
                _ => throw new InvalidOperationException($"unknown directory block model {c.Model.GetType().Name}"),
            };
            Tp.LogChanges(bp, 0, image, crc);
            c.Dirty = false;
        }
    }

    private Cached Entry(ulong dablk) =>
        _cache.TryGetValue(dablk, out var c) ? c : throw new InvalidOperationException($"{Name}: directory block {dablk} was not read in this operation");

    private static IXfsBufferOps OpsFor(object model) => model switch
    {
        XfsDir2DataBlock d => d.IsBlockForm ? XfsDir2DataBufferOps.Block : XfsDir2DataBufferOps.Data,
        XfsDir2LeafBlock l => l.IsLeafN ? XfsDa3NodeBufferOps.Instance : XfsDir2LeafBufferOps.Instance,
        XfsDa3NodeBlock => XfsDa3NodeBufferOps.Instance,
        XfsDir2FreeBlock => XfsDir2FreeBufferOps.Instance,
        _ => throw new InvalidOperationException($"unknown directory block model {model.GetType().Name}"),
    };
}
