namespace DaxStack.Fs.Xfs.OnDisk;

/// <summary>
/// A short-form directory, stored in the inode's data fork (format local): a header with the
/// entry count, the count of inode numbers that need 8 bytes, and the parent's inode
/// number, then the entries. "." and ".." are implicit. With any inode number above 32 bits,
/// every inode number (parent included) is stored in 8 bytes. The fork's byte count is di_size.
/// </summary>
/// <remarks>Models the kernel's <c>struct xfs_dir2_sf_hdr</c> / <c>xfs_dir2_sf_entry</c> with the checks of <c>xfs_dir2_sf_verify</c> (xfs_dir2_sf.c), v5 (ftype) layout.</remarks>
public sealed class XfsDir2Shortform
{
    /// <summary>XFS_DIR3_DATA_ENTRY_OFFSET-based first entry offset in a v5 block directory: the
    /// 64-byte data header plus the 16-byte "." and ".." entries.</summary>
    public const ushort FirstOffset = 96;

    /// <summary>XFS_DIR2_MAX_SHORT_INUM: the largest inode number stored in 4 bytes.</summary>
    public const ulong MaxShortIno = 0xFFFFFFFF;

    /// <summary>The parent directory's inode number (".."; the root is its own parent).</summary>
    public ulong Parent { get; set; }

    /// <summary>The entries in offset order.</summary>
    public List<XfsDir2SfEntry> Entries { get; } = [];

    /// <summary>Whether inode numbers are stored in 8 bytes (some number exceeds 32 bits).</summary>
    public bool Wide => Parent > MaxShortIno || Entries.Exists(e => e.Ino > MaxShortIno);

    /// <summary>xfs_dir2_sf_hdr_size + the entries: the fork's byte count (di_size).</summary>
    public int ByteCount
    {
        get
        {
            int ino = Wide ? 8 : 4;
            int size = 2 + ino;
            foreach (var e in Entries)
                size += 1 + 2 + e.Name.Length + 1 + ino;
            return size;
        }
    }

    /// <summary>
    /// Parses and verifies the short-form directory of inode <paramref name="ino"/> from its
    /// data fork (<paramref name="size"/> = di_size bytes used): counts, name lengths and
    /// characters, strictly increasing offsets, file types and inode numbers. Throws
    /// <see cref="XfsCorruptionException"/> naming <c>inode INO</c>.
    /// </summary>
    public static XfsDir2Shortform ReadFrom(ReadOnlySpan<byte> fork, ulong size, ulong ino, int directoryBlockSize = XfsFormat.BlockSize)
    {
        string name = $"inode {ino}";
        if (size < 6 || size > (ulong)fork.Length)
            throw XfsCorruptionException.BadField(name, "short-form directory size", size, $"not 6 to {fork.Length} bytes");
        var data = fork[..(int)size];
        int count = data[0], i8count = data[1];
        int inoSize = i8count != 0 ? 8 : 4;
        if (data.Length < 2 + inoSize)
            throw new XfsCorruptionException(name, "short-form directory header truncated");
        var dir = new XfsDir2Shortform { Parent = ReadIno(data, 2, inoSize) };
        int wide = dir.Parent > MaxShortIno ? 1 : 0;
        int pos = 2 + inoSize;
        int nextOffset = FirstOffset;
        for (int i = 0; i < count; i++)
        {
            if (pos + 3 >= data.Length)
                throw new XfsCorruptionException(name, $"short-form entry {i} runs past di_size {size}");
            int namelen = data[pos];
            if (namelen == 0)
                throw new XfsCorruptionException(name, $"short-form entry {i} has an empty name");
            int entrySize = 1 + 2 + namelen + 1 + inoSize;
            if (pos + entrySize > data.Length)
                throw new XfsCorruptionException(name, $"short-form entry {i} runs past di_size {size}");
            ushort offset = Be.U16(data, pos + 1);
            var nameBytes = data.Slice(pos + 3, namelen);
            if (nameBytes.IndexOf((byte)'/') >= 0 || nameBytes.IndexOf((byte)0) >= 0)
                throw new XfsCorruptionException(name, $"short-form entry {i} name contains '/' or NUL");
            var ftype = (XfsDirFileType)data[pos + 3 + namelen];
            if (ftype > XfsDirFileType.Whiteout)
                throw XfsCorruptionException.BadField(name, $"entry {i} ftype", (byte)ftype, "not a file type");
            // Offsets are where the entries would sit in a block directory, so each one starts
            // at or after the end of the previous entry's data-block slot.
            if (offset < nextOffset)
                throw XfsCorruptionException.BadField(name, $"entry {i} offset", offset, $"overlaps the previous entry (next free offset {nextOffset})");
            nextOffset = offset + DataEntrySize(namelen);
            ulong child = ReadIno(data, pos + 4 + namelen, inoSize);
            if (child > MaxShortIno)
                wide++;
            dir.Entries.Add(new XfsDir2SfEntry(nameBytes.ToArray(), offset, ftype, child));
            pos += entrySize;
        }
        if (pos != data.Length)
            throw new XfsCorruptionException(name, $"short-form directory entries use {pos} of di_size {size} bytes");
        if (wide != i8count)
            throw new XfsCorruptionException(name, $"short-form directory i8count {i8count} but {wide} inode numbers need 8 bytes");
        // A short-form directory must be one that would fit a single directory block with its
        // leaf entries (one per name plus . and ..) and the block tail.
        if (nextOffset + (count + 2) * 8 + 8 > directoryBlockSize)
            throw new XfsCorruptionException(name, $"short-form directory of {count} entries would not fit a {directoryBlockSize}-byte block");
        return dir;
    }

    /// <summary>xfs_dir2_data_entsize with file types: the entry's size in a block directory (inumber, namelen, name, ftype, tag; 8-byte aligned).</summary>
    public static int DataEntrySize(int nameLength) => (8 + 1 + nameLength + 1 + 2 + 7) & ~7;

    private static ulong ReadIno(ReadOnlySpan<byte> data, int offset, int size) =>
        size == 8 ? Be.U64(data, offset) & ((1UL << 56) - 1) : Be.U32(data, offset);

    /// <summary>Writes the directory into <paramref name="fork"/>; returns the bytes written (di_size).</summary>
    public int WriteTo(Span<byte> fork)
    {
        int total = ByteCount;
        Be.NeedRoom(fork, total, "short-form directory");
        if (Entries.Count > byte.MaxValue)
            throw new InvalidOperationException($"{Entries.Count} entries do not fit a short-form directory");
        int inoSize = Wide ? 8 : 4;
        fork[0] = (byte)Entries.Count;
        fork[1] = (byte)((Parent > MaxShortIno ? 1 : 0) + Entries.Count(e => e.Ino > MaxShortIno));
        WriteIno(fork, 2, inoSize, Parent);
        int pos = 2 + inoSize;
        foreach (var e in Entries)
        {
            if (e.Name.Length is 0 or > 255)
                throw new InvalidOperationException($"directory entry name of {e.Name.Length} bytes");
            fork[pos] = (byte)e.Name.Length;
            Be.Put16(fork, pos + 1, e.Offset);
            e.Name.CopyTo(fork[(pos + 3)..]);
            fork[pos + 3 + e.Name.Length] = (byte)e.FileType;
            WriteIno(fork, pos + 4 + e.Name.Length, inoSize, e.Ino);
            pos += 1 + 2 + e.Name.Length + 1 + inoSize;
        }
        return total;
    }

    private static void WriteIno(Span<byte> fork, int offset, int size, ulong ino)
    {
        if (size == 8)
            Be.Put64(fork, offset, ino);
        else
            Be.Put32(fork, offset, (uint)ino);
    }
}
