using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Repair;

/// <summary>
/// Lists and verifies one directory for the checker: its entries (name, inode, file type), its
/// parent and the problems of its own structure (hashes, free-space tables, block headers,
/// entry layout). <see cref="XfsChecker"/> then checks what only a whole-filesystem view can
/// (targets allocated, file types matching, parents, link counts, connectivity). A directory
/// verifier for the block, leaf and node formats plugs in here.
/// </summary>
/// <remarks>Models the seam between xfs_repair's phase 6 (<c>process_dir_inode</c>) and the per-format directory checks (<c>process_sf_dir2</c>, <c>process_dir2_data</c>, <c>process_leaf_node_dir2</c>).</remarks>
public interface IXfsDirectoryChecker
{
    /// <summary>
    /// The listing of <paramref name="directory"/> (verified, in use, a directory), whose blocks
    /// are read through <paramref name="reader"/>. Must not throw for damaged directories: report
    /// problems in the listing instead.
    /// </summary>
    XfsDirectoryListing List(XfsMetadataReader reader, XfsDinode directory);
}
