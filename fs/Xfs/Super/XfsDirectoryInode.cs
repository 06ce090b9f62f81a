using DaxStack.Fs.Xfs.Bmap;
using DaxStack.Fs.Xfs.Dir2;
using DaxStack.Fs.Xfs.Inode;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Xfs.Super;

/// <summary>
/// A directory inode as the directory code sees it: its short-form bytes in the inode, or its
/// directory blocks through the block map, allocated and freed one filesystem block at a time.
/// </summary>
/// <remarks>Models what the kernel's xfs_dir2 code reaches through <c>struct xfs_da_args</c>: <c>dp-&gt;i_df</c> (<c>if_data</c>, <c>XFS_IFORK_DSIZE</c>), <c>xfs_bmapi_read</c>, <c>xfs_da_grow_inode_int</c> and <c>xfs_dir2_shrink_inode</c> (<c>xfs_bunmapi</c>).</remarks>
public sealed class XfsDirectoryInode : IXfsDirectoryInode
{
    public XfsDirectoryInode(XfsInode inode)
    {
        ArgumentNullException.ThrowIfNull(inode);
        Inode = inode;
    }

    /// <summary>The in-core inode.</summary>
    public XfsInode Inode { get; }

    public ulong Ino => Inode.Ino;

    public XfsDinodeFormat DataFormat => Inode.DataFork.Format;

    public ulong Size => Inode.Core.Size;

    public int LocalCapacity => Inode.DataForkSize;

    public ReadOnlySpan<byte> LocalData => Inode.DataFork.Local;

    public void SetLocal(XfsTransaction tp, ReadOnlySpan<byte> data)
    {
        if (data.Length > LocalCapacity)
            throw new InvalidOperationException($"inode {Ino}: {data.Length} bytes do not fit the {LocalCapacity}-byte fork");
        if (Inode.DataFork.Format != XfsDinodeFormat.Local && Inode.DataFork.Count != 0)
            throw new InvalidOperationException($"inode {Ino}: going local with {Inode.DataFork.Count} extents still mapped");
        Inode.Join(tp);
        Inode.ReplaceDataFork(new XfsIfork { Format = XfsDinodeFormat.Local, Local = data.ToArray() });
        Inode.Core.Size = (ulong)data.Length;
        Inode.Log(tp);
    }

    public void SetExtents(XfsTransaction tp)
    {
        Inode.Join(tp);
        Inode.ReplaceDataFork(new XfsIfork { Format = XfsDinodeFormat.Extents });
        Inode.Core.Size = 0;
        Inode.Log(tp);
    }

    public void SetSize(XfsTransaction tp, ulong size)
    {
        Inode.Join(tp);
        Inode.Core.Size = size;
        Inode.Log(tp);
    }

    public bool TryMapBlock(XfsTransaction tp, ulong fileBlock, out ulong fsBlock)
    {
        var map = XfsBmap.Lookup(Inode, fileBlock);
        fsBlock = map.StartBlock;
        return map.State == XfsBmapState.Written;
    }

    public ulong AllocateBlock(XfsTransaction tp, ulong fileBlock)
    {
        if (XfsBmap.Allocate(tp, Inode, fileBlock, 1, unwritten: false) != 1)
            throw new XfsException(Device.Errors.Errno.ENOSPC, $"inode {Ino}: no block for directory block {fileBlock}");
        return XfsBmap.Lookup(Inode, fileBlock).StartBlock;
    }

    public void FreeBlock(XfsTransaction tp, ulong fileBlock)
    {
        var map = XfsBmap.Lookup(Inode, fileBlock);
        if (map.State == XfsBmapState.Hole)
            return;
        var geo = tp.Mount.Geometry;
        // xfs_dir2_shrink_inode: the block's buffer must never be written again.
        var bp = tp.Mount.Buffers.Find(geo.AgBlockToDaddr(geo.FsbToAgno(map.StartBlock), geo.FsbToAgbno(map.StartBlock)), geo.BlockSize);
        if (bp != null && !bp.IsStale)
            tp.Invalidate(bp);
        XfsBmap.Unmap(tp, Inode, fileBlock, 1);
    }

    public ulong? NextMappedBlock(XfsTransaction tp, ulong fromBlock)
    {
        var fork = Inode.DataFork;
        int i = fork.Find(fromBlock);
        if (i >= 0)
            return fromBlock;
        i = ~i;
        return i < fork.Count ? fork.Extents[i].StartOff : null;
    }
}
