namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>
/// A v3 inode as stored in an inode chunk: the 176-byte core (mode, owner, link count, times,
/// size, block and extent counts, fork formats, flags, the unlinked-list pointer, CRC, change
/// count, its own inode number and the filesystem uuid) followed by the literal area holding
/// the data fork and, from <see cref="ForkOff"/> × 8 on, the attribute fork. The CRC covers the
/// whole inode. Free inodes in an allocated chunk keep the magic, version, inode number, uuid
/// and CRC with mode 0.
/// </summary>
/// <remarks>Models the kernel's <c>struct xfs_dinode</c> (xfs_format.h) with the checks of <c>xfs_dinode_verify</c> (xfs_inode_buf.c).</remarks>
public sealed class XfsDinode
{
    /// <summary>xfs_dinode_size(3): bytes before the literal area.</summary>
    public const int CoreSize = 176;

    /// <summary>The only inode version this implementation reads and writes.</summary>
    public const byte Version3 = 3;

    /// <summary>S_IFMT.</summary>
    public const ushort TypeMask = 0xF000;
    /// <summary>S_IFDIR.</summary>
    public const ushort TypeDirectory = 0x4000;
    /// <summary>S_IFREG.</summary>
    public const ushort TypeRegular = 0x8000;
    /// <summary>S_IFLNK.</summary>
    public const ushort TypeSymlink = 0xA000;

    /// <summary>di_mode: file type and permission bits (0 for a free inode).</summary>
    public ushort Mode { get; set; }
    /// <summary>di_version.</summary>
    public byte Version { get; set; } = Version3;
    /// <summary>di_format: how the data fork is stored.</summary>
    public XfsDinodeFormat Format { get; set; }
    /// <summary>di_onlink: the old 16-bit link count (0 on v3).</summary>
    public ushort OnLink { get; set; }
    /// <summary>di_uid.</summary>
    public uint Uid { get; set; }
    /// <summary>di_gid.</summary>
    public uint Gid { get; set; }
    /// <summary>di_nlink: link count.</summary>
    public uint Nlink { get; set; }
    /// <summary>di_projid_lo.</summary>
    public ushort ProjIdLo { get; set; }
    /// <summary>di_projid_hi.</summary>
    public ushort ProjIdHi { get; set; }
    /// <summary>di_flushiter: the v2 flush counter (0 on v3).</summary>
    public ushort FlushIter { get; set; }
    /// <summary>di_atime.</summary>
    public XfsTimestamp Atime { get; set; }
    /// <summary>di_mtime.</summary>
    public XfsTimestamp Mtime { get; set; }
    /// <summary>di_ctime.</summary>
    public XfsTimestamp Ctime { get; set; }
    /// <summary>di_size: file size in bytes.</summary>
    public ulong Size { get; set; }
    /// <summary>di_nblocks: blocks used by both forks, B+tree blocks included.</summary>
    public ulong NBlocks { get; set; }
    /// <summary>di_extsize: extent size hint in blocks.</summary>
    public uint ExtSize { get; set; }
    /// <summary>di_nextents: data fork extents.</summary>
    public uint NExtents { get; set; }
    /// <summary>di_anextents: attribute fork extents.</summary>
    public ushort ANExtents { get; set; }
    /// <summary>di_forkoff: attribute fork offset in 8-byte units from the literal area (0 = no attribute fork).</summary>
    public byte ForkOff { get; set; }
    /// <summary>di_aformat: how the attribute fork is stored.</summary>
    public XfsDinodeFormat AFormat { get; set; }
    /// <summary>di_dmevmask: DMAPI event mask (unused).</summary>
    public uint DmEvMask { get; set; }
    /// <summary>di_dmstate: DMAPI state (unused).</summary>
    public ushort DmState { get; set; }
    /// <summary>di_flags.</summary>
    public XfsDiFlags Flags { get; set; }
    /// <summary>di_gen: generation number.</summary>
    public uint Gen { get; set; }
    /// <summary>di_next_unlinked: next inode on this AGI unlinked list, or NULLAGINO.</summary>
    public uint NextUnlinked { get; set; } = XfsFormat.NullAgIno;
    /// <summary>di_crc as read or last written.</summary>
    public uint Crc { get; private set; }
    /// <summary>di_changecount: number of attribute (metadata) changes.</summary>
    public ulong ChangeCount { get; set; }
    /// <summary>di_lsn: log sequence number of the last flush.</summary>
    public ulong Lsn { get; set; }
    /// <summary>di_flags2.</summary>
    public XfsDiFlags2 Flags2 { get; set; }
    /// <summary>di_cowextsize: copy-on-write extent size hint in blocks.</summary>
    public uint CowExtSize { get; set; }
    /// <summary>di_crtime: creation time.</summary>
    public XfsTimestamp Crtime { get; set; }
    /// <summary>di_ino: the inode's own number.</summary>
    public ulong Ino { get; set; }
    /// <summary>di_uuid: the filesystem's metadata uuid.</summary>
    public Guid Uuid { get; set; }
    /// <summary>The literal area (inode size − 176 bytes): data fork, then the attribute fork.</summary>
    public byte[] Literal { get; set; } = [];

    /// <summary>Whether timestamps are bigtime-encoded (XFS_DIFLAG2_BIGTIME).</summary>
    public bool BigTime => (Flags2 & XfsDiFlags2.BigTime) != 0;

    /// <summary>The file type bits of <see cref="Mode"/>.</summary>
    public ushort FileType => (ushort)(Mode & TypeMask);

    /// <summary>Whether the inode is allocated (mode non-zero).</summary>
    public bool InUse => Mode != 0;

    /// <summary>Bytes of the data fork: up to the attribute fork, or the whole literal area.</summary>
    public int DataForkSize => ForkOff != 0 ? ForkOff * 8 : Literal.Length;

    /// <summary>The data fork bytes.</summary>
    public ReadOnlySpan<byte> DataFork => Literal.AsSpan(0, Math.Min(DataForkSize, Literal.Length));

    /// <summary>The data fork's extent records (extents format only).</summary>
    public XfsBmbtRecord[] ReadExtents()
    {
        if (Format != XfsDinodeFormat.Extents)
            throw new InvalidOperationException($"inode {Ino} data fork is {Format}, not extents");
        var fork = DataFork;
        var extents = new XfsBmbtRecord[NExtents];
        for (int i = 0; i < extents.Length; i++)
            extents[i] = XfsBmbtRecord.ReadFrom(fork.Slice(i * XfsBmbtRecord.Size, XfsBmbtRecord.Size));
        return extents;
    }

    /// <summary>
    /// Parses and verifies inode <paramref name="ino"/> from <paramref name="source"/> (exactly
    /// one inode): magic, version 3, CRC, self number, and for an allocated inode its fork
    /// formats and counts. Throws <see cref="XfsCorruptionException"/> naming <c>inode INO</c>.
    /// </summary>
    public static XfsDinode ReadFrom(ReadOnlySpan<byte> source, ulong ino) => ReadFrom(source, ino, verifyCrc: true);

    /// <summary>
    /// As <see cref="ReadFrom(ReadOnlySpan{byte}, ulong)"/>, but with <paramref name="verifyCrc"/>
    /// false for an inode in a cached buffer: its buffer was verified when it was read, and
    /// changes logged since then restamp the CRC only when the buffer is written.
    /// </summary>
    public static XfsDinode ReadFrom(ReadOnlySpan<byte> source, ulong ino, bool verifyCrc)
    {
        string name = $"inode {ino}";
        Be.Need(source, CoreSize + 8, name);
        ushort magic = Be.U16(source, 0);
        if (magic != XfsMagic.Dinode)
            throw XfsCorruptionException.BadMagic(name, magic, XfsMagic.Dinode);
        if (source[4] != Version3)
            throw XfsCorruptionException.BadField(name, "version", source[4], "only v3 inodes are supported");
        if (verifyCrc && !XfsCrc.Verify(source, XfsFormat.DinodeCrcOffset))
            throw XfsCorruptionException.CrcMismatch(name);
        var d = Decode(source);
        if (d.Ino != ino)
            throw XfsCorruptionException.BadField(name, "di_ino", d.Ino, $"this is inode {ino}");
        if (d.InUse)
            d.ValidateInUse(name);
        return d;
    }

    /// <summary>The fields of the inode in <paramref name="source"/> (one whole inode) with no checks at all: for inspecting damaged structures.</summary>
    public static XfsDinode Decode(ReadOnlySpan<byte> source)
    {
        Be.Need(source, CoreSize, "inode");
        var flags2 = (XfsDiFlags2)Be.U64(source, 120);
        bool big = (flags2 & XfsDiFlags2.BigTime) != 0;
        return new XfsDinode
        {
            Mode = Be.U16(source, 2),
            Version = source[4],
            Format = (XfsDinodeFormat)source[5],
            OnLink = Be.U16(source, 6),
            Uid = Be.U32(source, 8),
            Gid = Be.U32(source, 12),
            Nlink = Be.U32(source, 16),
            ProjIdLo = Be.U16(source, 20),
            ProjIdHi = Be.U16(source, 22),
            FlushIter = Be.U16(source, 30),
            Atime = XfsTimestamp.Decode(Be.U64(source, 32), big),
            Mtime = XfsTimestamp.Decode(Be.U64(source, 40), big),
            Ctime = XfsTimestamp.Decode(Be.U64(source, 48), big),
            Size = Be.U64(source, 56),
            NBlocks = Be.U64(source, 64),
            ExtSize = Be.U32(source, 72),
            NExtents = Be.U32(source, 76),
            ANExtents = Be.U16(source, 80),
            ForkOff = source[82],
            AFormat = (XfsDinodeFormat)source[83],
            DmEvMask = Be.U32(source, 84),
            DmState = Be.U16(source, 88),
            Flags = (XfsDiFlags)Be.U16(source, 90),
            Gen = Be.U32(source, 92),
            NextUnlinked = Be.U32(source, 96),
            Crc = XfsCrc.Stored(source, XfsFormat.DinodeCrcOffset),
            ChangeCount = Be.U64(source, 104),
            Lsn = Be.U64(source, 112),
            Flags2 = flags2,
            CowExtSize = Be.U32(source, 128),
            Crtime = XfsTimestamp.Decode(Be.U64(source, 144), big),
            Ino = Be.U64(source, 152),
            Uuid = Be.Uuid(source, 160),
            Literal = source[CoreSize..].ToArray(),
        };
    }

    private void ValidateInUse(string name)
    {
        bool validType = FileType is 0x1000 or 0x2000 or TypeDirectory or 0x6000 or TypeRegular or TypeSymlink or 0xC000;
        if (!validType)
            throw XfsCorruptionException.BadField(name, "mode", $"0{Convert.ToString(Mode, 8)}", "not a file type");
        if (ForkOff != 0 && ForkOff * 8 >= Literal.Length)
            throw XfsCorruptionException.BadField(name, "forkoff", ForkOff, $"beyond the {Literal.Length}-byte literal area");
        if ((ulong)NExtents + ANExtents > NBlocks)
            throw new XfsCorruptionException(name, $"{NExtents} + {ANExtents} extents but only {NBlocks} blocks");
        switch (Format)
        {
            case XfsDinodeFormat.Dev when FileType is 0x1000 or 0x2000 or 0x6000 or 0xC000:
                break;
            case XfsDinodeFormat.Local when FileType is TypeDirectory or TypeSymlink:
                if (Size > (ulong)DataForkSize)
                    throw XfsCorruptionException.BadField(name, "size", Size, $"a local fork holds at most {DataForkSize} bytes");
                break;
            case XfsDinodeFormat.Extents when FileType is TypeDirectory or TypeRegular or TypeSymlink:
                if ((long)NExtents * XfsBmbtRecord.Size > DataForkSize)
                    throw XfsCorruptionException.BadField(name, "nextents", NExtents, $"the {DataForkSize}-byte data fork holds at most {DataForkSize / XfsBmbtRecord.Size}");
                break;
            case XfsDinodeFormat.Btree when FileType is TypeDirectory or TypeRegular or TypeSymlink:
                break;
            default:
                throw XfsCorruptionException.BadField(name, "format", Format, $"not valid for mode 0{Convert.ToString(Mode, 8)}");
        }
        if ((Flags2 & XfsDiFlags2.Reflink) != 0 && FileType != TypeRegular)
            throw new XfsCorruptionException(name, "reflink flag on a file that is not regular");
    }

    /// <summary>Writes the inode into <paramref name="destination"/> (exactly one inode) and stamps its CRC.</summary>
    public void WriteTo(Span<byte> destination)
    {
        Be.NeedRoom(destination, CoreSize, "inode");
        if (Literal.Length != destination.Length - CoreSize)
            throw new ArgumentException($"inode {Ino}: literal area is {Literal.Length} bytes, the inode has room for {destination.Length - CoreSize}", nameof(destination));
        destination.Clear();
        bool big = BigTime;
        Be.Put16(destination, 0, XfsMagic.Dinode);
        Be.Put16(destination, 2, Mode);
        destination[4] = Version;
        destination[5] = (byte)Format;
        Be.Put16(destination, 6, OnLink);
        Be.Put32(destination, 8, Uid);
        Be.Put32(destination, 12, Gid);
        Be.Put32(destination, 16, Nlink);
        Be.Put16(destination, 20, ProjIdLo);
        Be.Put16(destination, 22, ProjIdHi);
        Be.Put16(destination, 30, FlushIter);
        Be.Put64(destination, 32, Atime.Encode(big));
        Be.Put64(destination, 40, Mtime.Encode(big));
        Be.Put64(destination, 48, Ctime.Encode(big));
        Be.Put64(destination, 56, Size);
        Be.Put64(destination, 64, NBlocks);
        Be.Put32(destination, 72, ExtSize);
        Be.Put32(destination, 76, NExtents);
        Be.Put16(destination, 80, ANExtents);
        destination[82] = ForkOff;
        destination[83] = (byte)AFormat;
        Be.Put32(destination, 84, DmEvMask);
        Be.Put16(destination, 88, DmState);
        Be.Put16(destination, 90, (ushort)Flags);
        Be.Put32(destination, 92, Gen);
        Be.Put32(destination, 96, NextUnlinked);
        Be.Put64(destination, 104, ChangeCount);
        Be.Put64(destination, 112, Lsn);
        Be.Put64(destination, 120, (ulong)Flags2);
        Be.Put32(destination, 128, CowExtSize);
        Be.Put64(destination, 144, Crtime.Encode(big));
        Be.Put64(destination, 152, Ino);
        Be.PutUuid(destination, 160, Uuid);
        Literal.CopyTo(destination[CoreSize..]);
        XfsCrc.Stamp(destination, XfsFormat.DinodeCrcOffset);
        Crc = XfsCrc.Stored(destination, XfsFormat.DinodeCrcOffset);
    }
}
