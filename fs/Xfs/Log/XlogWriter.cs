using System.Buffers.Binary;
using DaxStack.Driver.Block;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Log;

/// <summary>
/// Appends transactions to the internal log as XFS log records and makes them durable.
/// </summary>
/// <remarks>
/// <para><b>Payload format</b> (ours; DESIGN 5.6 lets the payload differ from XFS's log items).
/// A record's data is a sequence of operations, each an <see cref="XlogOpHeader"/> (oh_tid,
/// oh_len, oh_clientid, oh_flags, big-endian) followed by oh_len payload bytes, with h_num_logops
/// counting them. A transaction <c>T</c> is written as: one operation with flags
/// XLOG_START_TRANS and no payload; one operation per logged buffer range (client
/// XFS_TRANSACTION, flags 0) whose payload is the region header <c>daddr</c> (u64, basic
/// blocks), <c>buffer length</c> (u32, bytes), <c>offset</c> (u32, bytes into the buffer), all
/// big-endian, then the range's bytes; one operation per freed buffer (a buffer cancel,
/// <see cref="XlogBufferCancel"/>) whose payload is only the region header with offset
/// 0xFFFFFFFF; and one operation with flags XLOG_COMMIT_TRANS and no payload. An operation that does not fit in the rest of a record is split: the first piece
/// carries XLOG_CONTINUE_TRANS, later pieces (in the next records) XLOG_WAS_CONT_TRANS and the
/// last XLOG_WAS_CONT_TRANS | XLOG_END_TRANS; an operation header never straddles records. The
/// unmount record is XFS's: one XFS_LOG operation with XLOG_UNMOUNT_TRANS and the 8-byte
/// <c>xfs_unmount_log_format</c> payload, alone in its record.</para>
/// <para><b>Durability</b>: records are formatted in memory (the in-core log buffer); a record
/// is written (without a flush) when it fills, and <see cref="Force"/> writes the partial one
/// and issues a flush, so everything appended before <see cref="Force"/> returns survives a
/// power failure. Unforced records may be lost or torn; <see cref="XlogReader"/> ends the log
/// at the first record that is not intact.</para>
/// <para>At most <see cref="MaxUnflushedRecords"/> records are ever written and not yet
/// flushed (after that many the writer flushes on its own, as the kernel has at most
/// XLOG_MAX_ICLOGS log buffers in flight), so after a power failure at most that many records
/// at the head can be torn or missing: <see cref="XlogReader"/> takes a bad record followed by
/// that many intact newer ones for corruption, not a torn write.</para>
/// <para><b>Space</b>: the log is circular; the writer never overwrites the record at the tail
/// named by the last durable record (a torn newer record must leave recovery a tail to start
/// from). When only a <see cref="MoveTail"/> not yet on disk makes room, the writer first
/// writes and flushes a record carrying the new tail (an empty one if nothing is pending).
/// An append that would still pass the tail returns <see cref="XlogStatus.LogFull"/>, and the
/// caller must write buffers home and <see cref="MoveTail"/> first.</para>
/// Not thread-safe: the caller (the checkpoint push) serialises calls.
/// Models the kernel's <c>xlog_write</c> / <c>xlog_state_release_iclog</c> / <c>xlog_sync</c> / <c>xfs_log_force</c> path and <c>xlog_space_left</c> (fs/xfs/xfs_log.c).
/// </remarks>
public sealed class XlogWriter
{
    private const uint UnmountTid = 0x554d4e54;

    private readonly IBlockDeviceOperations _device;
    private readonly XlogLocation _location;
    private readonly byte[] _data = new byte[XlogRecordHeader.CycleSize];
    private Cursor _cursor;
    private int _prevBlock;
    private ulong _tailLsn;
    // The tail named by the last record known durable: space past it may still be needed by
    // recovery if newer records are torn, so it bounds what may be overwritten.
    private ulong _durableTail;
    private ulong _lastSealedTail;
    private bool _dirty;
    private int _unflushed;

    /// <summary>Most records written without a flush: XLOG_MAX_ICLOGS.</summary>
    public const int MaxUnflushedRecords = 8;

    private struct Cursor
    {
        public uint Cycle;
        public uint Block;
        public int Offset;
        public uint NumOps;
    }

    /// <summary>
    /// A writer that continues the log at head (<paramref name="cycle"/>, <paramref name="block"/>)
    /// with tail <paramref name="tailLsn"/> and previous record at <paramref name="prevBlock"/>
    /// (-1 for none). Use <see cref="Resume"/> after reading a log with <see cref="XlogReader"/>.
    /// </summary>
    public XlogWriter(IBlockDeviceOperations device, XlogLocation location, uint cycle, uint block, ulong tailLsn, int prevBlock)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (location.Blocks < 4)
            throw new ArgumentOutOfRangeException(nameof(location), location.Blocks, "a log needs at least 4 basic blocks");
        if (cycle == 0 || block >= location.Blocks)
            throw new ArgumentOutOfRangeException(nameof(block), $"head {cycle}/{block} is not inside a {location.Blocks}-block log");
        _device = device;
        _location = location;
        _cursor = new Cursor { Cycle = cycle, Block = block };
        XlogRecordFormat.NormalizeStart(ref _cursor.Cycle, ref _cursor.Block, location.Blocks);
        _prevBlock = prevBlock;
        _tailLsn = _durableTail = _lastSealedTail = tailLsn;
        if (Linear(tailLsn) > Linear(HeadLsn) || Linear(HeadLsn) - Linear(tailLsn) >= location.Blocks)
            throw new ArgumentOutOfRangeException(nameof(tailLsn), $"tail {tailLsn >> 32}/{(uint)tailLsn} is not within one log length behind the head {cycle}/{block}");
    }

    /// <summary>
    /// A writer continuing the log <paramref name="recovered"/> describes. Records found past the
    /// head (intact records written after a torn one) are zeroed and flushed first, so a later
    /// record chain can never run into them.
    /// </summary>
    public static XlogStatus Resume(IBlockDeviceOperations device, XlogLocation location, XlogRecovery recovered, out XlogWriter? writer)
    {
        writer = null;
        foreach (var (block, blocks) in recovered.StaleRecords)
        {
            var s = device.WriteZeroes(location.BlockOffset(block), (long)blocks * XlogRecordFormat.Sector);
            if (s != BlkStatus.Ok)
                return XlogStatus.IoError;
        }
        if (recovered.StaleRecords.Count > 0 && device.Flush() != BlkStatus.Ok)
            return XlogStatus.IoError;
        writer = new XlogWriter(device, location, recovered.HeadCycle, recovered.HeadBlock, recovered.TailLsn, recovered.LastRecordBlock);
        return XlogStatus.Ok;
    }

    /// <summary>The LSN the next record will be written at (the in-core record's).</summary>
    public ulong HeadLsn => XlogRecordHeader.MakeLsn(_cursor.Cycle, _cursor.Block);

    /// <summary>The tail: the oldest record recovery still needs.</summary>
    public ulong TailLsn => _tailLsn;

    /// <summary>Bytes of log records this writer has written.</summary>
    public long BytesWritten { get; private set; }

    /// <summary>Set when a write failed: the writer refuses further work (the log is shut down).</summary>
    public XlogStatus Failed { get; private set; }

    /// <summary>
    /// Formats <paramref name="transaction"/> into the in-core log. Returns
    /// <see cref="XlogStatus.LogFull"/> when it would pass the tail (push the tail first; the
    /// log is unchanged), <see cref="XlogStatus.InvalidRegion"/> for a region outside its
    /// buffer, or <see cref="XlogStatus.IoError"/> when writing a filled record failed.
    /// <paramref name="startLsn"/> is the LSN of the record holding its start operation: the
    /// tail may move there once older changes are home.
    /// </summary>
    public XlogStatus Append(XlogTransaction transaction, out ulong startLsn)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        startLsn = 0;
        if (Failed != XlogStatus.Ok)
            return Failed;
        foreach (var r in transaction.Regions)
            if (r is null || !r.IsValid)
                return XlogStatus.InvalidRegion;
        foreach (var c in transaction.BufferCancels)
            if (!c.IsValid)
                return XlogStatus.InvalidRegion;
        var room = Reserve(transaction);
        if (room != XlogStatus.Ok)
            return room;
        startLsn = Place(ref _cursor, transaction, apply: true);
        _dirty = true;
        return Failed;
    }

    /// <summary>
    /// Writes the in-core record (if it holds anything) and flushes the device: when it returns
    /// <see cref="XlogStatus.Ok"/>, every appended transaction is durable.
    /// </summary>
    public XlogStatus Force()
    {
        if (Failed != XlogStatus.Ok)
            return Failed;
        if (_cursor.NumOps > 0)
            Seal(ref _cursor, apply: true);
        if (!_dirty)
            return XlogStatus.Ok;
        return FlushDevice();
    }

    private XlogStatus FlushDevice()
    {
        var s = _device.Flush();
        if (s != BlkStatus.Ok)
            return Fail();
        _dirty = false;
        _unflushed = 0;
        _durableTail = _lastSealedTail;
        return XlogStatus.Ok;
    }

    /// <summary>
    /// Moves the tail to <paramref name="lsn"/>, the start of a record (or the head) whose
    /// predecessors' changes are all written home. Throws when it would move backwards or
    /// past the head.
    /// </summary>
    public void MoveTail(ulong lsn)
    {
        if (Linear(lsn) < Linear(_tailLsn) || Linear(lsn) > Linear(HeadLsn))
            throw new ArgumentOutOfRangeException(nameof(lsn), $"tail {lsn >> 32}/{(uint)lsn} is not between the tail {_tailLsn >> 32}/{(uint)_tailLsn} and the head");
        _tailLsn = lsn;
    }

    /// <summary>
    /// Forces the log and writes an unmount record, durable on return, after which the log is
    /// clean (<see cref="XlogRecovery.IsClean"/>, and xfs_repair accepts it). The caller must have
    /// written every logged buffer home: the record's tail is itself.
    /// </summary>
    public XlogStatus WriteUnmountRecord()
    {
        var forced = Force();
        if (forced != XlogStatus.Ok)
            return forced;
        // Everything is home, so the record is its own tail.
        _tailLsn = HeadLsn;
        var room = Reserve(null);
        if (room != XlogStatus.Ok)
            return room;
        _tailLsn = HeadLsn;
        new XlogOpHeader(UnmountTid, XlogUnmountRecord.PayloadSize, XlogOpHeader.ClientLog, XlogOpHeader.UnmountTrans).WriteTo(_data);
        var payload = _data.AsSpan(XlogOpHeader.Size, XlogUnmountRecord.PayloadSize);
        payload.Clear();
        // struct xfs_unmount_log_format is logged in host byte order (little-endian x86).
        BinaryPrimitives.WriteUInt16LittleEndian(payload, XfsMagic.LogUnmount);
        _cursor.Offset = XlogOpHeader.Size + XlogUnmountRecord.PayloadSize;
        _cursor.NumOps = 1;
        _dirty = true;
        return Force();
    }

    // Room for a transaction (null: an unmount record) without overwriting the durable tail. When
    // only an in-memory tail move makes room, the moved tail is first written and flushed in a
    // record (the pending one, or an empty one), as the kernel's log covering does.
    private XlogStatus Reserve(XlogTransaction? transaction)
    {
        uint reserve = transaction is null ? 0 : TailRecordReserve;
        if (Fits(Plan(transaction), _durableTail, reserve))
            return XlogStatus.Ok;
        if (_durableTail == _tailLsn)
            return XlogStatus.LogFull;
        if (_lastSealedTail != _tailLsn)
        {
            var empty = _cursor;
            empty.NumOps = Math.Max(1u, empty.NumOps);
            if (!Fits(empty, _durableTail, reserve: 0))
                return XlogStatus.LogFull;
            Seal(ref _cursor, apply: true);
        }
        var forced = Force();
        if (forced != XlogStatus.Ok)
            return forced;
        return Fits(Plan(transaction), _durableTail, reserve) ? XlogStatus.Ok : XlogStatus.LogFull;
    }

    // Where the log would end with the transaction (or an unmount record) appended, by a dry run.
    private Cursor Plan(XlogTransaction? transaction)
    {
        var c = _cursor;
        if (transaction != null)
        {
            Place(ref c, transaction, apply: false);
            return c;
        }
        if (c.NumOps > 0)
            Seal(ref c, apply: false);
        c.Offset = XlogOpHeader.Size + XlogUnmountRecord.PayloadSize;
        c.NumOps = 1;
        return c;
    }

    // A transaction must leave room for one more record (an empty one, up to 3 blocks with a
    // skipped last block and padding) so that a moved tail can always be written.
    private const uint TailRecordReserve = 3;

    private bool Fits(Cursor end, ulong tail, uint reserve = TailRecordReserve)
    {
        ulong endLinear = (ulong)end.Cycle * _location.Blocks + end.Block;
        if (end.NumOps > 0)
            endLinear += 1 + (ulong)XlogRecordFormat.DataSectors(end.Offset, end.Block, _location.Blocks);
        return endLinear + reserve < Linear(tail) + _location.Blocks;
    }

    private ulong Place(ref Cursor c, XlogTransaction t, bool apply)
    {
        PlaceOp(ref c, t.Tid, XlogOpHeader.StartTrans, 0, null, apply);
        // The start operation may have sealed a record; it lies in the record being filled.
        ulong start = XlogRecordHeader.MakeLsn(c.Cycle, c.Block);
        foreach (var r in t.Regions)
            PlaceOp(ref c, t.Tid, 0, XlogRegion.HeaderSize + r.Bytes.Length, r, apply);
        foreach (var cancel in t.BufferCancels)
            PlaceOp(ref c, t.Tid, 0, XlogRegion.HeaderSize, new XlogRegion(cancel.Daddr, cancel.BufferLength, unchecked((int)XlogBufferCancel.OffsetMarker), []), apply);
        PlaceOp(ref c, t.Tid, XlogOpHeader.CommitTrans, 0, null, apply);
        return start;
    }

    private void PlaceOp(ref Cursor c, uint tid, byte flags, int length, XlogRegion? region, bool apply)
    {
        int done = 0;
        bool first = true;
        while (true)
        {
            int capacity = XlogRecordFormat.Capacity(c.Block, _location.Blocks);
            // Room for the header and at least one payload byte (or just the header when empty).
            if (capacity - c.Offset < XlogOpHeader.Size + (length > 0 ? 1 : 0))
            {
                Seal(ref c, apply);
                continue;
            }
            int take = Math.Min(capacity - c.Offset - XlogOpHeader.Size, length - done);
            byte pieceFlags = first ? flags : XlogOpHeader.WasContTrans;
            if (done + take < length)
                pieceFlags |= XlogOpHeader.ContinueTrans;
            else if (!first)
                pieceFlags |= XlogOpHeader.EndTrans;
            if (apply)
            {
                new XlogOpHeader(tid, (uint)take, XlogOpHeader.ClientTransaction, pieceFlags).WriteTo(_data.AsSpan(c.Offset));
                if (region != null)
                    CopyRegion(region, done, _data.AsSpan(c.Offset + XlogOpHeader.Size, take));
            }
            c.Offset += XlogOpHeader.Size + take;
            c.NumOps++;
            done += take;
            first = false;
            if (done == length)
                return;
            Seal(ref c, apply);
        }
    }

    // Copies bytes [from, from + dest.Length) of the region operation's payload (header, then data).
    private static void CopyRegion(XlogRegion r, int from, Span<byte> dest)
    {
        Span<byte> header = stackalloc byte[XlogRegion.HeaderSize];
        BinaryPrimitives.WriteUInt64BigEndian(header, r.Daddr);
        BinaryPrimitives.WriteUInt32BigEndian(header[8..], (uint)r.BufferLength);
        BinaryPrimitives.WriteUInt32BigEndian(header[12..], (uint)r.Offset);
        int i = 0;
        while (i < dest.Length)
        {
            int pos = from + i;
            if (pos < XlogRegion.HeaderSize)
            {
                int n = Math.Min(XlogRegion.HeaderSize - pos, dest.Length - i);
                header.Slice(pos, n).CopyTo(dest[i..]);
                i += n;
            }
            else
            {
                int n = dest.Length - i;
                r.Bytes.AsSpan(pos - XlogRegion.HeaderSize, n).CopyTo(dest[i..]);
                i += n;
            }
        }
    }

    private void Seal(ref Cursor c, bool apply)
    {
        int sectors = XlogRecordFormat.DataSectors(c.Offset, c.Block, _location.Blocks);
        if (apply && Failed == XlogStatus.Ok)
        {
            var record = new byte[(1 + sectors) * XlogRecordFormat.Sector];
            _data.AsSpan(0, c.Offset).CopyTo(record.AsSpan(XlogRecordFormat.Sector));
            var header = new XlogRecordHeader
            {
                Cycle = c.Cycle,
                Lsn = XlogRecordHeader.MakeLsn(c.Cycle, c.Block),
                TailLsn = _tailLsn,
                PrevBlock = _prevBlock,
                NumLogOps = c.NumOps,
                FsUuid = _location.Uuid,
            };
            XlogRecordFormat.Seal(record, header);
            var s = _device.Write(_location.BlockOffset(c.Block), record);
            if (s != BlkStatus.Ok)
                Fail();
            _prevBlock = (int)c.Block;
            _lastSealedTail = _tailLsn;
            _dirty = true;
            XfsLogMetrics.BytesWritten.Add(record.Length);
            BytesWritten += record.Length;
            // Bound the records that a power failure could tear (see the remarks).
            if (s == BlkStatus.Ok && ++_unflushed >= MaxUnflushedRecords)
                FlushDevice();
        }
        c.Block += 1 + (uint)sectors;
        c.Offset = 0;
        c.NumOps = 0;
        XlogRecordFormat.NormalizeStart(ref c.Cycle, ref c.Block, _location.Blocks);
    }

    private XlogStatus Fail()
    {
        Failed = XlogStatus.IoError;
        return Failed;
    }

    private ulong Linear(ulong lsn) => XlogRecordFormat.Linear(lsn, _location.Blocks);
}
