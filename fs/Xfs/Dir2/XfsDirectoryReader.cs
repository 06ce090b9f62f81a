using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Dir2;

/// <summary>
/// Lists the directories of an existing image without a transaction: the inode (from
/// <c>XfsMetadataReader.ReadInode</c>) and a reader of raw filesystem blocks are enough. Every
/// block is verified as <see cref="XfsDirectoryCheck"/> does; a directory with any problem is not
/// listed but reported as an <see cref="XfsCorruptionException"/> carrying the first problem.
/// </summary>
/// <remarks>Models the read side of the kernel's <c>xfs_readdir</c> (xfs_dir2_readdir.c: <c>xfs_dir2_sf_getdents</c>, <c>xfs_dir2_block_getdents</c>, <c>xfs_dir2_leaf_getdents</c>) with the verifiers of every block it reads.</remarks>
public static class XfsDirectoryReader
{
    /// <summary>
    /// The entries of directory <paramref name="inode"/> in readdir order ("." and ".." first),
    /// reading filesystem blocks through <paramref name="readBlock"/> (fsblock → its bytes).
    /// </summary>
    public static IReadOnlyList<XfsDirEntry> List(XfsDinode inode, XfsGeometry geometry, Guid uuid, Func<ulong, byte[]> readBlock)
    {
        ArgumentNullException.ThrowIfNull(inode);
        if (inode.FileType != XfsDinode.TypeDirectory)
            throw new XfsException(DaxStack.Device.Errors.Errno.ENOTDIR, $"inode {inode.Ino}: not a directory (mode 0{Convert.ToString(inode.Mode, 8)})");
        var result = XfsDirectoryCheck.Check(XfsDirectorySource.FromDinode(inode, geometry, uuid, readBlock));
        if (!result.IsClean)
            throw new XfsCorruptionException($"inode {inode.Ino}", result.Problems[0]);
        return result.Entries;
    }

    /// <summary>The shape of directory <paramref name="inode"/>, from its fork and block map.</summary>
    public static XfsDir2Form FormOf(XfsDinode inode, XfsGeometry geometry, Guid uuid, Func<ulong, byte[]> readBlock)
    {
        ArgumentNullException.ThrowIfNull(inode);
        return XfsDirectoryCheck.Check(XfsDirectorySource.FromDinode(inode, geometry, uuid, readBlock)).Form;
    }
}
