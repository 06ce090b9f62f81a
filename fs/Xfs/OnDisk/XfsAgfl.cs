namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>
/// The AG free list (sector 3 of every AG): a v5 header and a ring of AG block numbers kept
/// free for the free-space B+trees to grow into; <see cref="XfsAgf"/> says which entries are in
/// use. Unused entries hold NULLAGBLOCK. Read from and written to one whole sector.
/// </summary>
/// <remarks>Models the kernel's <c>struct xfs_agfl</c> and <c>xfs_agfl_size</c> (xfs_format.h, xfs_alloc.h) with the checks of <c>xfs_agfl_verify</c>.</remarks>
public sealed class XfsAgfl
{
    /// <summary>Bytes of the v5 header before the block numbers.</summary>
    public const int HeaderSize = 36;

    /// <summary>agfl_seqno: the AG number.</summary>
    public uint SeqNo { get; set; }
    /// <summary>agfl_uuid: the filesystem's metadata uuid.</summary>
    public Guid Uuid { get; set; }
    /// <summary>agfl_lsn.</summary>
    public ulong Lsn { get; set; }
    /// <summary>agfl_crc as read or last written.</summary>
    public uint Crc { get; private set; }
    /// <summary>agfl_bno: the ring, <see cref="EntriesFor"/>(sector size) entries.</summary>
    public uint[] Bno { get; set; } = [];

    /// <summary>xfs_agfl_size: how many block numbers fit a sector of <paramref name="sectorSize"/> bytes.</summary>
    public static int EntriesFor(int sectorSize) => (sectorSize - HeaderSize) / sizeof(uint);

    /// <summary>An AGFL for AG <paramref name="agno"/> with every entry NULLAGBLOCK.</summary>
    public static XfsAgfl Empty(uint agno, Guid uuid, int sectorSize)
    {
        var bno = new uint[EntriesFor(sectorSize)];
        Array.Fill(bno, XfsFormat.NullAgBlock);
        return new XfsAgfl { SeqNo = agno, Uuid = uuid, Bno = bno };
    }

    /// <summary>
    /// Parses and verifies the AGFL of AG <paramref name="agno"/> in an AG of
    /// <paramref name="agLength"/> blocks from <paramref name="sector"/> (exactly one sector):
    /// magic, CRC, sequence number, and every entry NULLAGBLOCK or inside the AG. Throws
    /// <see cref="XfsCorruptionException"/> naming <c>agfl AGNO</c>.
    /// </summary>
    public static XfsAgfl ReadFrom(ReadOnlySpan<byte> sector, uint agno, uint agLength)
    {
        string name = $"agfl {agno}";
        Be.Need(sector, HeaderSize + sizeof(uint), name);
        uint magic = Be.U32(sector, 0);
        if (magic != XfsMagic.Agfl)
            throw XfsCorruptionException.BadMagic(name, magic, XfsMagic.Agfl);
        if (!XfsCrc.Verify(sector, XfsFormat.AgflCrcOffset))
            throw XfsCorruptionException.CrcMismatch(name);
        var agfl = Decode(sector);
        if (agfl.SeqNo != agno)
            throw XfsCorruptionException.BadField(name, "seqno", agfl.SeqNo, $"this is AG {agno}");
        for (int i = 0; i < agfl.Bno.Length; i++)
        {
            uint b = agfl.Bno[i];
            if (b != XfsFormat.NullAgBlock && b >= agLength)
                throw XfsCorruptionException.BadField(name, $"bno[{i}]", b, $"outside the AG (length {agLength})");
        }
        return agfl;
    }

    /// <summary>The fields of the AGFL in <paramref name="sector"/> with no checks at all: for inspecting damaged structures.</summary>
    public static XfsAgfl Decode(ReadOnlySpan<byte> sector)
    {
        Be.Need(sector, HeaderSize, "agfl");
        var agfl = new XfsAgfl
        {
            SeqNo = Be.U32(sector, 4),
            Uuid = Be.Uuid(sector, 8),
            Lsn = Be.U64(sector, 24),
            Crc = XfsCrc.Stored(sector, XfsFormat.AgflCrcOffset),
            Bno = new uint[EntriesFor(sector.Length)],
        };
        for (int i = 0; i < agfl.Bno.Length; i++)
            agfl.Bno[i] = Be.U32(sector, HeaderSize + 4 * i);
        return agfl;
    }

    /// <summary>Writes the AGFL into <paramref name="sector"/> (one whole sector) and stamps its CRC.</summary>
    public void WriteTo(Span<byte> sector)
    {
        if (Bno.Length != EntriesFor(sector.Length))
            throw new ArgumentException($"an AGFL of {Bno.Length} entries does not fill a {sector.Length}-byte sector", nameof(sector));
        sector.Clear();
        Be.Put32(sector, 0, XfsMagic.Agfl);
        Be.Put32(sector, 4, SeqNo);
        Be.PutUuid(sector, 8, Uuid);
        Be.Put64(sector, 24, Lsn);
        for (int i = 0; i < Bno.Length; i++)
            Be.Put32(sector, HeaderSize + 4 * i, Bno[i]);
        XfsCrc.Stamp(sector, XfsFormat.AgflCrcOffset);
        Crc = XfsCrc.Stored(sector, XfsFormat.AgflCrcOffset);
    }
}
