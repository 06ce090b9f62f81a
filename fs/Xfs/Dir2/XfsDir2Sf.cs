using DaxStack.Device.Errors;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Dir2;

/// <summary>
/// Operations on a short-form directory (entries in the inode): add with the offset choice that
/// keeps the directory convertible to one block, remove, replace (switching between 4- and
/// 8-byte inode numbers as the largest number requires), and conversion to a block directory
/// when an entry no longer fits the inode.
/// </summary>
/// <remarks>Models the kernel's libxfs/xfs_dir2_sf.c: <c>xfs_dir2_sf_addname</c>, <c>xfs_dir2_sf_addname_pick</c>, <c>xfs_dir2_sf_addname_easy</c> / <c>_hard</c>, <c>xfs_dir2_sf_removename</c>, <c>xfs_dir2_sf_replace</c>, <c>xfs_dir2_sf_toino4</c> / <c>toino8</c>, <c>xfs_dir2_sf_to_block</c> and <c>xfs_dir2_block_to_sf</c>.</remarks>
internal static class XfsDir2Sf
{
    public static XfsDir2Shortform Read(XfsDir2Args args) =>
        XfsDir2Shortform.ReadFrom(args.Dp.LocalData, args.Dp.Size, args.Dp.Ino, args.Bs);

    public static void Write(XfsDir2Args args, XfsDir2Shortform sf)
    {
        var bytes = new byte[sf.ByteCount];
        sf.WriteTo(bytes);
        args.Dp.SetLocal(args.Tp, bytes);
    }

    public static XfsDirEntry? Lookup(XfsDir2Args args, ReadOnlySpan<byte> name)
    {
        var sf = Read(args);
        if (name.SequenceEqual("."u8))
            return new XfsDirEntry([(byte)'.'], args.Dp.Ino, XfsDirFileType.Directory, XfsDir2Format.DotOffset >> 3);
        if (name.SequenceEqual(".."u8))
            return new XfsDirEntry([(byte)'.', (byte)'.'], sf.Parent, XfsDirFileType.Directory, XfsDir2Format.DotDotOffset >> 3);
        foreach (var e in sf.Entries)
        {
            if (name.SequenceEqual(e.Name))
                return new XfsDirEntry(e.Name, e.Ino, e.FileType, (uint)e.Offset >> 3);
        }
        return null;
    }

    public static void AddName(XfsDir2Args args, byte[] name, ulong ino, XfsDirFileType ftype)
    {
        var sf = Read(args);
        if (sf.Entries.Exists(e => e.Name.AsSpan().SequenceEqual(name)))
            throw new XfsException(Errno.EEXIST, $"{args.Name}: '{Text(name)}' exists");
        int size = XfsDir2Format.DataEntrySize(name.Length);
        // Offsets are where the entries would sit in a block directory; the new one must leave
        // that block possible (data, leaf entries for every name plus "." and "..", and tail).
        int offset = XfsDir2Format.FirstOffset;
        bool holeFits = false;
        foreach (var e in sf.Entries)
        {
            if (!holeFits)
                holeFits = offset + size <= e.Offset;
            offset = e.Offset + XfsDir2Format.DataEntrySize(e.Name.Length);
        }
        int used = offset + ((sf.Entries.Count + 3) * XfsDir2Format.LeafEntrySize) + XfsDir2Format.BlockTailSize;
        bool fitsBlock = used + (holeFits ? 0 : size) <= args.Bs;
        int index = sf.Entries.Count;
        bool objChange = ino > XfsDir2Shortform.MaxShortIno && !sf.Wide;
        if (objChange || used + size > args.Bs)
        {
            // The hard way: the first hole between entries that holds the new one.
            offset = XfsDir2Format.FirstOffset;
            for (index = 0; index < sf.Entries.Count; index++)
            {
                var e = sf.Entries[index];
                if (offset + size <= e.Offset)
                    break;
                offset = e.Offset + XfsDir2Format.DataEntrySize(e.Name.Length);
            }
        }
        var grown = Copy(sf);
        grown.Entries.Insert(index, new XfsDir2SfEntry(name, (ushort)offset, ftype, ino));
        if (!fitsBlock || grown.ByteCount > args.Dp.LocalCapacity)
        {
            XfsDir2Block.FromShortform(args, sf);
            XfsDir2Block.AddName(args, name, ino, ftype);
            return;
        }
        Write(args, grown);
    }

    public static void RemoveName(XfsDir2Args args, ReadOnlySpan<byte> name)
    {
        var sf = Read(args);
        int i = IndexOf(sf, name);
        if (i < 0)
            throw new XfsException(Errno.ENOENT, $"{args.Name}: no entry '{Text(name)}'");
        sf.Entries.RemoveAt(i);
        // Dropping the last 8-byte inode number shrinks every number back to 4 bytes (toino4):
        // WriteTo sizes them from the largest remaining number.
        Write(args, sf);
    }

    public static void Replace(XfsDir2Args args, ReadOnlySpan<byte> name, ulong ino, XfsDirFileType ftype)
    {
        var sf = Read(args);
        var changed = Copy(sf);
        if (name.SequenceEqual(".."u8))
        {
            changed.Parent = ino;
        }
        else
        {
            int i = IndexOf(sf, name);
            if (i < 0)
                throw new XfsException(Errno.ENOENT, $"{args.Name}: no entry '{Text(name)}'");
            var e = changed.Entries[i];
            changed.Entries[i] = e with { Ino = ino, FileType = ftype };
        }
        if (changed.ByteCount > args.Dp.LocalCapacity)
        {
            // Eight-byte inode numbers no longer fit the inode (toino8 impossible): go to a block.
            XfsDir2Block.FromShortform(args, sf);
            XfsDir2Block.Replace(args, name.ToArray(), ino, ftype);
            return;
        }
        Write(args, changed);
    }

    public static List<XfsDirEntry> Iterate(XfsDir2Args args, uint fromCookie)
    {
        var sf = Read(args);
        var all = new List<XfsDirEntry>
        {
            new([(byte)'.'], args.Dp.Ino, XfsDirFileType.Directory, XfsDir2Format.DotOffset >> 3),
            new([(byte)'.', (byte)'.'], sf.Parent, XfsDirFileType.Directory, XfsDir2Format.DotDotOffset >> 3),
        };
        all.AddRange(sf.Entries.Select(e => new XfsDirEntry(e.Name, e.Ino, e.FileType, (uint)e.Offset >> 3)));
        return all.FindAll(e => e.Cookie >= fromCookie);
    }

    private static int IndexOf(XfsDir2Shortform sf, ReadOnlySpan<byte> name)
    {
        for (int i = 0; i < sf.Entries.Count; i++)
        {
            if (name.SequenceEqual(sf.Entries[i].Name))
                return i;
        }
        return -1;
    }

    private static XfsDir2Shortform Copy(XfsDir2Shortform sf)
    {
        var c = new XfsDir2Shortform { Parent = sf.Parent };
        c.Entries.AddRange(sf.Entries);
        return c;
    }

    internal static string Text(ReadOnlySpan<byte> name) => System.Text.Encoding.UTF8.GetString(name);
}
