using System.Buffers.Binary;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Log;

/// <summary>
/// The on-disk rules of a log record shared by <see cref="XlogWriter"/> and
/// <see cref="XlogReader"/>: a header sector (<see cref="XlogRecordHeader"/>) followed by
/// h_len bytes (whole 512-byte sectors, at most <see cref="XlogRecordHeader.CycleSize"/>) of
/// operations. Before the record is written, the first big-endian word of every data sector
/// is saved in h_cycle_data[i] and replaced by h_cycle; h_crc is then the CRC32c of the 328
/// header bytes (h_crc taken as zero) followed by the h_len data bytes as they lie on disk,
/// stored little-endian. A record never wraps past the physical end of the log: where fewer
/// than two blocks are left, the next record starts at block 0 of the next cycle, and a record
/// that would leave exactly one block is padded by one sector.
/// </summary>
/// <remarks>Models the kernel's <c>xlog_pack_data</c> / <c>xlog_unpack_data</c>, <c>xlog_cksum</c> and <c>xlog_valid_rec_header</c> (fs/xfs/xfs_log.c, xfs_log_recover.c); unlike the kernel's <c>xlog_split_iclog</c>, records are not split across the end of the log.</remarks>
internal static class XlogRecordFormat
{
    /// <summary>Bytes of a basic block.</summary>
    public const int Sector = XfsFormat.BasicBlockSize;

    /// <summary>Most data sectors a record holds (h_size 32 KiB, one header sector).</summary>
    public const int MaxDataSectors = XlogRecordHeader.CycleSize / Sector;

    /// <summary>The position a record may start at: <paramref name="block"/>, or block 0 of the next cycle when fewer than two blocks are left.</summary>
    public static void NormalizeStart(ref uint cycle, ref uint block, uint logBlocks)
    {
        if (logBlocks - block < 2)
        {
            block = 0;
            cycle++;
        }
    }

    /// <summary>Data bytes a record starting at <paramref name="block"/> may carry before padding.</summary>
    public static int Capacity(uint block, uint logBlocks) =>
        (int)Math.Min(MaxDataSectors - 1, logBlocks - block - 1) * Sector;

    /// <summary>Data sectors of a record at <paramref name="block"/> holding <paramref name="dataBytes"/> bytes of operations.</summary>
    public static int DataSectors(int dataBytes, uint block, uint logBlocks)
    {
        int n = Math.Max(1, (dataBytes + Sector - 1) / Sector);
        // A single block left at the end could hold no record and would confuse a reader
        // looking at first-word cycles: absorb it into this record as padding.
        if (logBlocks - (block + 1 + (uint)n) == 1)
            n++;
        return n;
    }

    /// <summary>An LSN as a count of blocks since cycle 0, block 0, for distance arithmetic.</summary>
    public static ulong Linear(ulong lsn, uint logBlocks) => (lsn >> 32) * logBlocks + (uint)lsn;

    /// <summary>
    /// Stamps and checksums a record in place: <paramref name="record"/> is the header sector
    /// (filled from <paramref name="header"/>) followed by the data sectors holding the
    /// operations in their original form.
    /// </summary>
    public static void Seal(Span<byte> record, XlogRecordHeader header)
    {
        int sectors = record.Length / Sector - 1;
        if (sectors > XlogRecordHeader.CycleDataWords)
            throw new InvalidOperationException($"a log record of {sectors} data sectors needs extended headers");
        var data = record[Sector..];
        header.Len = (uint)data.Length;
        header.Crc = 0;
        for (int i = 0; i < sectors; i++)
        {
            header.CycleData[i] = BinaryPrimitives.ReadUInt32BigEndian(data[(i * Sector)..]);
            BinaryPrimitives.WriteUInt32BigEndian(data[(i * Sector)..], header.Cycle);
        }
        header.WriteTo(record[..Sector]);
        header.Crc = Checksum(record[..Sector], data);
        BinaryPrimitives.WriteUInt32LittleEndian(record[32..], header.Crc);
    }

    /// <summary>xlog_cksum: CRC32c of the header with h_crc zeroed, then the data as on disk.</summary>
    public static uint Checksum(ReadOnlySpan<byte> headerSector, ReadOnlySpan<byte> data)
    {
        uint crc = XfsCrc.Update(XfsCrc.Seed, headerSector[..32]);
        crc = XfsCrc.Update(crc, stackalloc byte[4]);
        crc = XfsCrc.Update(crc, headerSector[36..XlogRecordHeader.Size]);
        crc = XfsCrc.Update(crc, data);
        return ~crc;
    }

    /// <summary>
    /// Checks the record whose header sector is log block <paramref name="block"/> of
    /// <paramref name="log"/> (the whole log): magic, fields, uuid, extent inside the log,
    /// CRC (a zero h_crc is accepted on an unmount record, as mkfs writes it) and every data sector's cycle stamp.
    /// Returns the header and the unpacked data, or null when the block holds no complete,
    /// intact record (never written, torn, or damaged).
    /// </summary>
    public static (XlogRecordHeader Header, byte[] Data)? TryOpen(ReadOnlySpan<byte> log, uint block, XlogLocation location)
    {
        var sector = log.Slice((int)block * Sector, Sector);
        if (BinaryPrimitives.ReadUInt32BigEndian(sector) != XfsMagic.LogRecordHeader)
            return null;
        XlogRecordHeader header;
        try
        {
            header = XlogRecordHeader.ReadFrom(sector, block);
        }
        catch (XfsCorruptionException)
        {
            return null;
        }
        if (header.Len == 0 || header.Len % Sector != 0 || header.FsUuid != location.Uuid)
            return null;
        int sectors = (int)(header.Len / Sector);
        if (sectors > XlogRecordHeader.CycleDataWords || (long)block + 1 + sectors > location.Blocks)
            return null;
        var data = log.Slice((int)(block + 1) * Sector, (int)header.Len);
        if (header.Crc != 0 && header.Crc != Checksum(sector, data))
            return null;
        // mkfs writes its unmount record with h_crc 0; no other record may go unchecked.
        if (header.Crc == 0 && (header.NumLogOps != 1 || data.Length < XlogOpHeader.Size || data[8] != XlogOpHeader.ClientLog))
            return null;
        var unpacked = data.ToArray();
        for (int i = 0; i < sectors; i++)
        {
            if (BinaryPrimitives.ReadUInt32BigEndian(unpacked.AsSpan(i * Sector)) != header.Cycle)
                return null;
            BinaryPrimitives.WriteUInt32BigEndian(unpacked.AsSpan(i * Sector), header.CycleData[i]);
        }
        return (header, unpacked);
    }

    /// <summary>Blocks the record takes, header included.</summary>
    public static uint Blocks(XlogRecordHeader header) => 1 + header.Len / Sector;
}
