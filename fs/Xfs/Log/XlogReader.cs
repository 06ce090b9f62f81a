using DaxStack.Device.Errors;
using DaxStack.Driver.Block;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Log;

/// <summary>
/// Reads the internal log after a crash or at mount: finds the head and the tail, verifies
/// every record (CRC, cycle stamps) and returns the committed transactions in LSN order.
/// </summary>
/// <remarks>
/// Instead of the kernel's binary search over first-word cycle numbers, which needs extra
/// passes (<c>xlog_find_verify_cycle</c>, <c>xlog_verify_head</c>) to cope with several records
/// in flight when the power failed, the reader checks every block for an intact record
/// header (the whole log is read once; data sectors start with the cycle, never the magic).
/// The intact record with the highest LSN names the tail (h_tail_lsn); the log is the chain of
/// intact records from there, each starting where the previous ended, and the head is where
/// the chain breaks: at a torn or missing record. Records that are intact but lie past the
/// break (written before a record that was not) are not part of the log and are reported as
/// stale. A transaction is returned only when its XLOG_COMMIT_TRANS operation is inside the
/// chain, so a torn record never yields a partial transaction. A break followed by
/// <see cref="XlogWriter.MaxUnflushedRecords"/> or more newer intact records cannot be a torn
/// write and is reported as corruption.
/// Models the kernel's <c>xlog_find_tail</c> / <c>xlog_find_head</c> and the
/// <c>xlog_do_recovery_pass</c> / <c>xlog_recover_process_ophdr</c> walk (fs/xfs/xfs_log_recover.c).
/// </remarks>
public static class XlogReader
{
    /// <summary>
    /// Reads the log at <paramref name="location"/>. Throws <see cref="XfsException"/> (EIO) when
    /// the device cannot be read and <see cref="XfsCorruptionException"/> naming the record when an
    /// intact record holds malformed operations or the tail names no record.
    /// </summary>
    public static XlogRecovery Read(IBlockDeviceOperations device, XlogLocation location)
    {
        ArgumentNullException.ThrowIfNull(device);
        uint size = location.Blocks;
        var log = new byte[(long)size * XlogRecordFormat.Sector];
        var status = device.Read(location.Offset, log);
        if (status != BlkStatus.Ok)
            throw new XfsException(status.ToErrno(), $"cannot read the log ({size} blocks at byte {location.Offset}): {status}");

        var intact = new Dictionary<uint, (XlogRecordHeader Header, byte[] Data)>();
        for (uint b = 0; b < size; b++)
        {
            if (XlogRecordFormat.TryOpen(log, b, location) is { } rec)
                intact[b] = rec;
        }
        if (intact.Count == 0)
        {
            return new XlogRecovery
            {
                HeadCycle = 1, HeadBlock = 0, TailLsn = XlogRecordHeader.MakeLsn(1, 0), LastRecordBlock = -1,
                RecordCount = 0, IsClean = false, Transactions = [], StaleRecords = [],
            };
        }

        // The newest record whose own tail chains up to it is the log's last record: a newer
        // one lies past a torn record (or names a tail that is itself torn) and is not part of it.
        foreach (var candidate in intact.Values.OrderByDescending(r => r.Header.Lsn))
        {
            if (Walk(intact, size, candidate.Header) is { } chain)
                return chain;
        }
        var newest = intact.Values.MaxBy(r => r.Header.Lsn).Header;
        throw new XfsCorruptionException($"log record at block {(uint)newest.Lsn}", $"no intact record chains from its h_tail_lsn {newest.TailLsn >> 32}/{(uint)newest.TailLsn}");
    }

    // Walks the chain from the tail that `last` names; null when the chain does not reach it.
    private static XlogRecovery? Walk(Dictionary<uint, (XlogRecordHeader Header, byte[] Data)> intact, uint size, XlogRecordHeader last)
    {
        ulong tail = last.TailLsn;
        uint cycle = (uint)(tail >> 32), block = (uint)tail;
        if (cycle == 0 || block >= size || XlogRecordFormat.Linear(tail, size) > XlogRecordFormat.Linear(last.Lsn, size))
            return null;
        var builder = new TransactionBuilder();
        XlogRecordHeader? previous = null;
        int count = 0;
        bool reached = false;
        while (true)
        {
            XlogRecordFormat.NormalizeStart(ref cycle, ref block, size);
            if (!intact.TryGetValue(block, out var rec) || rec.Header.Lsn != XlogRecordHeader.MakeLsn(cycle, block))
                break;
            if (count > size)
                throw new XfsCorruptionException("log", "the record chain from the tail runs round the log");
            builder.Add(rec.Header, rec.Data, block);
            previous = rec.Header;
            count++;
            block += XlogRecordFormat.Blocks(rec.Header);
            // Newer records were already found not to chain from their own tails: they end nowhere.
            if (rec.Header.Lsn == last.Lsn)
            {
                reached = true;
                XlogRecordFormat.NormalizeStart(ref cycle, ref block, size);
                break;
            }
        }
        if (!reached || previous is null)
            return null;

        ulong head = XlogRecordHeader.MakeLsn(cycle, block);
        // A power failure tears at most the records written since the last flush: a break
        // followed by more intact newer records than could have been in flight is damage to a
        // record that was durable, and replaying only the part before it would lose committed
        // transactions silently.
        int newer = intact.Values.Count(r => r.Header.Lsn >= head);
        if (newer >= XlogWriter.MaxUnflushedRecords)
            throw new XfsCorruptionException($"log record at block {block}", $"unreadable (bad CRC, torn or impossible h_len) with {newer} intact records written after it");
        var stale = intact.Values
            .Where(r => XlogRecordFormat.Linear(r.Header.Lsn, size) >= XlogRecordFormat.Linear(head, size))
            .Select(r => ((uint)r.Header.Lsn, XlogRecordFormat.Blocks(r.Header)))
            .ToList();
        return new XlogRecovery
        {
            HeadCycle = cycle,
            HeadBlock = block,
            TailLsn = previous.TailLsn,
            LastRecordBlock = (int)(uint)previous.Lsn,
            RecordCount = count,
            IsClean = builder.LastRecordWasUnmount,
            Transactions = builder.Committed,
            StaleRecords = stale,
        };
    }
}
