using System.Buffers.Binary;

namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>
/// A log record holding only an unmount operation: the record a clean log ends with. mkfs
/// writes one at log block 0 (cycle 1, LSN 1/0, tail 1/0) and zeroes the rest of the log, so
/// log recovery finds the head right after it and nothing to replay. The record is two
/// sectors: the header, then one data sector with the operation header and the 8-byte unmount
/// payload, whose first word is replaced by the cycle number (the original saved in the header).
/// Like mkfs, it is written with h_crc 0, which the kernel and xfs_repair accept as "no CRC".
/// </summary>
/// <remarks>Models what xfsprogs' <c>libxfs_log_clear</c> / <c>libxfs_log_header</c> (libxfs/rdwr.c) write, and the kernel's <c>xlog_write_unmount_record</c> payload (<c>struct xfs_unmount_log_format</c>).</remarks>
public sealed class XlogUnmountRecord
{
    /// <summary>Bytes the record occupies: header sector and one data sector.</summary>
    public const int Size = 2 * XfsFormat.BasicBlockSize;

    /// <summary>The transaction id mkfs.xfs gives the unmount operation.</summary>
    public const uint MkfsTid = 0xb0c0d0d0;

    /// <summary>Bytes of the unmount payload (magic, two pads).</summary>
    public const int PayloadSize = 8;

    /// <summary>The record header.</summary>
    public required XlogRecordHeader Header { get; init; }

    /// <summary>The operation header (after the cycle word is restored).</summary>
    public required XlogOpHeader Op { get; init; }

    /// <summary>
    /// Writes a clean-log record at log block <paramref name="block"/> of cycle
    /// <paramref name="cycle"/> into the first <see cref="Size"/> bytes of <paramref name="destination"/>.
    /// </summary>
    public static void Write(Span<byte> destination, Guid fsUuid, uint cycle = 1, uint block = 0, uint tid = MkfsTid)
    {
        Be.NeedRoom(destination, Size, "unmount record");
        var data = destination.Slice(XfsFormat.BasicBlockSize, XfsFormat.BasicBlockSize);
        data.Clear();
        new XlogOpHeader(tid, PayloadSize, XlogOpHeader.ClientLog, XlogOpHeader.UnmountTrans).WriteTo(data);
        // struct xfs_unmount_log_format is logged in host byte order (little-endian x86).
        BinaryPrimitives.WriteUInt16LittleEndian(data[XlogOpHeader.Size..], XfsMagic.LogUnmount);
        var header = new XlogRecordHeader
        {
            Cycle = cycle,
            Len = XfsFormat.BasicBlockSize,
            Lsn = XlogRecordHeader.MakeLsn(cycle, block),
            TailLsn = XlogRecordHeader.MakeLsn(cycle, block),
            NumLogOps = 1,
            FsUuid = fsUuid,
        };
        // Cycle stamping: every data sector's first word goes into h_cycle_data and is replaced
        // by the cycle, so a sector left over from an older pass is recognised.
        header.CycleData[0] = Be.U32(data, 0);
        Be.Put32(data, 0, cycle);
        header.WriteTo(destination[..XfsFormat.BasicBlockSize]);
    }

    /// <summary>
    /// Parses the record at log block <paramref name="block"/> from <paramref name="source"/>
    /// and checks that it is an unmount record. Throws <see cref="XfsCorruptionException"/>
    /// naming <c>log record at block N</c> when it is not.
    /// </summary>
    public static XlogUnmountRecord ReadFrom(ReadOnlySpan<byte> source, uint block)
    {
        string name = $"log record at block {block}";
        Be.Need(source, Size, name);
        var header = XlogRecordHeader.ReadFrom(source[..XfsFormat.BasicBlockSize], block);
        Span<byte> data = stackalloc byte[XfsFormat.BasicBlockSize];
        source.Slice(XfsFormat.BasicBlockSize, XfsFormat.BasicBlockSize).CopyTo(data);
        if (Be.U32(data, 0) != header.Cycle)
            throw new XfsCorruptionException(name, $"data sector stamped with cycle {Be.U32(data, 0)}, header says {header.Cycle}");
        Be.Put32(data, 0, header.CycleData[0]);
        var op = XlogOpHeader.ReadFrom(data);
        if (header.NumLogOps != 1 || op.ClientId != XlogOpHeader.ClientLog || (op.Flags & XlogOpHeader.UnmountTrans) == 0
            || op.Len != PayloadSize || BinaryPrimitives.ReadUInt16LittleEndian(data[XlogOpHeader.Size..]) != XfsMagic.LogUnmount)
            throw new XfsCorruptionException(name, "not an unmount record: the log is not clean");
        return new XlogUnmountRecord { Header = header, Op = op };
    }
}
