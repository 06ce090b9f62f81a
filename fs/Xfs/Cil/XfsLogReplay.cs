using DaxStack.Device.Errors;
using DaxStack.Driver.Block;
using DaxStack.Fs.Xfs.Buffers;
using DaxStack.Fs.Xfs.Log;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Xfs.Cil;

/// <summary>
/// Log recovery at mount: reads the log, applies every committed transaction's ranges in commit
/// order to the blocks they belong to (skipping ranges of a buffer that a later transaction
/// freed: the buffer cancel records), restamps each block's CRC through the verifier its magic
/// names, writes the blocks home, flushes, and then writes an unmount record so the log is clean,
/// returning a writer that continues it. The ranges of all transactions are applied in memory
/// over what the device holds before anything is written: bytes a range covers end as the last
/// transaction left them and the others are unchanged since the tail, whatever mix of older and
/// newer block images a crash left. So a crash at any point of recovery (before the unmount
/// record is durable the log is untouched) leaves a log that replays again to the same result.
/// </summary>
/// <remarks>Models the kernel's <c>xlog_recover</c> with its two passes (<c>xlog_recover_buf_commit_pass1</c> filling the buffer cancel table, <c>xlog_is_buffer_cancelled</c>) / <c>xlog_recover_buf_commit_pass2</c> (<c>xlog_recover_do_reg_buffer</c>, then the buffer's verifier restamping the CRC) followed by <c>xfs_log_mount_finish</c> and the unmount record of a clean log.</remarks>
public static class XfsLogReplay
{
    /// <summary>
    /// Recovers the filesystem on <paramref name="device"/> and returns a writer continuing its
    /// (now clean) log; <paramref name="replayed"/> is the number of transactions applied.
    /// Throws <see cref="XfsException"/> for I/O errors and <see cref="XfsCorruptionException"/>
    /// for a damaged log or a replayed block its verifier refuses.
    /// </summary>
    public static XlogWriter Recover(IBlockDeviceOperations device, out int replayed)
    {
        ArgumentNullException.ThrowIfNull(device);
        var sector = new byte[XfsFormat.SectorSize];
        var status = device.Read(0, sector);
        if (status != BlkStatus.Ok)
            throw new XfsException(status.ToErrno(), $"sb 0: read failed: {ErrnoText.StrError(status.ToErrno())}");
        var sb = ReadSuperblock(sector);
        // xfs_check_sizes comes before the log is touched: a truncated device is the superblock's
        // problem, not an I/O error of a log that lies past its end.
        if ((long)sb.DataBlocks * sb.BlockSize > device.Limits.Capacity)
            throw new XfsCorruptionException("sb 0", $"filesystem of {sb.DataBlocks} blocks is larger than the {device.Limits.Capacity}-byte device");
        var geo = new XfsGeometry(sb);
        var location = XlogLocation.FromGeometry(geo, sb.Uuid);
        var recovered = XlogReader.Read(device, location);
        replayed = 0;
        if (!recovered.IsClean && recovered.Transactions.Count > 0)
        {
            Apply(device, geo, sb.MetadataUuid, recovered.Transactions);
            replayed = recovered.Transactions.Count;
            XfsLogMetrics.Replayed.Add(replayed);
        }
        var resumed = XlogWriter.Resume(device, location, recovered, out var writer);
        if (resumed != XlogStatus.Ok)
            throw new XfsException(resumed.ToErrno(), $"cannot resume the log: {resumed}");
        if (!recovered.IsClean)
        {
            var clean = writer!.WriteUnmountRecord();
            if (clean != XlogStatus.Ok)
                throw new XfsException(clean.ToErrno(), $"cannot write a clean log: {clean}");
        }
        return writer!;
    }

    // The primary superblock is a logged buffer, so a crash while it was written home may have
    // torn it (old and new counters mixed, the CRC matching neither). Recovery only needs the
    // geometry and log fields, which no transaction changes, and replay rewrites the sector
    // from the log; so a CRC mismatch is checked again with the CRC recomputed (magic, version
    // and geometry are still verified).
    private static XfsSuperblock ReadSuperblock(byte[] sector)
    {
        try
        {
            return XfsSuperblock.ReadFrom(sector);
        }
        catch (XfsCorruptionException)
        {
            var copy = (byte[])sector.Clone();
            XfsCrc.Stamp(copy, XfsFormat.SuperblockCrcOffset);
            return XfsSuperblock.ReadFrom(copy);
        }
    }

    private static void Apply(IBlockDeviceOperations device, XfsGeometry geo, Guid uuid, IReadOnlyList<XlogCommitted> transactions)
    {
        // Pass 1 (the buffer cancel table): per basic block, the last transaction that freed a
        // buffer covering it. Ranges logged for those blocks by earlier transactions are not
        // replayed (the blocks may hold file data now); later ones are (the blocks reused as
        // metadata, logged whole when initialised).
        var lastCancel = new Dictionary<ulong, int>();
        for (int t = 0; t < transactions.Count; t++)
        {
            foreach (var c in transactions[t].Transaction.BufferCancels)
            {
                ulong count = (ulong)(c.BufferLength / XfsFormat.BasicBlockSize);
                if (c.Daddr + count > (ulong)(device.Limits.Capacity >> XfsFormat.BasicBlockShift))
                    throw new XfsCorruptionException($"log transaction {transactions[t].Transaction.Tid:x8}", $"cancelled buffer at daddr {c.Daddr} lies beyond the device");
                for (ulong s = 0; s < count; s++)
                    lastCancel[c.Daddr + s] = t;
            }
        }

        // Pass 2: the device as replay leaves it, by 512-byte sector, and which buffer last covered each sector.
        var sectors = new Dictionary<ulong, byte[]>();
        var owner = new Dictionary<ulong, (ulong Daddr, int Length)>();
        var order = new List<(ulong Daddr, int Length)>();
        for (int t = 0; t < transactions.Count; t++)
        {
            var committed = transactions[t];
            foreach (var r in committed.Transaction.Regions)
            {
                if (r.BufferLength % XfsFormat.BasicBlockSize != 0)
                    throw new XfsCorruptionException($"log transaction {committed.Transaction.Tid:x8}", $"a {r.BufferLength}-byte buffer is not whole basic blocks");
                int count = r.BufferLength / XfsFormat.BasicBlockSize;
                if (IsCancelled(lastCancel, r.Daddr, count, t))
                    continue;
                var key = (r.Daddr, r.BufferLength);
                order.Remove(key);
                order.Add(key);
                for (int s = 0; s < count; s++)
                {
                    ulong daddr = r.Daddr + (ulong)s;
                    owner[daddr] = key;
                    if (sectors.ContainsKey(daddr))
                        continue;
                    var bytes = new byte[XfsFormat.BasicBlockSize];
                    long offset = (long)daddr << XfsFormat.BasicBlockShift;
                    if (offset + bytes.Length > device.Limits.Capacity)
                        throw new XfsCorruptionException($"log transaction {committed.Transaction.Tid:x8}", $"daddr {daddr} lies beyond the device");
                    var st = device.Read(offset, bytes);
                    if (st != BlkStatus.Ok)
                        throw new XfsException(st.ToErrno(), $"replay read of daddr {daddr} failed: {st}");
                    sectors[daddr] = bytes;
                }
                for (int i = 0; i < r.Bytes.Length;)
                {
                    int at = r.Offset + i;
                    var dest = sectors[r.Daddr + (ulong)(at / XfsFormat.BasicBlockSize)];
                    int n = Math.Min(r.Bytes.Length - i, XfsFormat.BasicBlockSize - at % XfsFormat.BasicBlockSize);
                    r.Bytes.AsSpan(i, n).CopyTo(dest.AsSpan(at % XfsFormat.BasicBlockSize));
                    i += n;
                }
            }
        }

        // Every replayed block is assembled and given its verifier before the first write, so a
        // log that names an impossible block fails recovery with nothing changed on the device.
        var images = new List<(ulong Daddr, byte[] Image, IXfsBufferOps Ops)>();
        foreach (var (daddr, length) in order)
        {
            int count = length / XfsFormat.BasicBlockSize;
            // A buffer whose blocks another buffer (of another length) covered later has changed
            // role: the later one is written; the rest of this one is free space.
            bool current = true;
            for (int s = 0; s < count && current; s++)
                current = owner[daddr + (ulong)s] == (daddr, length);
            if (!current)
                continue;
            var image = new byte[length];
            for (int s = 0; s < count; s++)
                sectors[daddr + (ulong)s].CopyTo(image, s * XfsFormat.BasicBlockSize);
            images.Add((daddr, image, OpsFor(geo, daddr, image)));
        }
        var cache = new XfsBufferCache(device, geo, uuid);
        foreach (var (daddr, image, ops) in images)
        {
            var bp = cache.Get(daddr, image.Length, ops, out _);
            image.CopyTo(bp.Data, 0);
            cache.Write(bp);
            cache.Remove(bp);
        }
        if (images.Count > 0)
            cache.FlushDevice();
    }

    private static bool IsCancelled(Dictionary<ulong, int> lastCancel, ulong daddr, int count, int transaction)
    {
        for (int s = 0; s < count; s++)
        {
            if (lastCancel.TryGetValue(daddr + (ulong)s, out int t) && t > transaction)
                return true;
        }
        return false;
    }

    // The verifier of a replayed block, from its address (the primary superblock) or its magic.
    private static IXfsBufferOps OpsFor(XfsGeometry geo, ulong daddr, byte[] image)
    {
        if (daddr == 0 && image.Length == XfsFormat.SectorSize)
            return XfsSuperblockBufferOps.Instance;
        uint magic = Be.U32(image, 0);
        switch (magic)
        {
            case XfsMagic.Agf:
                return XfsAgfBufferOps.Instance;
            case XfsMagic.Agi:
                return XfsAgiBufferOps.Instance;
            case XfsMagic.Agfl:
                return XfsAgflBufferOps.Instance;
            case XfsMagic.BmapBtree:
                return XfsBmbtBufferOps.Instance;
            case XfsDir2Format.BlockMagic:
                return XfsDir2DataBufferOps.Block;
            case XfsDir2Format.DataMagic:
                return XfsDir2DataBufferOps.Data;
            case XfsDir2Format.FreeMagic:
                return XfsDir2FreeBufferOps.Instance;
        }
        // Leaf and dabtree node blocks carry a 16-bit magic in their xfs_da3_blkinfo header.
        if (image.Length >= 10)
        {
            switch (Be.U16(image, 8))
            {
                case XfsDir2Format.Leaf1Magic:
                    return XfsDir2LeafBufferOps.Instance;
                case XfsDir2Format.LeafNMagic or XfsDir2Format.NodeMagic:
                    return XfsDa3NodeBufferOps.Instance;
                case Attr.XfsAttr3LeafBlock.Magic:
                    return XfsAttr3LeafBufferOps.Instance;
            }
        }
        foreach (var kind in Enum.GetValues<XfsBtreeKind>())
        {
            if (kind.Magic() == magic)
                return XfsBtreeBufferOps.For(kind);
        }
        if ((magic >> 16) == XfsMagic.Dinode)
            return XfsInodeBufferOps.Instance;
        throw new XfsCorruptionException($"replayed block at daddr {daddr}", $"magic 0x{magic:x8} names no metadata structure");
    }
}
