using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Repair;

/// <summary>
/// Phases 6 and 7: lists every directory through the <see cref="IXfsDirectoryChecker"/> and
/// checks the namespace: the root is an allocated directory that is its own parent; every
/// entry names an allocated inode with a matching file type, once per name; every directory's
/// ".." is the directory listing it; then every inode's link count equals the entries naming it
/// (a directory's equals two plus its subdirectories), and no allocated inode is disconnected.
/// Link counts that directories the checker could not list might explain are not compared,
/// and a note says how many.
/// </summary>
/// <remarks>Models xfs_repair phase 6 (repair/phase6.c <c>process_dir_inode</c>, <c>check_for_orphaned_inodes</c>) and phase 7 (repair/phase7.c <c>check_nlinks</c>).</remarks>
internal static class XfsNamespaceChecker
{
    public static void CheckDirectories(XfsRepairContext ctx, out int unlistable)
    {
        var sb = ctx.Superblock;
        unlistable = 0;
        if (!ctx.Inodes.TryGetValue(sb.RootIno, out var root) || !root.IsDirectory)
            ctx.Error("sb 0", $"root inode {sb.RootIno} is not an allocated directory");
        bool ftype = (sb.FeaturesIncompat & XfsIncompatFeatures.FType) != 0;
        var listedIn = new Dictionary<ulong, ulong>();
        foreach (var dir in ctx.Inodes.Values.Where(i => i.IsDirectory))
        {
            string name = $"directory {dir.Ino}";
            XfsDirectoryListing listing;
            try
            {
                listing = ctx.Options.DirectoryChecker.List(ctx.Reader, dir.Directory!);
            }
            catch (XfsException e)
            {
                ctx.Error(e);
                listing = new XfsDirectoryListing { Checked = true, Complete = false };
            }
            dir.Listing = listing;
            if (!listing.Checked)
                ctx.Note(name, listing.NotCheckedReason ?? "format not checked");
            foreach (var problem in listing.Problems)
                ctx.Error(name, problem);
            if (!listing.Complete)
                unlistable++;
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var entry in listing.Entries)
            {
                string what = $"entry '{entry.NameText}'";
                if (!names.Add(System.Text.Encoding.Latin1.GetString(entry.Name)))
                    ctx.Error(name, $"{what} appears twice");
                if (!ctx.Geometry.IsValidIno(entry.Ino))
                {
                    ctx.Error(name, $"{what} names inode {entry.Ino}, which is not an inode number of this filesystem");
                    continue;
                }
                if (!ctx.Inodes.TryGetValue(entry.Ino, out var target))
                {
                    if (!ctx.BadInodes.Contains(entry.Ino))
                        ctx.Error(name, $"{what} names inode {entry.Ino}, which is free");
                    continue;
                }
                target.References++;
                var expected = FileTypeOf(target.FileType);
                if (ftype && entry.FileType != expected)
                    ctx.Error(name, $"{what} has file type {entry.FileType} but inode {entry.Ino} is {expected}");
                if (target.IsDirectory)
                {
                    dir.Subdirectories++;
                    if (entry.Ino == sb.RootIno)
                        ctx.Error(name, $"{what} names the root directory");
                    else if (!listedIn.TryAdd(entry.Ino, dir.Ino))
                        ctx.Error(name, $"{what} names directory {entry.Ino}, already listed in directory {listedIn[entry.Ino]}");
                }
            }
        }
        foreach (var dir in ctx.Inodes.Values.Where(i => i.IsDirectory && i.Listing is { Parent: not null }))
        {
            ulong parent = dir.Listing!.Parent!.Value;
            string name = $"directory {dir.Ino}";
            if (dir.Ino == sb.RootIno)
            {
                if (parent != dir.Ino)
                    ctx.Error(name, $"the root's parent is {parent}, not itself");
            }
            else if (!ctx.Inodes.TryGetValue(parent, out var p) || !p.IsDirectory)
                ctx.Error(name, $"parent {parent} is not an allocated directory");
            else if (listedIn.TryGetValue(dir.Ino, out ulong listing) && listing != parent)
                ctx.Error(name, $"parent is {parent} but the directory is listed in directory {listing}");
        }
    }

    public static void CheckLinkCounts(XfsRepairContext ctx, int unlistable)
    {
        var sb = ctx.Superblock;
        var internalInodes = new HashSet<ulong> { sb.RbmIno, sb.RsumIno, sb.UQuotIno, sb.GQuotIno, sb.PQuotIno };
        bool allListed = unlistable == 0 && ctx.BadInodes.Count == 0 && ctx.Ags.All(a => a.InodesComplete);
        int skipped = 0;
        foreach (var inode in ctx.Inodes.Values)
        {
            if (internalInodes.Contains(inode.Ino))
                continue;
            string name = $"inode {inode.Ino}";
            bool isRoot = inode.Ino == sb.RootIno;
            if (inode.Nlink == 0)
            {
                ctx.Error(name, "in use with nlink 0 (an unlinked inode left at rest)");
                continue;
            }
            int refs = inode.References + (isRoot ? 1 : 0);
            if (inode.IsDirectory)
            {
                if (refs > 1)
                    ctx.Error(name, $"directory named by {refs} entries (a directory has one parent)");
                else if (refs == 0)
                {
                    if (allListed)
                        ctx.Error(name, "directory in no directory (disconnected)");
                    else
                        skipped++;
                }
                if (inode.Listing is not { Complete: true })
                {
                    skipped++;
                    continue;
                }
                long expected = 2L + inode.Subdirectories;
                if (inode.Nlink != expected)
                    ctx.Error(name, $"nlink {inode.Nlink} but the directory has {inode.Subdirectories} subdirectories (expected {expected})");
                continue;
            }
            if (refs > inode.Nlink)
                ctx.Error(name, $"nlink {inode.Nlink} but {refs} directory entries name it");
            else if (refs < inode.Nlink)
            {
                if (allListed)
                    ctx.Error(name, $"nlink {inode.Nlink} but {refs} directory entries name it{(refs == 0 ? " (disconnected)" : "")}");
                else
                    skipped++;
            }
        }
        if (skipped > 0)
            ctx.Note("link counts", $"{skipped} inode link counts not compared: {unlistable} directories could not be listed{(ctx.BadInodes.Count > 0 ? $" and {ctx.BadInodes.Count} inodes could not be read" : "")}");
    }

    private static XfsDirFileType FileTypeOf(ushort fileType) => fileType switch
    {
        XfsDinode.TypeRegular => XfsDirFileType.RegularFile,
        XfsDinode.TypeDirectory => XfsDirFileType.Directory,
        XfsDinode.TypeSymlink => XfsDirFileType.Symlink,
        0x2000 => XfsDirFileType.CharDevice,
        0x6000 => XfsDirFileType.BlockDevice,
        0x1000 => XfsDirFileType.Fifo,
        0xC000 => XfsDirFileType.Socket,
        _ => XfsDirFileType.Unknown,
    };
}
