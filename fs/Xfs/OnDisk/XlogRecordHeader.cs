namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>
/// The header sector of a log record: cycle number, record length, this record's LSN and the
/// log tail's, the number of log operations, the saved first word of every data sector (each
/// data sector's first word is overwritten with the cycle number so torn writes show), the
/// log format, the filesystem uuid and the in-core log buffer size.
/// </summary>
/// <remarks>Models the kernel's <c>struct xlog_rec_header</c> (xfs_log_format.h) for a version 2 log with headers of one sector (h_size up to 32 KiB).</remarks>
public sealed class XlogRecordHeader
{
    /// <summary>sizeof(struct xlog_rec_header): the bytes the record CRC covers in the header.</summary>
    public const int Size = 328;

    /// <summary>XLOG_HEADER_CYCLE_SIZE / BBSIZE: saved first words in one header sector.</summary>
    public const int CycleDataWords = 64;

    /// <summary>XLOG_HEADER_CYCLE_SIZE: the largest h_size a single header sector describes.</summary>
    public const int CycleSize = 32 * 1024;

    /// <summary>XLOG_FMT_LINUX_LE: records written by a little-endian Linux host.</summary>
    public const uint FormatLinuxLe = 1;

    /// <summary>h_cycle: the pass over the log this record was written in (from 1).</summary>
    public uint Cycle { get; set; }
    /// <summary>h_version: 2 for a v2 log.</summary>
    public uint Version { get; set; } = 2;
    /// <summary>h_len: bytes of record data after the header.</summary>
    public uint Len { get; set; }
    /// <summary>h_lsn: this record's log sequence number (cycle &lt;&lt; 32 | block).</summary>
    public ulong Lsn { get; set; }
    /// <summary>h_tail_lsn: the log tail when the record was written.</summary>
    public ulong TailLsn { get; set; }
    /// <summary>h_crc: CRC32c of header and data; 0 in the records mkfs writes.</summary>
    public uint Crc { get; set; }
    /// <summary>h_prev_block: block of the previous record, -1 for none.</summary>
    public int PrevBlock { get; set; } = -1;
    /// <summary>h_num_logops: log operations in the record.</summary>
    public uint NumLogOps { get; set; }
    /// <summary>h_cycle_data: the original first word of each data sector.</summary>
    public uint[] CycleData { get; set; } = new uint[CycleDataWords];
    /// <summary>h_fmt: the writer's format.</summary>
    public uint Fmt { get; set; } = FormatLinuxLe;
    /// <summary>h_fs_uuid: the filesystem uuid.</summary>
    public Guid FsUuid { get; set; }
    /// <summary>h_size: the in-core log buffer size the record was written from.</summary>
    public uint HSize { get; set; } = CycleSize;

    /// <summary>An LSN: the cycle in the high 32 bits, the log block in the low 32.</summary>
    public static ulong MakeLsn(uint cycle, uint block) => ((ulong)cycle << 32) | block;

    /// <summary>
    /// Parses and verifies the record header in <paramref name="sector"/>, log block
    /// <paramref name="block"/>: magic, version, format and sizes. Throws
    /// <see cref="XfsCorruptionException"/> naming <c>log record at block N</c>.
    /// </summary>
    public static XlogRecordHeader ReadFrom(ReadOnlySpan<byte> sector, uint block)
    {
        string name = $"log record at block {block}";
        Be.Need(sector, Size, name);
        uint magic = Be.U32(sector, 0);
        if (magic != XfsMagic.LogRecordHeader)
            throw XfsCorruptionException.BadMagic(name, magic, XfsMagic.LogRecordHeader);
        var h = new XlogRecordHeader
        {
            Cycle = Be.U32(sector, 4),
            Version = Be.U32(sector, 8),
            Len = Be.U32(sector, 12),
            Lsn = Be.U64(sector, 16),
            TailLsn = Be.U64(sector, 24),
            Crc = XfsCrc.Stored(sector, 32),
            PrevBlock = (int)Be.U32(sector, 36),
            NumLogOps = Be.U32(sector, 40),
            Fmt = Be.U32(sector, 300),
            FsUuid = Be.Uuid(sector, 304),
            HSize = Be.U32(sector, 320),
        };
        for (int i = 0; i < CycleDataWords; i++)
            h.CycleData[i] = Be.U32(sector, 44 + 4 * i);
        if (h.Version is not (1 or 2))
            throw XfsCorruptionException.BadField(name, "h_version", h.Version, "not 1 or 2");
        if (h.Cycle == 0 || (uint)(h.Lsn >> 32) != h.Cycle || (uint)h.Lsn != block)
            throw XfsCorruptionException.BadField(name, "h_lsn", $"{h.Lsn >> 32},{(uint)h.Lsn}", $"the record is at cycle {h.Cycle}, block {block}");
        if (h.Fmt != FormatLinuxLe)
            throw XfsCorruptionException.BadField(name, "h_fmt", h.Fmt, "not a little-endian Linux log");
        if (h.HSize is 0 or > CycleSize || h.HSize % XfsFormat.BasicBlockSize != 0 || h.Len > h.HSize)
            throw XfsCorruptionException.BadField(name, "h_size/h_len", $"{h.HSize}/{h.Len}", $"h_size must be a multiple of 512 up to {CycleSize} and hold h_len");
        return h;
    }

    /// <summary>Writes the header into <paramref name="sector"/> (one whole sector, zeroed first).</summary>
    public void WriteTo(Span<byte> sector)
    {
        Be.NeedRoom(sector, XfsFormat.BasicBlockSize, "log record header");
        sector.Clear();
        Be.Put32(sector, 0, XfsMagic.LogRecordHeader);
        Be.Put32(sector, 4, Cycle);
        Be.Put32(sector, 8, Version);
        Be.Put32(sector, 12, Len);
        Be.Put64(sector, 16, Lsn);
        Be.Put64(sector, 24, TailLsn);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(sector[32..], Crc);
        Be.Put32(sector, 36, (uint)PrevBlock);
        Be.Put32(sector, 40, NumLogOps);
        for (int i = 0; i < CycleDataWords; i++)
            Be.Put32(sector, 44 + 4 * i, CycleData[i]);
        Be.Put32(sector, 300, Fmt);
        Be.PutUuid(sector, 304, FsUuid);
        Be.Put32(sector, 320, HSize);
    }
}
