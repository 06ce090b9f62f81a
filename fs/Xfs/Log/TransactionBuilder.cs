using System.Buffers.Binary;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Log;

/// <summary>
/// Reassembles transactions from the operations of consecutive log records (the payload
/// format <see cref="XlogWriter"/> documents): open transactions by tid, split operations
/// joined, a transaction emitted at its commit operation.
/// </summary>
/// <remarks>Models the kernel's <c>xlog_recover_process_data</c> / <c>xlog_recover_ophdr_to_trans</c> / <c>xlog_recover_add_to_cont_trans</c> (fs/xfs/xfs_log_recover.c).</remarks>
internal sealed class TransactionBuilder
{
    private readonly Dictionary<uint, (List<XlogRegion> Regions, List<XlogBufferCancel> Cancels, List<byte> Partial)> _open = [];
    private readonly List<XlogCommitted> _committed = [];

    /// <summary>Transactions committed so far, in commit order.</summary>
    public IReadOnlyList<XlogCommitted> Committed => _committed;

    /// <summary>The last record added held only an unmount operation.</summary>
    public bool LastRecordWasUnmount { get; private set; }

    /// <summary>Adds the operations of the (unpacked, intact) record at <paramref name="block"/>.</summary>
    public void Add(XlogRecordHeader header, ReadOnlySpan<byte> data, uint block)
    {
        string name = $"log record at block {block}";
        int at = 0;
        bool unmount = false;
        for (uint i = 0; i < header.NumLogOps; i++)
        {
            if (at + XlogOpHeader.Size > data.Length)
                throw new XfsCorruptionException(name, $"operation {i} of {header.NumLogOps} starts past h_len {data.Length}");
            var op = XlogOpHeader.ReadFrom(data[at..]);
            at += XlogOpHeader.Size;
            if (op.Len > data.Length - at)
                throw new XfsCorruptionException(name, $"operation {i} (oh_len {op.Len}) runs past h_len {data.Length}");
            var payload = data.Slice(at, (int)op.Len);
            at += (int)op.Len;
            if (op.ClientId == XlogOpHeader.ClientLog)
            {
                unmount = header.NumLogOps == 1 && (op.Flags & XlogOpHeader.UnmountTrans) != 0
                    && payload.Length >= 2 && BinaryPrimitives.ReadUInt16LittleEndian(payload) == XfsMagic.LogUnmount;
                continue;
            }
            if (op.ClientId != XlogOpHeader.ClientTransaction)
                throw new XfsCorruptionException(name, $"operation {i} has oh_clientid 0x{op.ClientId:x2}");
            Apply(op, payload, header.Lsn, name);
        }
        LastRecordWasUnmount = unmount;
    }

    private void Apply(XlogOpHeader op, ReadOnlySpan<byte> payload, ulong lsn, string name)
    {
        if ((op.Flags & XlogOpHeader.StartTrans) != 0)
        {
            // A start for a tid still open means the earlier one never committed: drop it.
            _open[op.Tid] = ([], [], []);
            return;
        }
        // Operations of a transaction that started before the tail are already home.
        if (!_open.TryGetValue(op.Tid, out var t))
            return;
        if ((op.Flags & XlogOpHeader.CommitTrans) != 0)
        {
            if (t.Partial.Count > 0)
                throw new XfsCorruptionException(name, $"transaction {op.Tid:x8} commits inside a split operation");
            _committed.Add(new XlogCommitted(lsn, new XlogTransaction(op.Tid, t.Regions, t.Cancels)));
            _open.Remove(op.Tid);
            return;
        }
        t.Partial.AddRange(payload);
        if ((op.Flags & XlogOpHeader.ContinueTrans) != 0)
            return;
        var bytes = t.Partial.ToArray();
        t.Partial.Clear();
        if (bytes.Length < XlogRegion.HeaderSize)
            throw new XfsCorruptionException(name, $"transaction {op.Tid:x8} has a {bytes.Length}-byte region operation");
        if (bytes.Length == XlogRegion.HeaderSize && BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(12)) == XlogBufferCancel.OffsetMarker)
        {
            var cancel = new XlogBufferCancel(BinaryPrimitives.ReadUInt64BigEndian(bytes), (int)Math.Min(int.MaxValue, BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(8))));
            if (!cancel.IsValid)
                throw new XfsCorruptionException(name, $"transaction {op.Tid:x8} cancels a {cancel.BufferLength}-byte buffer (not whole basic blocks)");
            t.Cancels.Add(cancel);
            return;
        }
        var region = new XlogRegion(
            BinaryPrimitives.ReadUInt64BigEndian(bytes),
            (int)Math.Min(int.MaxValue, BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(8))),
            (int)Math.Min(int.MaxValue, BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(12))),
            bytes[XlogRegion.HeaderSize..]);
        if (!region.IsValid)
            throw new XfsCorruptionException(name, $"transaction {op.Tid:x8} logs bytes {region.Offset}+{region.Bytes.Length} of a {region.BufferLength}-byte buffer");
        t.Regions.Add(region);
    }
}
