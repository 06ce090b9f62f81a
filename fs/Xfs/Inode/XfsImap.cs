using DaxStack.Fs.Xfs.Btree;
using DaxStack.Fs.Xfs.Ialloc;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Xfs.Inode;

/// <summary>
/// Where an inode lives on disk: the inode cluster buffer that holds it (disk address and
/// length) and its byte offset inside that buffer.
/// </summary>
/// <remarks>Models the kernel's <c>struct xfs_imap</c> (<c>im_blkno</c>, <c>im_len</c>, <c>im_boffset</c>) and <c>xfs_imap</c>.</remarks>
public readonly record struct XfsImap(ulong ClusterDaddr, int ClusterLength, int Offset)
{
    /// <summary>
    /// Locates inode <paramref name="ino"/>. With inode chunk alignment the cluster follows from
    /// the number alone; without it the AG's inode B+tree says where the chunk starts. EINVAL
    /// (<see cref="XfsException"/>) for a number that cannot name an inode of this filesystem or
    /// lies in no allocated chunk, as the kernel's xfs_imap answers.
    /// </summary>
    public static XfsImap Locate(XfsTransaction tp, ulong ino)
    {
        var mp = tp.Mount;
        var geo = mp.Geometry;
        if (!geo.IsValidIno(ino))
            throw new XfsException(Device.Errors.Errno.EINVAL, $"inode {ino}: not an inode number of this filesystem");
        uint agno = geo.InoToAgno(ino);
        uint agino = geo.InoToAgino(ino);
        uint agbno = geo.AginoToAgbno(agino);
        uint clusterBlocks = Math.Min(mp.InodeClusterBlocks, mp.InodeChunkBlocks);
        uint clusterAgbno;
        if (mp.InodeChunkAlignment % clusterBlocks == 0)
        {
            clusterAgbno = agbno - agbno % clusterBlocks;
        }
        else
        {
            var cur = new XfsBtreeCursor<XfsInobtRecord>(tp, agno, XfsInobtOps.Ino);
            if (!cur.LookupLe(new XfsInobtRecord(agino, 0, 0)) || agino - cur.GetRecord().StartIno >= XfsFormat.InodesPerChunk)
                throw new XfsException(Device.Errors.Errno.EINVAL, $"inode {ino}: in no allocated inode chunk");
            uint chunkAgbno = geo.AginoToAgbno(cur.GetRecord().StartIno);
            clusterAgbno = chunkAgbno + (agbno - chunkAgbno) / clusterBlocks * clusterBlocks;
        }
        uint firstAgino = geo.AgBlockToAgino(clusterAgbno);
        return new XfsImap(geo.AgBlockToDaddr(agno, clusterAgbno), (int)clusterBlocks * geo.BlockSize, (int)(agino - firstAgino) * geo.InodeSize);
    }
}
