using DaxStack.Device.Errors;
using DaxStack.Driver.Block;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Mkfs;

/// <summary>
/// Makes an empty XFS v5 filesystem on a block device: a superblock, AGF, AGI and AGFL in every
/// AG, the free-space, inode, free-inode and refcount B+tree roots, the first inode chunk in
/// AG 0 with the root directory and the realtime bitmap and summary inodes, and a clean
/// internal log. Everything goes through <see cref="IBlockDeviceOperations"/>; the layout is
/// computed and validated before the first write. Write order: old superblocks wiped, all
/// metadata written and flushed, then the primary superblock written and flushed last, so a
/// crash part way leaves no superblock claiming a half-made filesystem.
/// </summary>
/// <remarks>Models mkfs.xfs's main path (mkfs/xfs_mkfs.c: <c>zero_old_xfs_structures</c>, <c>initialise_ag_headers</c>, <c>prepare_devices</c>, <c>libxfs_log_clear</c>, <c>initialise_ag_freespace</c>, root and realtime inode creation).</remarks>
public sealed class XfsMkfs
{
    private readonly IBlockDeviceOperations _device;
    private readonly XfsMkfsOptions _options;

    private XfsMkfs(IBlockDeviceOperations device, XfsMkfsOptions options)
    {
        _device = device;
        _options = options;
    }

    /// <summary>
    /// Formats <paramref name="device"/> and returns the layout written. Refuses (before writing
    /// anything) a read-only device, a device whose logical block is not 512 bytes, options
    /// <see cref="XfsMkfsLayout.Plan"/> rejects, and, without <see cref="XfsMkfsOptions.Force"/>,
    /// a device that already holds an XFS superblock (EEXIST). A failed write throws
    /// <see cref="XfsException"/> with EIO.
    /// </summary>
    public static XfsMkfsLayout Format(IBlockDeviceOperations device, XfsMkfsOptions options)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(options);
        var limits = device.Limits;
        if (limits.ReadOnly)
            throw new XfsMkfsException(Errno.EROFS, $"{device.Name} is read-only");
        if (limits.LogicalBlockSize != XfsFormat.SectorSize)
            throw new XfsMkfsException(Errno.EINVAL,
                $"{device.Name} has {limits.LogicalBlockSize}-byte logical blocks: this filesystem uses {XfsFormat.SectorSize}-byte sectors (sectsz={XfsFormat.SectorSize})");
        var layout = XfsMkfsLayout.Plan(limits.Capacity, options);
        var mkfs = new XfsMkfs(device, options);
        var old = ProbeExisting(device);
        if (old != null && !options.Force)
            throw new XfsMkfsException(Errno.EEXIST, "appears to contain an existing filesystem (xfs)");
        mkfs.Write(layout, old);
        return layout;
    }

    /// <summary>
    /// The superblock at the start of <paramref name="device"/> if it has XFS's magic number, else
    /// null. It need not verify: a damaged filesystem is still one to protect from overwriting.
    /// </summary>
    public static XfsSuperblock? ProbeExisting(IBlockDeviceOperations device)
    {
        ArgumentNullException.ThrowIfNull(device);
        Span<byte> sector = stackalloc byte[XfsFormat.SectorSize];
        if (device.Limits.Capacity < sector.Length || device.Read(0, sector) != BlkStatus.Ok)
            return null;
        if (Be.U32(sector, 0) != XfsMagic.Superblock)
            return null;
        try
        {
            return XfsSuperblock.ReadFrom(sector);
        }
        catch (XfsCorruptionException)
        {
            // Not a readable v5 superblock (old format, bad CRC): still an XFS magic number,
            // which is what mkfs.xfs's probe (blkid) goes by.
            return XfsSuperblock.Decode(sector);
        }
    }

    private void Write(XfsMkfsLayout layout, XfsSuperblock? old)
    {
        var geo = layout.Geometry;
        long capacity = _device.Limits.Capacity;
        // Wipe the old filesystem's secondary superblocks (they could otherwise be found by a
        // repair scan), then other tools' signatures at both ends of the device.
        if (old != null)
            WipeOldSecondaries(old, capacity);
        ZeroRange(0, Math.Min(XfsMkfsLayout.WhackBytes, capacity), "start of the device");
        long tail = Math.Max(0, capacity - XfsMkfsLayout.WhackBytes) & ~(long)(XfsFormat.SectorSize - 1);
        ZeroRange(tail, capacity - tail, "end of the device");

        ZeroRange(geo.LogOffset, (long)geo.LogBlocks << geo.BlockLog, "internal log");
        var logBlock = new byte[geo.BlockSize];
        XlogUnmountRecord.Write(logBlock, layout.Superblock.Uuid);
        WriteBytes(geo.LogOffset, logBlock, "log record at block 0");

        foreach (var ag in layout.Ags)
            WriteAg(layout, ag);
        WriteInodeChunk(layout);
        Flush("metadata");

        // The primary superblock last: until it is durable the device holds no filesystem.
        var sector = new byte[XfsFormat.SectorSize];
        layout.Superblock.WriteTo(sector);
        WriteBytes(0, sector, "sb 0", BioFlags.Fua);
        Flush("sb 0");
    }

    private void WipeOldSecondaries(XfsSuperblock old, long capacity)
    {
        var zero = new byte[XfsFormat.SectorSize];
        // Only a plausible old geometry says where its secondaries are (zero_old_xfs_structures'
        // test): a power-of-two block size matching blocklog and dblocks that fit the AGs.
        bool plausible = old.BlockSize is >= 512 and <= 65536 && old.BlockSize == 1u << old.BlockLog && old.AgBlocks >= 64
                         && old.AgCount > 0 && old.DataBlocks <= (ulong)old.AgCount * old.AgBlocks
                         && old.DataBlocks >= (ulong)(old.AgCount - 1) * old.AgBlocks + 64;
        for (ulong agno = 1; plausible && agno < old.AgCount; agno++)
        {
            long offset = (long)(agno * old.AgBlocks * old.BlockSize);
            if (offset < 0 || offset + zero.Length > capacity)
                break;
            WriteBytes(offset, zero, $"old sb {agno}");
        }
        // The old primary goes too, so an interrupted mkfs does not leave the old filesystem
        // looking intact over new metadata.
        WriteBytes(0, zero, "old sb 0");
        Flush("old superblocks");
    }

    private void WriteAg(XfsMkfsLayout layout, XfsAgLayout ag)
    {
        var geo = layout.Geometry;
        var sb = layout.Superblock;
        Guid uuid = sb.MetadataUuid;
        int sect = geo.SectorSize;
        // Block 0: superblock, AGF, AGI, AGFL sectors. AG 0's superblock sector stays zero until
        // the primary is written at the end.
        var header = new byte[geo.BlockSize];
        if (ag.AgNo != 0)
            layout.SecondarySuperblockFor(ag.AgNo).WriteTo(header.AsSpan(0, sect));

        bool reflink = (sb.FeaturesRoCompat & XfsRoCompatFeatures.Reflink) != 0;
        uint agflCount = (uint)ag.AgflBlocks.Length;
        var agf = new XfsAgf
        {
            SeqNo = ag.AgNo,
            Length = ag.Length,
            BnoRoot = XfsMkfsLayout.BnoRootBlock,
            CntRoot = XfsMkfsLayout.CntRootBlock,
            BnoLevel = 1,
            CntLevel = 1,
            FlFirst = XfsMkfsLayout.AgflFirst,
            FlLast = XfsMkfsLayout.AgflFirst + agflCount - 1,
            FlCount = agflCount,
            FreeBlks = ag.FreeBlocks,
            Longest = ag.Longest,
            Uuid = uuid,
            RefcountRoot = reflink ? XfsMkfsLayout.RefcountRootBlock : 0,
            RefcountLevel = reflink ? 1u : 0,
            RefcountBlocks = reflink ? 1u : 0,
        };
        agf.WriteTo(header.AsSpan(sect, sect));

        bool hasChunk = ag.InodeChunk.HasValue;
        uint chunkAgino = hasChunk ? geo.AgBlockToAgino(ag.InodeChunk!.Value) : XfsFormat.NullAgIno;
        var agi = new XfsAgi
        {
            SeqNo = ag.AgNo,
            Length = ag.Length,
            Count = hasChunk ? (uint)XfsFormat.InodesPerChunk : 0,
            Root = XfsMkfsLayout.InoRootBlock,
            Level = 1,
            FreeCount = hasChunk ? (uint)XfsFormat.InodesPerChunk - 3 : 0,
            NewIno = chunkAgino,
            Uuid = uuid,
            FreeRoot = XfsMkfsLayout.FinoRootBlock,
            FreeLevel = 1,
            IBlocks = 1,
            FBlocks = 1,
        };
        agi.WriteTo(header.AsSpan(2 * sect, sect));

        var agfl = XfsAgfl.Empty(ag.AgNo, uuid, sect);
        for (int i = 0; i < ag.AgflBlocks.Length; i++)
            agfl.Bno[XfsMkfsLayout.AgflFirst + i] = ag.AgflBlocks[i];
        agfl.WriteTo(header.AsSpan(3 * sect, sect));
        WriteBytes(geo.AgBlockOffset(ag.AgNo, 0), header, $"AG {ag.AgNo} headers");

        // The B+tree roots, blocks 1 to prealloc − 1, written in one go.
        int roots = (int)layout.PreallocBlocks - 1;
        var rootBlocks = new byte[roots * geo.BlockSize];
        Span<byte> Root(uint agbno) => rootBlocks.AsSpan((int)(agbno - 1) * geo.BlockSize, geo.BlockSize);

        var byBlock = ag.FreeExtents;
        var bySize = ag.FreeExtents.OrderBy(e => e.BlockCount).ThenBy(e => e.StartBlock).ToArray();
        WriteLeaf(Root(XfsMkfsLayout.BnoRootBlock), XfsBtreeKind.Bno, ag.AgNo, XfsMkfsLayout.BnoRootBlock, geo, uuid,
            byBlock.Length, (d, i) => byBlock[i].WriteTo(d));
        WriteLeaf(Root(XfsMkfsLayout.CntRootBlock), XfsBtreeKind.Cnt, ag.AgNo, XfsMkfsLayout.CntRootBlock, geo, uuid,
            bySize.Length, (d, i) => bySize[i].WriteTo(d));
        var chunk = hasChunk ? new[] { RootChunkRecord(chunkAgino) } : [];
        WriteLeaf(Root(XfsMkfsLayout.InoRootBlock), XfsBtreeKind.Ino, ag.AgNo, XfsMkfsLayout.InoRootBlock, geo, uuid,
            chunk.Length, (d, i) => chunk[i].WriteTo(d));
        WriteLeaf(Root(XfsMkfsLayout.FinoRootBlock), XfsBtreeKind.Fino, ag.AgNo, XfsMkfsLayout.FinoRootBlock, geo, uuid,
            chunk.Length, (d, i) => chunk[i].WriteTo(d));
        if (reflink)
            WriteLeaf(Root(XfsMkfsLayout.RefcountRootBlock), XfsBtreeKind.Refcount, ag.AgNo, XfsMkfsLayout.RefcountRootBlock, geo, uuid,
                0, (_, _) => { });
        WriteBytes(geo.AgBlockOffset(ag.AgNo, 1), rootBlocks, $"AG {ag.AgNo} B+tree roots");
    }

    /// <summary>The root chunk's record: its first three inodes (root, rbm, rsum) in use, 61 free.</summary>
    private static XfsInobtRecord RootChunkRecord(uint startAgino) =>
        new(startAgino, XfsFormat.InodesPerChunk - 3, ~0UL << 3);

    private static void WriteLeaf(Span<byte> block, XfsBtreeKind kind, uint agno, uint agbno, XfsGeometry geo, Guid uuid,
        int count, System.Buffers.SpanAction<byte, int> write)
    {
        block.Clear();
        var header = new XfsBtreeShortBlock
        {
            Kind = kind,
            NumRecs = (ushort)count,
            BlkNo = geo.AgBlockToDaddr(agno, agbno),
            Uuid = uuid,
            Owner = agno,
        };
        for (int i = 0; i < count; i++)
            write(block.Slice(header.RecordOffset(i), kind.RecordSize()), i);
        header.WriteTo(block);
    }

    private void WriteInodeChunk(XfsMkfsLayout layout)
    {
        var geo = layout.Geometry;
        var sb = layout.Superblock;
        uint chunk = layout.Ags[0].InodeChunk ?? throw new InvalidOperationException("AG 0 has no inode chunk");
        var now = XfsTimestamp.From(_options.Clock.GetUtcNow());
        var buffer = new byte[XfsMkfsLayout.InodeChunkBlocks * geo.BlockSize];
        int literal = geo.InodeSize - XfsDinode.CoreSize;
        ulong first = geo.MakeIno(0, geo.AgBlockToAgino(chunk));
        for (int i = 0; i < XfsFormat.InodesPerChunk; i++)
        {
            ulong ino = first + (ulong)i;
            var inode = ino == sb.RootIno ? RootDirectory(ino, sb, now, literal)
                : ino == sb.RbmIno ? RealtimeInode(ino, sb, now, literal, XfsDiFlags.NewRtBm)
                : ino == sb.RsumIno ? RealtimeInode(ino, sb, now, literal, XfsDiFlags.None)
                : new XfsDinode { Ino = ino, Uuid = sb.MetadataUuid, Literal = new byte[literal] };
            inode.WriteTo(buffer.AsSpan(i * geo.InodeSize, geo.InodeSize));
        }
        WriteBytes(geo.AgBlockOffset(0, chunk), buffer, "root inode chunk");
    }

    // mkfs.xfs sets only the change, modify and create times of the inodes it makes, leaving
    // atime at the epoch, and logs each inode twice (allocation, then initialisation), so its
    // change count is 2. We write the same so the images match.
    private const ulong MkfsChangeCount = 2;

    private static XfsDinode RootDirectory(ulong ino, XfsSuperblock sb, XfsTimestamp now, int literal)
    {
        var dir = new XfsDir2Shortform { Parent = ino };
        var fork = new byte[literal];
        int size = dir.WriteTo(fork);
        return new XfsDinode
        {
            Mode = XfsDinode.TypeDirectory | 0x1ED, // 0755
            Format = XfsDinodeFormat.Local,
            AFormat = XfsDinodeFormat.Extents,
            Nlink = 2,
            Mtime = now,
            Ctime = now,
            Crtime = now,
            Size = (ulong)size,
            ChangeCount = MkfsChangeCount,
            Flags2 = XfsDiFlags2.BigTime,
            Ino = ino,
            Uuid = sb.MetadataUuid,
            Literal = fork,
        };
    }

    private static XfsDinode RealtimeInode(ulong ino, XfsSuperblock sb, XfsTimestamp now, int literal, XfsDiFlags flags) => new()
    {
        Mode = XfsDinode.TypeRegular,
        Format = XfsDinodeFormat.Extents,
        AFormat = XfsDinodeFormat.Extents,
        Nlink = 1,
        Mtime = now,
        Ctime = now,
        Crtime = now,
        // No realtime device: the bitmap and summary files are empty.
        Size = 0,
        Flags = flags,
        ChangeCount = MkfsChangeCount,
        Flags2 = XfsDiFlags2.BigTime,
        Ino = ino,
        Uuid = sb.MetadataUuid,
        Literal = new byte[literal],
    };

    private void WriteBytes(long offset, ReadOnlySpan<byte> data, string what, BioFlags flags = BioFlags.None)
    {
        var status = _device.Write(offset, data, flags);
        if (status != BlkStatus.Ok)
            throw IoError(status, $"writing {what} at byte {offset}");
    }

    private void ZeroRange(long offset, long length, string what)
    {
        if (length <= 0)
            return;
        var status = _device.WriteZeroes(offset, length);
        if (status == BlkStatus.NotSupported)
        {
            var zero = new byte[Math.Min(length, 1 << 20)];
            for (long done = 0; done < length; done += zero.Length)
                WriteBytes(offset + done, zero.AsSpan(0, (int)Math.Min(zero.Length, length - done)), what);
            return;
        }
        if (status != BlkStatus.Ok)
            throw IoError(status, $"zeroing {what} ({length} bytes at byte {offset})");
    }

    private void Flush(string what)
    {
        var status = _device.Flush();
        if (status != BlkStatus.Ok)
            throw IoError(status, $"flushing {what}");
    }

    private XfsException IoError(BlkStatus status, string what)
    {
        var errno = status.ToErrno();
        return new XfsException(errno, $"{_device.Name}: {what}: {ErrnoText.StrError(errno)}");
    }
}
