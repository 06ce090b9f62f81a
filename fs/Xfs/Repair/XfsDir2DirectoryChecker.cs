using DaxStack.Driver.Block;
using DaxStack.Fs.Xfs.Dir2;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Repair;

/// <summary>
/// The directory checker the checker uses by default: verifies a directory of any format
/// (short-form, block, leaf, node; extents or block-map B+tree fork) with
/// <see cref="XfsDirectoryCheck"/>, reading its blocks raw from the device the
/// <see cref="XfsMetadataReader"/> reads, and lists its entries. The listing is complete when
/// every data block could be read and parsed, so that damage confined to hashes, leaves,
/// free-space tables or dabtree nodes still lets the checker compare link counts.
/// </summary>
/// <remarks>Models xfs_repair's per-format directory checks (repair/dir2.c <c>process_sf_dir2</c>, <c>process_block_dir2</c>, <c>process_leaf_node_dir2</c>, <c>process_dir2_data</c>) feeding phase 6's <c>longform_dir2_entry_check</c>.</remarks>
public sealed class XfsDir2DirectoryChecker : IXfsDirectoryChecker
{
    /// <inheritdoc/>
    public XfsDirectoryListing List(XfsMetadataReader reader, XfsDinode directory)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(directory);
        var geo = reader.Geometry;
        // XfsDirectoryCheck reads one filesystem block per directory block.
        if (directory.Format != XfsDinodeFormat.Local && reader.Superblock.DirBlkLog != 0)
            return XfsDirectoryListing.NotChecked($"format not checked ({reader.Superblock.BlockSize << reader.Superblock.DirBlkLog}-byte directory blocks are larger than a filesystem block)");
        byte[] ReadBlock(ulong fsb)
        {
            var b = new byte[geo.BlockSize];
            var status = reader.Device.Read(geo.FsbToOffset(fsb), b);
            if (status != BlkStatus.Ok)
                throw new XfsException(status.ToErrno(), $"read of block {fsb} failed: {DaxStack.Device.Errors.ErrnoText.StrError(status.ToErrno())}");
            return b;
        }
        XfsDirectorySource source;
        try
        {
            source = XfsDirectorySource.FromDinode(directory, geo, reader.Superblock.MetadataUuid, ReadBlock);
        }
        catch (XfsException e)
        {
            // The block map itself is unreadable: no block of the directory can be trusted.
            return new XfsDirectoryListing { Checked = true, Complete = false, Problems = [e.Message] };
        }
        var result = XfsDirectoryCheck.Check(source);
        string prefix = $"directory inode {directory.Ino}: ";
        var problems = result.Problems
            .Select(p => p.StartsWith(prefix, StringComparison.Ordinal) ? p[prefix.Length..] : p)
            // The namespace phase reports duplicate names itself, once, for every format.
            .Where(p => !p.Contains("appears more than once", StringComparison.Ordinal))
            .ToList();
        var dotdot = result.Entries.FirstOrDefault(e => e.Name is [(byte)'.', (byte)'.']);
        return new XfsDirectoryListing
        {
            Checked = true,
            Complete = AllDataBlocksReadable(source, ReadBlock) && dotdot != null,
            Parent = dotdot?.Ino,
            Entries = [.. result.Entries.Where(e => !XfsDir2Format.IsDotOrDotDot(e.Name)).Select(e => new XfsCheckedDirEntry(e.Name, e.Ino, e.FileType))],
            Problems = problems,
        };
    }

    /// <summary>
    /// Whether every entry the directory holds was listed: the short-form fork parsed, or every
    /// mapped data block lies in the filesystem, reads, carries a matching CRC and parses
    /// (the blocks <see cref="XfsDirectoryCheck"/> would have skipped otherwise).
    /// </summary>
    private static bool AllDataBlocksReadable(XfsDirectorySource source, Func<ulong, byte[]> readBlock)
    {
        if (source.Format == XfsDinodeFormat.Local)
        {
            try
            {
                XfsDir2Shortform.ReadFrom(source.Local, source.Size, source.Ino, source.Geometry.BlockSize);
                return true;
            }
            catch (XfsCorruptionException)
            {
                return false;
            }
        }
        ulong leafBlk = XfsDir2Format.LeafBlock(source.Geometry.BlockSize);
        bool any = false;
        foreach (var (dablk, fsb) in source.Map)
        {
            if (dablk >= leafBlk)
                break;
            any = true;
            if (!source.Geometry.IsValidFsb(fsb))
                return false;
            try
            {
                var b = readBlock(fsb);
                if (!XfsCrc.Verify(b, XfsDir2Format.DataCrcOffset))
                    return false;
                XfsDir2DataBlock.ReadFrom(b, $"directory block {dablk}");
            }
            catch (XfsException)
            {
                return false;
            }
        }
        return any;
    }
}
