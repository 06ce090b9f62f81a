using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Xfs.Dir2;

/// <summary>
/// What the directory code needs of a directory inode: its number, its data fork (local bytes or
/// a block map) and size, and block mapping, allocation and freeing inside a transaction. The
/// inode implementation provides it; the directory code never touches the inode core itself.
/// </summary>
/// <remarks>Models the parts of the kernel's <c>struct xfs_inode</c> / <c>xfs_ifork</c> that libxfs/xfs_dir2*.c use: <c>i_ino</c>, <c>if_format</c>, <c>i_disk_size</c>, <c>xfs_inode_data_fork_size</c>, <c>if_data</c>, <c>xfs_init_local_fork</c>, <c>xfs_bmapi_read</c>, <c>xfs_bmapi_write</c> (via <c>xfs_da_grow_inode</c>), <c>xfs_bunmapi</c> (via <c>xfs_da_shrink_inode</c>) and <c>xfs_bmap_first_unused</c>.</remarks>
public interface IXfsDirectoryInode
{
    /// <summary>The directory's inode number (the owner of its blocks).</summary>
    ulong Ino { get; }

    /// <summary>The data fork's format: <see cref="XfsDinodeFormat.Local"/> (short-form) or extents / btree.</summary>
    XfsDinodeFormat DataFormat { get; }

    /// <summary>di_size.</summary>
    ulong Size { get; }

    /// <summary>Bytes the data fork may hold in the inode (XFS_IFORK_DSIZE).</summary>
    int LocalCapacity { get; }

    /// <summary>The short-form bytes when the fork is local.</summary>
    ReadOnlySpan<byte> LocalData { get; }

    /// <summary>Makes the data fork local holding <paramref name="data"/>; di_size becomes its length; logged.</summary>
    void SetLocal(XfsTransaction tp, ReadOnlySpan<byte> data);

    /// <summary>Turns a local fork into an empty extents fork with di_size 0; logged.</summary>
    void SetExtents(XfsTransaction tp);

    /// <summary>Sets di_size; logged.</summary>
    void SetSize(XfsTransaction tp, ulong size);

    /// <summary>The filesystem block (agno &lt;&lt; agblklog | agbno) mapped at <paramref name="fileBlock"/>, if any.</summary>
    bool TryMapBlock(XfsTransaction tp, ulong fileBlock, out ulong fsBlock);

    /// <summary>Maps a newly allocated block at the hole <paramref name="fileBlock"/> and returns it; <see cref="XfsException"/> with ENOSPC when there is none.</summary>
    ulong AllocateBlock(XfsTransaction tp, ulong fileBlock);

    /// <summary>Unmaps and frees the block at <paramref name="fileBlock"/>.</summary>
    void FreeBlock(XfsTransaction tp, ulong fileBlock);

    /// <summary>The first mapped file block at or after <paramref name="fromBlock"/>, or null.</summary>
    ulong? NextMappedBlock(XfsTransaction tp, ulong fromBlock);
}
