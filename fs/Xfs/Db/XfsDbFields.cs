using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Db;

/// <summary>
/// Formats superblocks, AGFs, AGIs, AGFLs and inodes as xfs_db's <c>print</c> does: the same
/// field names in the same order, numbers in decimal, flag words and magic numbers in C's
/// <c>%#x</c>, "null" for null inode and block numbers, timestamps as <c>ctime(3)</c> in local
/// time, and CRCs followed by "(correct)" or "(bad)". Fields of features the filesystem lacks
/// are printed empty, as xfs_db does.
/// </summary>
/// <remarks>Models xfs_db's field tables and printers (db/sb.c, db/agf.c, db/agi.c, db/agfl.c, db/inode.c, db/bmroot.c, db/dir2sf.c, db/fprint.c).</remarks>
public static class XfsDbFields
{
    /// <summary>The fields of a superblock, whose sector <paramref name="sector"/> is given for the CRC check.</summary>
    public static IReadOnlyList<XfsDbField> Superblock(XfsSuperblock sb, ReadOnlySpan<byte> sector)
    {
        bool crcOk = sector.Length >= XfsFormat.SuperblockCrcOffset + 4 && XfsCrc.Verify(sector, XfsFormat.SuperblockCrcOffset);
        return
        [
            new("magicnum", Hex(XfsMagic.Superblock)),
            new("blocksize", D(sb.BlockSize)),
            new("dblocks", D(sb.DataBlocks)),
            new("rblocks", D(sb.RtBlocks)),
            new("rextents", D(sb.RtExtents)),
            new("uuid", Uuid(sb.Uuid)),
            new("logstart", D(sb.LogStart)),
            new("rootino", Ino(sb.RootIno)),
            new("rbmino", Ino(sb.RbmIno)),
            new("rsumino", Ino(sb.RsumIno)),
            new("rextsize", D(sb.RtExtSize)),
            new("agblocks", D(sb.AgBlocks)),
            new("agcount", D(sb.AgCount)),
            new("rbmblocks", D(sb.RbmBlocks)),
            new("logblocks", D(sb.LogBlocks)),
            new("versionnum", Hex((ushort)sb.VersionNum)),
            new("sectsize", D(sb.SectSize)),
            new("inodesize", D(sb.InodeSize)),
            new("inopblock", D(sb.InoPBlock)),
            new("fname", CString(sb.FName)),
            new("blocklog", D(sb.BlockLog)),
            new("sectlog", D(sb.SectLog)),
            new("inodelog", D(sb.InodeLog)),
            new("inopblog", D(sb.InoPBLog)),
            new("agblklog", D(sb.AgBlkLog)),
            new("rextslog", D(sb.RExtsLog)),
            new("inprogress", D(sb.InProgress)),
            new("imax_pct", D(sb.IMaxPct)),
            new("icount", D(sb.ICount)),
            new("ifree", D(sb.IFree)),
            new("fdblocks", D(sb.FdBlocks)),
            new("frextents", D(sb.FrExtents)),
            new("uquotino", Ino(sb.UQuotIno)),
            new("gquotino", Ino(sb.GQuotIno)),
            new("qflags", Hex(sb.QFlags)),
            new("flags", Hex(sb.Flags)),
            new("shared_vn", D(sb.SharedVn)),
            new("inoalignmt", D(sb.InoAlignMt)),
            new("unit", D(sb.Unit)),
            new("width", D(sb.Width)),
            new("dirblklog", D(sb.DirBlkLog)),
            new("logsectlog", D(sb.LogSectLog)),
            new("logsectsize", D(sb.LogSectSize)),
            new("logsunit", D(sb.LogSUnit)),
            new("features2", Hex((uint)sb.Features2)),
            new("bad_features2", Hex((uint)sb.BadFeatures2)),
            new("features_compat", Hex(sb.FeaturesCompat)),
            new("features_ro_compat", Hex((uint)sb.FeaturesRoCompat)),
            new("features_incompat", Hex((uint)sb.FeaturesIncompat)),
            new("features_log_incompat", Hex(sb.FeaturesLogIncompat)),
            new("crc", Crc(sb.Crc, crcOk)),
            new("spino_align", D(sb.SpinoAlign)),
            new("pquotino", Ino(sb.PQuotIno)),
            new("lsn", Hex(sb.Lsn)),
            new("meta_uuid", Uuid(sb.MetaUuid)),
        ];
    }

    /// <summary>The fields of an AGF; <paramref name="sb"/> says which optional trees exist.</summary>
    public static IReadOnlyList<XfsDbField> Agf(XfsAgf agf, XfsSuperblock sb, ReadOnlySpan<byte> sector)
    {
        bool rmap = (sb.FeaturesRoCompat & XfsRoCompatFeatures.RmapBt) != 0;
        bool reflink = (sb.FeaturesRoCompat & XfsRoCompatFeatures.Reflink) != 0;
        return
        [
            new("magicnum", Hex(XfsMagic.Agf)),
            new("versionnum", D(agf.VersionNum)),
            new("seqno", D(agf.SeqNo)),
            new("length", D(agf.Length)),
            new("bnoroot", AgBlock(agf.BnoRoot)),
            new("cntroot", AgBlock(agf.CntRoot)),
            new("rmaproot", rmap ? AgBlock(agf.RmapRoot) : ""),
            new("refcntroot", reflink ? AgBlock(agf.RefcountRoot) : ""),
            new("bnolevel", D(agf.BnoLevel)),
            new("cntlevel", D(agf.CntLevel)),
            new("rmaplevel", D(agf.RmapLevel)),
            new("refcntlevel", D(agf.RefcountLevel)),
            new("rmapblocks", D(agf.RmapBlocks)),
            new("refcntblocks", D(agf.RefcountBlocks)),
            new("flfirst", D(agf.FlFirst)),
            new("fllast", D(agf.FlLast)),
            new("flcount", D(agf.FlCount)),
            new("freeblks", D(agf.FreeBlks)),
            new("longest", D(agf.Longest)),
            new("btreeblks", D(agf.BtreeBlks)),
            new("uuid", Uuid(agf.Uuid)),
            new("lsn", Hex(agf.Lsn)),
            new("crc", Crc(agf.Crc, XfsCrc.Verify(sector, XfsFormat.AgfCrcOffset))),
        ];
    }

    /// <summary>The fields of an AGI; <paramref name="sb"/> says which optional fields exist.</summary>
    public static IReadOnlyList<XfsDbField> Agi(XfsAgi agi, XfsSuperblock sb, ReadOnlySpan<byte> sector)
    {
        bool finobt = (sb.FeaturesRoCompat & XfsRoCompatFeatures.FinoBt) != 0;
        bool inobtcount = (sb.FeaturesRoCompat & XfsRoCompatFeatures.InoBtCount) != 0;
        var unlinked = new StringBuilder();
        for (int i = 0; i < agi.Unlinked.Length; i++)
            if (agi.Unlinked[i] != XfsFormat.NullAgIno)
                unlinked.Append(CultureInfo.InvariantCulture, $"{i}:{agi.Unlinked[i]} ");
        var fields = new List<XfsDbField>
        {
            new("magicnum", Hex(XfsMagic.Agi)),
            new("versionnum", D(agi.VersionNum)),
            new("seqno", D(agi.SeqNo)),
            new("length", D(agi.Length)),
            new("count", D(agi.Count)),
            new("root", AgBlock(agi.Root)),
            new("level", D(agi.Level)),
            new("freecount", D(agi.FreeCount)),
            new("newino", AgIno(agi.NewIno)),
            new("dirino", AgIno(agi.DirIno)),
            new($"unlinked[0-{agi.Unlinked.Length - 1}]", unlinked.ToString()),
            new("uuid", Uuid(agi.Uuid)),
            new("crc", Crc(agi.Crc, XfsCrc.Verify(sector, XfsFormat.AgiCrcOffset))),
            new("lsn", Hex(agi.Lsn)),
        };
        if (finobt)
        {
            fields.Add(new("free_root", AgBlock(agi.FreeRoot)));
            fields.Add(new("free_level", D(agi.FreeLevel)));
        }
        if (inobtcount)
        {
            fields.Add(new("ino_blocks", D(agi.IBlocks)));
            fields.Add(new("fino_blocks", D(agi.FBlocks)));
        }
        return fields;
    }

    /// <summary>The fields of an AGFL.</summary>
    public static IReadOnlyList<XfsDbField> Agfl(XfsAgfl agfl, ReadOnlySpan<byte> sector)
    {
        var bno = string.Join(' ', agfl.Bno.Select((b, i) => $"{i}:{AgBlock(b)}"));
        return
        [
            new("magicnum", Hex(XfsMagic.Agfl)),
            new("seqno", D(agfl.SeqNo)),
            new("uuid", Uuid(agfl.Uuid)),
            new("lsn", Hex(agfl.Lsn)),
            new("crc", Crc(agfl.Crc, XfsCrc.Verify(sector, XfsFormat.AgflCrcOffset))),
            new($"bno[0-{agfl.Bno.Length - 1}]", bno),
        ];
    }

    /// <summary>The fields of a v3 inode, whose bytes <paramref name="raw"/> are given for the CRC check.</summary>
    public static IReadOnlyList<XfsDbField> Inode(XfsDinode d, ReadOnlySpan<byte> raw)
    {
        var f = d.Flags;
        var f2 = d.Flags2;
        int Bit(bool b) => b ? 1 : 0;
        var fields = new List<XfsDbField>
        {
            new("core.magic", Hex(XfsMagic.Dinode)),
            new("core.mode", Octal(d.Mode)),
            new("core.version", D(d.Version)),
            new("core.format", ForkFormat(d.Format)),
            new("core.onlink", D(d.OnLink)),
            new("core.uid", D(d.Uid)),
            new("core.gid", D(d.Gid)),
            new("core.nlinkv2", D(d.Nlink)),
            new("core.projid_lo", D(d.ProjIdLo)),
            new("core.projid_hi", D(d.ProjIdHi)),
        };
        AddTime(fields, "core.atime", d.Atime);
        AddTime(fields, "core.mtime", d.Mtime);
        AddTime(fields, "core.ctime", d.Ctime);
        fields.AddRange(
        [
            new("core.size", D(d.Size)),
            new("core.nblocks", D(d.NBlocks)),
            new("core.extsize", D(d.ExtSize)),
            new("core.nextents", D(d.NExtents)),
            new("core.naextents", D(d.ANExtents)),
            new("core.forkoff", D(d.ForkOff)),
            new("core.aformat", ForkFormat(d.AFormat)),
            new("core.dmevmask", Hex(d.DmEvMask)),
            new("core.dmstate", D(d.DmState)),
            new("core.newrtbm", D(Bit((f & XfsDiFlags.NewRtBm) != 0))),
            new("core.prealloc", D(Bit((f & XfsDiFlags.Prealloc) != 0))),
            new("core.realtime", D(Bit((f & XfsDiFlags.Realtime) != 0))),
            new("core.immutable", D(Bit((f & XfsDiFlags.Immutable) != 0))),
            new("core.append", D(Bit((f & XfsDiFlags.Append) != 0))),
            new("core.sync", D(Bit((f & XfsDiFlags.Sync) != 0))),
            new("core.noatime", D(Bit((f & XfsDiFlags.NoAtime) != 0))),
            new("core.nodump", D(Bit((f & XfsDiFlags.NoDump) != 0))),
            new("core.rtinherit", D(Bit((f & XfsDiFlags.RtInherit) != 0))),
            new("core.projinherit", D(Bit((f & XfsDiFlags.ProjInherit) != 0))),
            new("core.nosymlinks", D(Bit((f & XfsDiFlags.NoSymlinks) != 0))),
            new("core.extsz", D(Bit((f & XfsDiFlags.ExtSize) != 0))),
            new("core.extszinherit", D(Bit((f & XfsDiFlags.ExtSzInherit) != 0))),
            new("core.nodefrag", D(Bit((f & XfsDiFlags.NoDefrag) != 0))),
            new("core.filestream", D(Bit((f & XfsDiFlags.Filestream) != 0))),
            new("core.gen", D(d.Gen)),
            new("next_unlinked", AgIno(d.NextUnlinked)),
            new("v3.crc", Crc(d.Crc, XfsCrc.Verify(raw, XfsFormat.DinodeCrcOffset))),
            new("v3.change_count", D(d.ChangeCount)),
            new("v3.lsn", Hex(d.Lsn)),
            new("v3.flags2", Hex((ulong)f2)),
            new("v3.cowextsize", D(d.CowExtSize)),
        ]);
        AddTime(fields, "v3.crtime", d.Crtime);
        fields.AddRange(
        [
            new("v3.inumber", D(d.Ino)),
            new("v3.uuid", Uuid(d.Uuid)),
            new("v3.reflink", D(Bit((f2 & XfsDiFlags2.Reflink) != 0))),
            new("v3.cowextsz", D(Bit((f2 & XfsDiFlags2.CowExtSize) != 0))),
            new("v3.dax", D(Bit((f2 & XfsDiFlags2.Dax) != 0))),
            new("v3.bigtime", D(Bit((f2 & XfsDiFlags2.BigTime) != 0))),
            new("v3.nrext64", D(Bit((f2 & XfsDiFlags2.NRext64) != 0))),
        ]);
        AddDataFork(fields, d);
        AddAttrFork(fields, d);
        return fields;
    }

    // xfs_db's inode "a" union: a.sfattr for a short-form fork (as far as its entries stay
    // inside the fork), a.bmx for an extents-format one.
    private static void AddAttrFork(List<XfsDbField> fields, XfsDinode d)
    {
        if (d.ForkOff == 0 || d.ForkOff * 8 >= d.Literal.Length)
            return;
        var fork = d.Literal.AsSpan(d.ForkOff * 8);
        switch (d.AFormat)
        {
            case XfsDinodeFormat.Local when fork.Length >= 4:
            {
                int totsize = Be.U16(fork, 0), count = fork[2];
                fields.Add(new("a.sfattr.hdr.totsize", D(totsize)));
                fields.Add(new("a.sfattr.hdr.count", D(count)));
                int pos = 4;
                for (int i = 0; i < count && pos + 3 <= fork.Length; i++)
                {
                    int namelen = fork[pos], valuelen = fork[pos + 1], flags = fork[pos + 2];
                    if (pos + 3 + namelen + valuelen > fork.Length)
                        break;
                    string p = $"a.sfattr.list[{i}]";
                    fields.Add(new($"{p}.namelen", D(namelen)));
                    fields.Add(new($"{p}.valuelen", D(valuelen)));
                    fields.Add(new($"{p}.root", D((flags >> 1) & 1)));
                    fields.Add(new($"{p}.secure", D((flags >> 2) & 1)));
                    fields.Add(new($"{p}.name", Quote(fork.Slice(pos + 3, namelen))));
                    // xfs_db prints no value field for an empty value (a zero-count array).
                    if (valuelen > 0)
                        fields.Add(new($"{p}.value", Quote(fork.Slice(pos + 3 + namelen, valuelen))));
                    pos += 3 + namelen + valuelen;
                }
                break;
            }
            case XfsDinodeFormat.Extents when d.ANExtents != 0:
            {
                int count = Math.Min(d.ANExtents, fork.Length / XfsBmbtRecord.Size);
                var records = new StringBuilder("[startoff,startblock,blockcount,extentflag] \n");
                for (int i = 0; i < count; i++)
                {
                    var e = XfsBmbtRecord.ReadFrom(fork.Slice(i * XfsBmbtRecord.Size, XfsBmbtRecord.Size));
                    if (i > 0)
                        records.Append(' ');
                    records.Append(CultureInfo.InvariantCulture, $"{i}:[{e.StartOff},{e.StartBlock},{e.BlockCount},{(e.Unwritten ? 1 : 0)}]");
                }
                fields.Add(new(count == 1 ? "a.bmx[0]" : $"a.bmx[0-{count - 1}]", records.ToString()));
                break;
            }
        }
    }

    private static void AddDataFork(List<XfsDbField> fields, XfsDinode d)
    {
        switch (d.Format)
        {
            case XfsDinodeFormat.Dev:
                fields.Add(new("u3.dev", D(Be.U32(d.DataFork, 0))));
                break;
            case XfsDinodeFormat.Local when d.FileType == XfsDinode.TypeDirectory:
                AddShortformDirectory(fields, d);
                break;
            case XfsDinodeFormat.Local when d.FileType == XfsDinode.TypeSymlink:
                fields.Add(new("u3.symlink", Quote(d.DataFork[..(int)Math.Min(d.Size, (ulong)d.DataForkSize)])));
                break;
            case XfsDinodeFormat.Extents when d.NExtents == 0:
                fields.Add(new("u3", "(empty)"));
                break;
            case XfsDinodeFormat.Extents:
            {
                int count = (int)Math.Min(d.NExtents, (uint)(d.DataForkSize / XfsBmbtRecord.Size));
                var records = new StringBuilder("[startoff,startblock,blockcount,extentflag] \n");
                for (int i = 0; i < count; i++)
                {
                    var e = XfsBmbtRecord.ReadFrom(d.DataFork.Slice(i * XfsBmbtRecord.Size, XfsBmbtRecord.Size));
                    if (i > 0)
                        records.Append(' ');
                    records.Append(CultureInfo.InvariantCulture, $"{i}:[{e.StartOff},{e.StartBlock},{e.BlockCount},{(e.Unwritten ? 1 : 0)}]");
                }
                fields.Add(new(count == 1 ? "u3.bmx[0]" : $"u3.bmx[0-{count - 1}]", records.ToString()));
                break;
            }
            default:
                fields.Add(new("u3", $"({ForkFormat(d.Format)} data fork not decoded)"));
                break;
        }
    }

    private static void AddShortformDirectory(List<XfsDbField> fields, XfsDinode d)
    {
        var fork = d.DataFork;
        if (fork.Length < 6)
            return;
        int count = fork[0], i8 = fork[1], inoSize = i8 != 0 ? 8 : 4;
        string inoField = inoSize == 8 ? "i8" : "i4";
        fields.Add(new("u3.sfdir3.hdr.count", D(count)));
        fields.Add(new("u3.sfdir3.hdr.i8count", D(i8)));
        fields.Add(new($"u3.sfdir3.hdr.parent.{inoField}", D(inoSize == 8 ? Be.U64(fork, 2) : Be.U32(fork, 2))));
        int pos = 2 + inoSize;
        for (int i = 0; i < count && pos + 3 <= fork.Length; i++)
        {
            int namelen = fork[pos];
            if (pos + 4 + namelen + inoSize > fork.Length)
                break;
            string p = $"u3.sfdir3.list[{i}]";
            fields.Add(new($"{p}.namelen", D(namelen)));
            fields.Add(new($"{p}.offset", Hex(Be.U16(fork, pos + 1))));
            fields.Add(new($"{p}.name", Quote(fork.Slice(pos + 3, namelen))));
            int inoAt = pos + 4 + namelen;
            fields.Add(new($"{p}.inumber.{inoField}", D(inoSize == 8 ? Be.U64(fork, inoAt) : Be.U32(fork, inoAt))));
            fields.Add(new($"{p}.filetype", D(fork[pos + 3 + namelen])));
            pos += 4 + namelen + inoSize;
        }
    }

    private static void AddTime(List<XfsDbField> fields, string name, XfsTimestamp t)
    {
        fields.Add(new($"{name}.sec", CTime(t.Seconds)));
        fields.Add(new($"{name}.nsec", D(t.Nanoseconds)));
    }

    private static string ForkFormat(XfsDinodeFormat format) => format switch
    {
        XfsDinodeFormat.Dev => "0 (dev)",
        XfsDinodeFormat.Local => "1 (local)",
        XfsDinodeFormat.Extents => "2 (extents)",
        XfsDinodeFormat.Btree => "3 (btree)",
        XfsDinodeFormat.Uuid => "4 (uuid)",
        _ => $"{(byte)format} (unknown)",
    };

    /// <summary>C's <c>%#x</c>: "0" for zero, else 0x and lowercase hex digits.</summary>
    public static string Hex(ulong value) => value == 0 ? "0" : "0x" + value.ToString("x", CultureInfo.InvariantCulture);

    private static string D<T>(T value) where T : IFormattable => value.ToString(null, CultureInfo.InvariantCulture);

    private static string Octal(ushort value) => value == 0 ? "0" : "0" + Convert.ToString(value, 8);

    private static string Uuid(Guid g) => g.ToString("D");

    private static string Ino(ulong ino) => ino == XfsFormat.NullFsIno ? "null" : D(ino);

    private static string AgIno(uint agino) => agino == XfsFormat.NullAgIno ? "null" : D(agino);

    private static string AgBlock(uint agbno) => agbno == XfsFormat.NullAgBlock ? "null" : D(agbno);

    private static string Crc(uint stored, bool correct) =>
        $"{Hex(BinaryPrimitives.ReverseEndianness(stored))} ({(correct ? "correct" : "bad")})";

    /// <summary>A time as <c>ctime(3)</c> prints it in the local time zone, without the newline.</summary>
    public static string CTime(long unixSeconds)
    {
        DateTimeOffset utc;
        try
        {
            utc = DateTimeOffset.FromUnixTimeSeconds(unixSeconds);
        }
        catch (ArgumentOutOfRangeException)
        {
            return D(unixSeconds);
        }
        var local = TimeZoneInfo.ConvertTime(utc, TimeZoneInfo.Local);
        var c = CultureInfo.InvariantCulture;
        return $"{local.ToString("ddd MMM", c)} {local.Day,2} {local.ToString("HH:mm:ss yyyy", c)}";
    }

    /// <summary>A byte string quoted as xfs_db prints character arrays: printable ASCII as is (with \\, \", \' and \? escaped), 7 to 13 as \a to \g, the rest as octal escapes.</summary>
    private static string CString(ReadOnlySpan<byte> bytes) => Quote(bytes);

    private static string Quote(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder("\"");
        foreach (byte b in bytes)
        {
            if (b is (byte)'\\' or (byte)'"' or (byte)'\'' or (byte)'?')
                sb.Append('\\').Append((char)b);
            else if (b is >= 0x07 and <= 0x0d)
                // xfs_db names BEL..CR by consecutive letters: \a \b \c \d \e \f \g.
                sb.Append('\\').Append((char)('a' + b - 0x07));
            else if (b is >= 0x20 and < 0x7f)
                sb.Append((char)b);
            else
                sb.Append('\\').Append(Convert.ToString(b, 8).PadLeft(3, '0'));
        }
        return sb.Append('"').ToString();
    }
}
