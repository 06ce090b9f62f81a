using DaxStack.Device.Errors;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Xfs.Dir2;

/// <summary>
/// The directory operations, each inside the caller's transaction: create an empty directory,
/// look a name up, add, remove and replace names, test for emptiness and list the entries from
/// a readdir cookie on. Each operation works out the directory's shape (short-form, block, leaf,
/// node) and converts between shapes as entries come and go, as XFS does. Names are 1 to 255
/// bytes without '/' or NUL. Errors are <see cref="XfsException"/>s: EEXIST, ENOENT,
/// ENAMETOOLONG, EINVAL, ENOSPC (from block allocation), and <see cref="XfsCorruptionException"/>
/// for damaged directory blocks. After any exception the caller must cancel the transaction.
/// </summary>
/// <remarks>Models the kernel's libxfs/xfs_dir2.c (<c>xfs_dir_init</c>, <c>xfs_dir_createname</c>, <c>xfs_dir_lookup</c>, <c>xfs_dir_removename</c>, <c>xfs_dir_replace</c>, <c>xfs_dir_isempty</c>, <c>xfs_dir2_format</c>) and xfs_dir2_readdir.c (<c>xfs_readdir</c>).</remarks>
public static class XfsDirectory
{
    /// <summary>The shape of directory <paramref name="dp"/>.</summary>
    public static XfsDir2Form FormOf(XfsTransaction tp, IXfsDirectoryInode dp) => new XfsDir2Args(tp, dp).Form();

    /// <summary>xfs_dir_init: makes <paramref name="dp"/> an empty short-form directory whose ".." is <paramref name="parent"/>.</summary>
    public static void Init(XfsTransaction tp, IXfsDirectoryInode dp, ulong parent)
    {
        var args = new XfsDir2Args(tp, dp);
        CheckIno(args, parent);
        XfsDir2Sf.Write(args, new XfsDir2Shortform { Parent = parent });
    }

    /// <summary>
    /// xfs_dir2_sf_to_block as xfs_bmap_add_attrfork_local calls it: a short-form directory
    /// becomes a block directory with the same entries (nothing happens to another shape), so a
    /// new attribute fork can take space from the literal area.
    /// </summary>
    public static void ShortformToBlock(XfsTransaction tp, IXfsDirectoryInode dp)
    {
        var args = new XfsDir2Args(tp, dp);
        if (args.Form() != XfsDir2Form.Shortform)
            return;
        XfsDir2Block.FromShortform(args, XfsDir2Sf.Read(args));
        args.Flush();
    }

    /// <summary>The entry <paramref name="name"/> ("." and ".." included); ENOENT when there is none.</summary>
    public static XfsDirEntry Lookup(XfsTransaction tp, IXfsDirectoryInode dp, ReadOnlySpan<byte> name) =>
        TryLookup(tp, dp, name) ?? throw new XfsException(Errno.ENOENT, $"directory inode {dp.Ino}: no entry '{XfsDir2Sf.Text(name)}'");

    /// <summary>The entry <paramref name="name"/>, or null when there is none.</summary>
    public static XfsDirEntry? TryLookup(XfsTransaction tp, IXfsDirectoryInode dp, ReadOnlySpan<byte> name)
    {
        var args = new XfsDir2Args(tp, dp);
        CheckName(args, name);
        return args.Form() switch
        {
            XfsDir2Form.Shortform => XfsDir2Sf.Lookup(args, name),
            XfsDir2Form.Block => XfsDir2Block.Lookup(args, name),
            XfsDir2Form.Leaf => XfsDir2Leaf.Lookup(args, name),
            _ => XfsDir2Node.Lookup(args, name),
        };
    }

    /// <summary>xfs_dir_createname: adds <paramref name="name"/> → <paramref name="ino"/>; EEXIST when the name is there.</summary>
    public static void AddName(XfsTransaction tp, IXfsDirectoryInode dp, ReadOnlySpan<byte> name, ulong ino, XfsDirFileType ftype)
    {
        var args = new XfsDir2Args(tp, dp);
        CheckName(args, name);
        CheckIno(args, ino);
        CheckFileType(args, ftype);
        if (XfsDir2Format.IsDotOrDotDot(name))
            throw new XfsException(Errno.EEXIST, $"{args.Name}: '{XfsDir2Sf.Text(name)}' exists");
        byte[] n = name.ToArray();
        switch (args.Form())
        {
            case XfsDir2Form.Shortform:
                XfsDir2Sf.AddName(args, n, ino, ftype);
                break;
            case XfsDir2Form.Block:
                XfsDir2Block.AddName(args, n, ino, ftype);
                break;
            case XfsDir2Form.Leaf:
                XfsDir2Leaf.AddName(args, n, ino, ftype);
                break;
            default:
                XfsDir2Node.AddName(args, n, ino, ftype);
                break;
        }
        args.Flush();
    }

    /// <summary>xfs_dir_removename: removes <paramref name="name"/>; ENOENT when it is not there, EINVAL for "." and "..".</summary>
    public static void RemoveName(XfsTransaction tp, IXfsDirectoryInode dp, ReadOnlySpan<byte> name)
    {
        var args = new XfsDir2Args(tp, dp);
        CheckName(args, name);
        if (XfsDir2Format.IsDotOrDotDot(name))
            throw new XfsException(Errno.EINVAL, $"{args.Name}: '{XfsDir2Sf.Text(name)}' cannot be removed");
        switch (args.Form())
        {
            case XfsDir2Form.Shortform:
                XfsDir2Sf.RemoveName(args, name);
                break;
            case XfsDir2Form.Block:
                XfsDir2Block.RemoveName(args, name);
                break;
            case XfsDir2Form.Leaf:
                XfsDir2Leaf.RemoveName(args, name);
                break;
            default:
                XfsDir2Node.RemoveName(args, name);
                break;
        }
        args.Flush();
    }

    /// <summary>
    /// xfs_dir_replace: points the existing <paramref name="name"/> at <paramref name="ino"/> with
    /// type <paramref name="ftype"/> (rename over an entry, or ".." of a moved directory); ENOENT
    /// when it is not there, EINVAL for ".".
    /// </summary>
    public static void Replace(XfsTransaction tp, IXfsDirectoryInode dp, ReadOnlySpan<byte> name, ulong ino, XfsDirFileType ftype)
    {
        var args = new XfsDir2Args(tp, dp);
        CheckName(args, name);
        CheckIno(args, ino);
        CheckFileType(args, ftype);
        if (name.SequenceEqual("."u8))
            throw new XfsException(Errno.EINVAL, $"{args.Name}: '.' cannot be replaced");
        switch (args.Form())
        {
            case XfsDir2Form.Shortform:
                XfsDir2Sf.Replace(args, name, ino, ftype);
                break;
            case XfsDir2Form.Block:
                XfsDir2Block.Replace(args, name.ToArray(), ino, ftype);
                break;
            case XfsDir2Form.Leaf:
                XfsDir2Leaf.Replace(args, name, ino, ftype);
                break;
            default:
                XfsDir2Node.Replace(args, name, ino, ftype);
                break;
        }
        args.Flush();
    }

    /// <summary>Whether the directory holds nothing but "." and "..".</summary>
    public static bool IsEmpty(XfsTransaction tp, IXfsDirectoryInode dp)
    {
        var args = new XfsDir2Args(tp, dp);
        if (args.Form() == XfsDir2Form.Shortform)
            return XfsDir2Sf.Read(args).Entries.Count == 0;
        return !Iterate(tp, dp).Any(e => !XfsDir2Format.IsDotOrDotDot(e.Name));
    }

    /// <summary>
    /// The entries whose cookie is at least <paramref name="fromCookie"/>, in readdir order ("."
    /// and ".." first, then by data-space address). To resume after an entry, pass its cookie + 1.
    /// </summary>
    public static IReadOnlyList<XfsDirEntry> Iterate(XfsTransaction tp, IXfsDirectoryInode dp, uint fromCookie = 0)
    {
        var args = new XfsDir2Args(tp, dp);
        var form = args.Form();
        if (form == XfsDir2Form.Shortform)
            return XfsDir2Sf.Iterate(args, fromCookie);
        var result = new List<XfsDirEntry>();
        ulong db = XfsDir2Format.DataptrToDb(fromCookie, args.Bs);
        while (dp.NextMappedBlock(tp, db) is ulong next && next < args.LeafBlk)
        {
            var d = args.Data(next, blockForm: form == XfsDir2Form.Block);
            foreach (var e in d.Entries)
            {
                uint cookie = XfsDir2Format.Dataptr(next, e.Offset, args.Bs);
                if (cookie >= fromCookie)
                    result.Add(new XfsDirEntry(e.Name, e.Ino, e.FileType, cookie));
            }
            db = next + 1;
        }
        return result;
    }

    private static void CheckName(XfsDir2Args args, ReadOnlySpan<byte> name)
    {
        if (name.Length == 0)
            throw new XfsException(Errno.EINVAL, $"{args.Name}: empty name");
        if (name.Length > XfsDir2Format.MaxNameLength)
            throw new XfsException(Errno.ENAMETOOLONG, $"{args.Name}: a name of {name.Length} bytes is longer than {XfsDir2Format.MaxNameLength}");
        if (name.IndexOf((byte)'/') >= 0 || name.IndexOf((byte)0) >= 0)
            throw new XfsException(Errno.EINVAL, $"{args.Name}: a name cannot contain '/' or NUL");
    }

    private static void CheckIno(XfsDir2Args args, ulong ino)
    {
        if (ino == 0 || ino >= 1UL << 56)
            throw new XfsException(Errno.EINVAL, $"{args.Name}: {ino} is not an inode number");
    }

    private static void CheckFileType(XfsDir2Args args, XfsDirFileType ftype)
    {
        if (ftype is XfsDirFileType.Unknown or > XfsDirFileType.Whiteout)
            throw new XfsException(Errno.EINVAL, $"{args.Name}: file type {(byte)ftype} is not a file type");
    }
}
