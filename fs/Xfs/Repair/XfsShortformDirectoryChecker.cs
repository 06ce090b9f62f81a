using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Repair;

/// <summary>
/// A directory checker for short-form directories only (the checker's default is
/// <see cref="XfsDir2DirectoryChecker"/>): reads short-form directories (format
/// local) with <see cref="XfsDir2Shortform"/>, which verifies their layout, and reports every
/// other format (block, leaf, node directories in extents or btree format) as not checked.
/// </summary>
/// <remarks>Models xfs_repair's <c>process_sf_dir2</c> (repair/dir2.c); the other formats are left to the Dir2 verifier.</remarks>
public sealed class XfsShortformDirectoryChecker : IXfsDirectoryChecker
{
    /// <inheritdoc/>
    public XfsDirectoryListing List(XfsMetadataReader reader, XfsDinode directory)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(directory);
        if (directory.Format != XfsDinodeFormat.Local)
            return XfsDirectoryListing.NotChecked($"format not checked ({directory.Format.ToString().ToLowerInvariant()}-format directory: no block/leaf/node directory verifier plugged in)");
        int dirBlockSize = (int)(reader.Superblock.BlockSize << reader.Superblock.DirBlkLog);
        try
        {
            var sf = XfsDir2Shortform.ReadFrom(directory.DataFork, directory.Size, directory.Ino, dirBlockSize);
            return new XfsDirectoryListing
            {
                Checked = true,
                Complete = true,
                Parent = sf.Parent,
                Entries = [.. sf.Entries.Select(e => new XfsCheckedDirEntry(e.Name, e.Ino, e.FileType))],
            };
        }
        catch (XfsCorruptionException e)
        {
            return new XfsDirectoryListing { Checked = true, Complete = false, Problems = [e.Problem] };
        }
    }
}
