using DaxStack.Device.Errors;
using DaxStack.Fs.Xfs.Attr;
using DaxStack.Fs.Xfs.Bmap;
using DaxStack.Fs.Xfs.Buffers;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Xfs.Inode;

/// <summary>
/// An in-core inode: the decoded inode core (<see cref="Core"/>), data fork
/// (<see cref="DataFork"/>, every extent record in memory) and attribute fork
/// (<see cref="AttrFork"/>, present while di_forkoff is not 0). A change is made inside a
/// transaction: <see cref="Join"/> first (so a cancelled transaction puts the in-core state back
/// by re-reading the restored buffers), change <see cref="Core"/> or the fork, then
/// <see cref="Log(XfsTransaction)"/>, which writes the whole inode into its cluster buffer and logs the bytes
/// that changed. Inodes come from <see cref="XfsInodeCache"/>, one object per inode number.
/// </summary>
/// <remarks>Models the kernel's <c>struct xfs_inode</c> (<c>i_ino</c>, <c>i_imap</c>, the core fields copied out of <c>xfs_dinode</c> by <c>xfs_inode_from_disk</c>, <c>i_df</c>, <c>i_af</c>, <c>i_forkoff</c>), <c>xfs_trans_ijoin</c> and <c>xfs_trans_log_inode</c> with the inode flushed into its buffer as <c>xfs_inode_to_disk</c> does. XFS logs inodes as logical log items; our journal logs buffers, so logging an inode logs its bytes in the cluster buffer.</remarks>
public sealed class XfsInode
{
    private XfsTransaction? _joined;
    private XfsTransaction? _lastLogged;
    private long _commitSequence;
    private XfsTransaction? _lastDataLogged;
    private long _dataSyncSequence;

    private XfsInode(XfsMount mount, ulong ino, XfsImap imap, XfsDinode core, XfsIfork dataFork, XfsIfork? attrFork)
    {
        Mount = mount;
        Ino = ino;
        Imap = imap;
        Core = core;
        DataFork = dataFork;
        AttrFork = attrFork;
    }

    /// <summary>The filesystem.</summary>
    public XfsMount Mount { get; }

    /// <summary>The inode number.</summary>
    public ulong Ino { get; }

    /// <summary>Where the inode lives on disk.</summary>
    public XfsImap Imap { get; }

    /// <summary>The inode core (its <see cref="XfsDinode.Literal"/> is not used: the forks live in <see cref="DataFork"/>).</summary>
    public XfsDinode Core { get; private set; }

    /// <summary>The data fork.</summary>
    public XfsIfork DataFork { get; private set; }

    /// <summary>
    /// The attribute fork while the inode has one (di_forkoff not 0): a local fork holds the
    /// short-form bytes (totsize of them), an extents fork its records (the leaf and value
    /// blocks); a btree fork (from an image another implementation wrote) holds the fork area's
    /// raw bytes, kept as they are.
    /// </summary>
    public XfsIfork? AttrFork { get; private set; }

    /// <summary>Whether the inode is allocated.</summary>
    public bool InUse => Core.Mode != 0;

    /// <summary>Whether the inode is a directory.</summary>
    public bool IsDirectory => Core.FileType == XfsDinode.TypeDirectory;

    /// <summary>Whether the inode is a regular file.</summary>
    public bool IsRegular => Core.FileType == XfsDinode.TypeRegular;

    /// <summary>Bytes of the literal area after the core.</summary>
    public int LiteralSize => Mount.Geometry.InodeSize - XfsDinode.CoreSize;

    /// <summary>XFS_IFORK_DSIZE: bytes the data fork may use in the inode.</summary>
    public int DataForkSize => Core.ForkOff != 0 ? Core.ForkOff * 8 : LiteralSize;

    /// <summary>XFS_IFORK_MAXEXT: extent records the data fork holds in the inode.</summary>
    public int DataForkMaxExtents => DataForkSize / XfsBmbtRecord.Size;

    /// <summary>The transaction this inode is joined to, if it is still active.</summary>
    public XfsTransaction? Transaction => _joined is { IsActive: true } ? _joined : null;

    /// <summary>
    /// ili_commit_seq: the log sequence of the last committed transaction that changed this inode,
    /// what fsync forces the log up to (0 when nothing changed it since it was read).
    /// </summary>
    public long CommitSequence
    {
        get
        {
            if (_lastLogged is { IsActive: false } t)
            {
                // A cancelled transaction has sequence 0 and changes nothing here.
                _commitSequence = Math.Max(_commitSequence, t.CommitSequence);
                _lastLogged = null;
            }
            return _commitSequence;
        }
    }

    /// <summary>
    /// The log sequence of the last committed transaction that changed more than this inode's
    /// timestamps (size, block map, links, mode...): what fdatasync forces up to, since a change
    /// of timestamps alone does not need to be durable for the data to be read back (XFS's
    /// ili_fsync_fields without XFS_ILOG_TIMESTAMP).
    /// </summary>
    public long DataSyncSequence
    {
        get
        {
            if (_lastDataLogged is { IsActive: false } t)
            {
                _dataSyncSequence = Math.Max(_dataSyncSequence, t.CommitSequence);
                _lastDataLogged = null;
            }
            return _dataSyncSequence;
        }
    }

    /// <summary>
    /// xfs_trans_ijoin: makes <paramref name="tp"/> the transaction that changes this inode. If
    /// it is cancelled the in-core inode is re-read from the (restored) buffers.
    /// </summary>
    public void Join(XfsTransaction tp)
    {
        ArgumentNullException.ThrowIfNull(tp);
        if (ReferenceEquals(_joined, tp) && tp.IsActive)
            return;
        if (_joined is { IsActive: true })
            throw new InvalidOperationException($"inode {Ino} is joined to another active transaction");
        if (tp.Mount != Mount)
            throw new ArgumentException($"inode {Ino} belongs to another filesystem", nameof(tp));
        _joined = tp;
        tp.OnCancel(Reload);
    }

    /// <summary>
    /// xfs_trans_log_inode: writes the core and data fork into the inode's cluster buffer and logs
    /// the bytes that changed. Joins <paramref name="tp"/> if not joined yet.
    /// </summary>
    public void Log(XfsTransaction tp) => Log(tp, timestampsOnly: false);

    /// <summary>
    /// As <see cref="Log(XfsTransaction)"/>; <paramref name="timestampsOnly"/> says the
    /// transaction changed nothing but timestamps (XFS_ILOG_TIMESTAMP), which fdatasync need not force.
    /// </summary>
    public void Log(XfsTransaction tp, bool timestampsOnly)
    {
        Join(tp);
        _ = CommitSequence;
        _lastLogged = tp;
        if (!timestampsOnly && !ReferenceEquals(_lastDataLogged, tp))
        {
            _ = DataSyncSequence;
            _lastDataLogged = tp;
        }
        var bp = tp.ReadBuffer(Imap.ClusterDaddr, Imap.ClusterLength, XfsInodeBufferOps.Instance);
        Span<byte> inode = stackalloc byte[Mount.Geometry.InodeSize];
        Core.ChangeCount++;
        Encode(inode);
        tp.LogChanges(bp, Imap.Offset, inode, Imap.Offset + XfsFormat.DinodeCrcOffset);
    }

    private void Encode(Span<byte> inode)
    {
        var literal = new byte[LiteralSize];
        var fork = literal.AsSpan(0, DataForkSize);
        var df = DataFork;
        switch (df.Format)
        {
            case XfsDinodeFormat.Local:
                if (df.Local.Length > fork.Length)
                    throw new InvalidOperationException($"inode {Ino}: {df.Local.Length} local bytes do not fit the {fork.Length}-byte fork");
                df.Local.CopyTo(fork);
                break;
            case XfsDinodeFormat.Extents:
                if (df.Count > DataForkMaxExtents)
                    throw new InvalidOperationException($"inode {Ino}: {df.Count} extents do not fit the {fork.Length}-byte fork");
                for (int i = 0; i < df.Count; i++)
                    df.Extents[i].WriteTo(fork.Slice(i * XfsBmbtRecord.Size, XfsBmbtRecord.Size));
                break;
            case XfsDinodeFormat.Btree:
                (df.Btree ?? throw new InvalidOperationException($"inode {Ino}: btree fork without a tree")).WriteRoot(fork, df.Extents);
                break;
            case XfsDinodeFormat.Dev:
                // The device number (xfs_dinode_put_rdev) is kept as read.
                df.Local.AsSpan(0, Math.Min(df.Local.Length, fork.Length)).CopyTo(fork);
                break;
        }
        var core = Core;
        if (core.ForkOff != 0)
        {
            var af = AttrFork ?? throw new InvalidOperationException($"inode {Ino}: forkoff {core.ForkOff} without an attr fork");
            var area = literal.AsSpan(core.ForkOff * 8);
            if (af.Format == XfsDinodeFormat.Extents)
            {
                if (af.Count * XfsBmbtRecord.Size > area.Length)
                    throw new InvalidOperationException($"inode {Ino}: {af.Count} attr extents do not fit the {area.Length}-byte fork");
                for (int i = 0; i < af.Count; i++)
                    af.Extents[i].WriteTo(area.Slice(i * XfsBmbtRecord.Size, XfsBmbtRecord.Size));
                core.ANExtents = (ushort)af.Count;
            }
            else
            {
                if (af.Local.Length > area.Length)
                    throw new InvalidOperationException($"inode {Ino}: {af.Local.Length} attr fork bytes do not fit the {area.Length}-byte fork");
                af.Local.CopyTo(area);
                if (af.Format == XfsDinodeFormat.Local)
                    core.ANExtents = 0;
            }
            core.AFormat = af.Format;
        }
        else
        {
            if (AttrFork != null)
                throw new InvalidOperationException($"inode {Ino}: an attr fork with forkoff 0");
            core.AFormat = XfsDinodeFormat.Extents;
            core.ANExtents = 0;
        }
        core.Format = df.Format;
        core.NExtents = df.Format == XfsDinodeFormat.Local ? 0 : (uint)df.Count;
        core.Literal = literal;
        core.WriteTo(inode);
        core.Literal = [];
    }

    /// <summary>Replaces the data fork (a new or freed inode's empty fork). The caller logs the inode.</summary>
    internal void ReplaceDataFork(XfsIfork fork) => DataFork = fork;

    /// <summary>
    /// Replaces the attribute fork (null: none); the caller has set di_forkoff to match and logs
    /// the inode (xfs_ifork_init_attr, xfs_ifork_zap_attr).
    /// </summary>
    internal void ReplaceAttrFork(XfsIfork? fork) => AttrFork = fork;

    /// <summary>Re-decodes the core from the cluster buffer joined to <paramref name="tp"/> (the on-disk state of a free inode about to be reused).</summary>
    internal void ResetFromBuffer(XfsTransaction tp)
    {
        var bp = tp.ReadBuffer(Imap.ClusterDaddr, Imap.ClusterLength, XfsInodeBufferOps.Instance);
        var core = XfsDinode.ReadFrom(bp.Data.AsSpan(Imap.Offset, Mount.Geometry.InodeSize), Ino, verifyCrc: false);
        var fork = new XfsIfork();
        XfsIfork? attr = null;
        if (core.InUse)
        {
            LoadDataFork(Mount, Ino, core, fork);
            attr = LoadAttrFork(Ino, core);
        }
        core.Literal = [];
        Core = core;
        DataFork = fork;
        AttrFork = attr;
    }

    /// <summary>Re-reads the inode from its cluster buffer (after a cancelled transaction put the buffer back).</summary>
    internal void Reload()
    {
        _joined = null;
        try
        {
            var fresh = Read(Mount, Ino, Imap);
            Core = fresh.Core;
            DataFork = fresh.DataFork;
            AttrFork = fresh.AttrFork;
        }
        catch (XfsException)
        {
            // The cancelled transaction created the cluster (a new inode chunk): there is no
            // inode here any more. Leave an unallocated shell and drop it from the cache.
            XfsInodeCache.For(Mount).Forget(Ino);
            Core = new XfsDinode { Ino = Ino, Uuid = Mount.MetadataUuid };
            DataFork = new XfsIfork();
            AttrFork = null;
        }
    }

    /// <summary>Reads inode <paramref name="ino"/> at <paramref name="imap"/> through the buffer cache.</summary>
    internal static XfsInode Read(XfsMount mp, ulong ino, XfsImap imap)
    {
        var bp = mp.Buffers.Read(imap.ClusterDaddr, imap.ClusterLength, XfsInodeBufferOps.Instance);
        var core = XfsDinode.ReadFrom(bp.Data.AsSpan(imap.Offset, mp.Geometry.InodeSize), ino, verifyCrc: false);
        var fork = new XfsIfork();
        XfsIfork? attr = null;
        if (core.InUse)
        {
            LoadDataFork(mp, ino, core, fork);
            attr = LoadAttrFork(ino, core);
        }
        core.Literal = [];
        return new XfsInode(mp, ino, imap, core, fork, attr);
    }

    // xfs_iformat_attr_fork: a local fork is verified (xfs_attr_shortform_verify) and kept as its
    // totsize bytes, an extents fork as its records; a btree fork keeps the fork area as read,
    // to be written back unchanged.
    private static XfsIfork? LoadAttrFork(ulong ino, XfsDinode core)
    {
        if (core.ForkOff == 0)
            return null;
        var area = core.Literal.AsSpan(core.ForkOff * 8);
        switch (core.AFormat)
        {
            case XfsDinodeFormat.Local:
                XfsAttrShortform.Decode(area, $"inode {ino} attr fork");
                return new XfsIfork { Format = XfsDinodeFormat.Local, Local = area[..Be.U16(area, 0)].ToArray() };
            case XfsDinodeFormat.Extents:
            {
                if (core.ANExtents * XfsBmbtRecord.Size > area.Length)
                    throw XfsCorruptionException.BadField($"inode {ino}", "anextents", core.ANExtents, $"the {area.Length}-byte attr fork holds at most {area.Length / XfsBmbtRecord.Size}");
                var fork = new XfsIfork { Format = XfsDinodeFormat.Extents };
                for (int i = 0; i < core.ANExtents; i++)
                    fork.ExtentList.Add(XfsBmbtRecord.ReadFrom(area.Slice(i * XfsBmbtRecord.Size, XfsBmbtRecord.Size)));
                return fork;
            }
            case XfsDinodeFormat.Btree:
                return new XfsIfork { Format = core.AFormat, Local = area.ToArray() };
            default:
                throw XfsCorruptionException.BadField($"inode {ino}", "aformat", core.AFormat, "not an attribute fork format");
        }
    }

    private static void LoadDataFork(XfsMount mp, ulong ino, XfsDinode core, XfsIfork fork)
    {
        var geo = mp.Geometry;
        var data = core.DataFork;
        fork.Format = core.Format;
        switch (core.Format)
        {
            case XfsDinodeFormat.Local:
                fork.Local = data[..(int)core.Size].ToArray();
                break;
            case XfsDinodeFormat.Extents:
                foreach (var rec in core.ReadExtents())
                    fork.ExtentList.Add(rec);
                break;
            case XfsDinodeFormat.Dev:
                fork.Local = data[..Math.Min(sizeof(uint), data.Length)].ToArray();
                return;
            case XfsDinodeFormat.Btree:
                fork.Btree = XfsBmbtTree.Load(data, ino, geo, mp.MetadataUuid,
                    fsb => mp.Buffers.Read(geo.AgBlockToDaddr(geo.FsbToAgno(fsb), geo.FsbToAgbno(fsb)), geo.BlockSize, XfsBmbtBufferOps.Instance).Data,
                    fork.ExtentList);
                if (fork.Count != core.NExtents)
                    throw XfsCorruptionException.BadField($"inode {ino}", "nextents", core.NExtents, $"its bmbt holds {fork.Count} records");
                if (fork.Count <= data.Length / XfsBmbtRecord.Size)
                    throw new XfsCorruptionException($"inode {ino}", $"btree format with {fork.Count} extents, which fit the inode");
                break;
            default:
                return;
        }
        CheckExtents(ino, geo, fork.Extents);
    }

    private static void CheckExtents(ulong ino, XfsGeometry geo, IReadOnlyList<XfsBmbtRecord> extents)
    {
        ulong end = 0;
        for (int i = 0; i < extents.Count; i++)
        {
            var e = extents[i];
            if (e.BlockCount == 0)
                throw new XfsCorruptionException($"inode {ino}", $"extent {i} has length 0");
            if (i > 0 && e.StartOff < end)
                throw new XfsCorruptionException($"inode {ino}", $"extent {i} at file block {e.StartOff} overlaps or precedes the one before (ending at {end})");
            ulong last = e.StartBlock + e.BlockCount - 1;
            if (!geo.IsValidFsb(e.StartBlock) || !geo.IsValidFsb(last) || geo.FsbToAgno(e.StartBlock) != geo.FsbToAgno(last))
                throw new XfsCorruptionException($"inode {ino}", $"extent {i} ({e.StartBlock}+{e.BlockCount}) is not inside one AG of the filesystem");
            end = e.StartOff + e.BlockCount;
        }
    }

    public override string ToString() => $"inode {Ino}";
}
