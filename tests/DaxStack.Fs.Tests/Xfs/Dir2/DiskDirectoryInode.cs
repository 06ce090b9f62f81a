using DaxStack.Device.Errors;
using DaxStack.Fs.Xfs.Alloc;
using DaxStack.Fs.Xfs.Buffers;
using DaxStack.Fs.Xfs.Dir2;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Tests.Xfs.Dir2;

/// <summary>
/// A directory inode of a real image for the interop tests: the fork, size and block map start as
/// the on-disk inode has them, and every change rewrites the inode (format, di_size, di_nblocks,
/// di_nextents and the local bytes or extent records) in its inode buffer inside the
/// transaction, so xfs_repair and xfs_db see a consistent directory. Extents format only (at most
/// as many extents as the fork holds); blocks come from the real allocator.
/// </summary>
internal sealed class DiskDirectoryInode : IXfsDirectoryInode
{
    private readonly XfsGeometry _geo;
    private readonly XfsDinode _core;
    private readonly SortedDictionary<ulong, ulong> _map = [];
    private byte[] _local;

    public DiskDirectoryInode(XfsTransaction tp, ulong ino)
    {
        _geo = tp.Mount.Geometry;
        Ino = ino;
        var (bp, offset) = Buffer(tp);
        _core = XfsDinode.ReadFrom(bp.Data.AsSpan(offset, _geo.InodeSize), ino);
        _local = _core.Format == XfsDinodeFormat.Local ? _core.DataFork[..(int)_core.Size].ToArray() : [];
        if (_core.Format == XfsDinodeFormat.Extents)
        {
            foreach (var x in _core.ReadExtents())
            {
                for (uint i = 0; i < x.BlockCount; i++)
                    _map[x.StartOff + i] = x.StartBlock + i;
            }
        }
        else if (_core.Format != XfsDinodeFormat.Local)
        {
            throw new InvalidOperationException($"inode {ino}: {_core.Format} forks are beyond this test double");
        }
    }

    public ulong Ino { get; }

    public XfsDinodeFormat DataFormat => _core.Format;

    public ulong Size => _core.Size;

    public int LocalCapacity => _core.DataForkSize;

    public ReadOnlySpan<byte> LocalData => _local;

    public void SetLocal(XfsTransaction tp, ReadOnlySpan<byte> data)
    {
        _core.Format = XfsDinodeFormat.Local;
        _local = data.ToArray();
        _core.Size = (ulong)data.Length;
        Write(tp);
    }

    public void SetExtents(XfsTransaction tp)
    {
        _core.Format = XfsDinodeFormat.Extents;
        _local = [];
        _core.Size = 0;
        Write(tp);
    }

    public void SetSize(XfsTransaction tp, ulong size)
    {
        _core.Size = size;
        Write(tp);
    }

    public bool TryMapBlock(XfsTransaction tp, ulong fileBlock, out ulong fsBlock) => _map.TryGetValue(fileBlock, out fsBlock);

    public ulong AllocateBlock(XfsTransaction tp, ulong fileBlock)
    {
        // Near the previous block of the file when there is one, so extents stay few.
        var before = _map.Where(p => p.Key < fileBlock).Select(p => (ulong?)p.Value).LastOrDefault();
        XfsAgExtent ext;
        bool ok = before is ulong prev
            ? XfsAlloc.TryAllocate(tp, XfsAllocRequest.Near(_geo.FsbToAgno(prev), Math.Min(_geo.FsbToAgbno(prev) + 1, _geo.AgLength(_geo.FsbToAgno(prev)) - 1), 1, 1), out ext)
            : XfsAlloc.TryAllocateAnyAg(tp, 0, 1, 1, 1, out ext);
        if (!ok && !XfsAlloc.TryAllocateAnyAg(tp, 0, 1, 1, 1, out ext))
            throw new XfsException(Errno.ENOSPC, $"inode {Ino}: no free block");
        ulong fsb = _geo.AgBlockToFsb(ext.AgNo, ext.AgBno);
        _map[fileBlock] = fsb;
        Write(tp);
        return fsb;
    }

    public void FreeBlock(XfsTransaction tp, ulong fileBlock)
    {
        if (!_map.Remove(fileBlock, out ulong fsb))
            throw new InvalidOperationException($"inode {Ino}: file block {fileBlock} is not mapped");
        XfsAlloc.Free(tp, _geo.FsbToAgno(fsb), _geo.FsbToAgbno(fsb), 1);
        Write(tp);
    }

    public ulong? NextMappedBlock(XfsTransaction tp, ulong fromBlock)
    {
        foreach (ulong k in _map.Keys)
        {
            if (k >= fromBlock)
                return k;
        }
        return null;
    }

    private (XfsBuffer Bp, int Offset) Buffer(XfsTransaction tp)
    {
        long offset = _geo.InodeOffset(Ino);
        long block = offset & ~((long)_geo.BlockSize - 1);
        var bp = tp.ReadBuffer((ulong)block >> XfsFormat.BasicBlockShift, _geo.BlockSize, XfsInodeBufferOps.Instance);
        return (bp, (int)(offset - block));
    }

    private void Write(XfsTransaction tp)
    {
        var records = new List<XfsBmbtRecord>();
        foreach (var (k, fsb) in _map)
        {
            if (records.Count > 0 && records[^1] is var last && last.StartOff + last.BlockCount == k
                && last.StartBlock + last.BlockCount == fsb && _geo.FsbToAgno(last.StartBlock) == _geo.FsbToAgno(fsb))
                records[^1] = last with { BlockCount = last.BlockCount + 1 };
            else
                records.Add(new XfsBmbtRecord(k, fsb, 1, false));
        }
        var literal = new byte[_core.Literal.Length];
        if (_core.Format == XfsDinodeFormat.Local)
        {
            _local.CopyTo(literal, 0);
        }
        else
        {
            if (records.Count * XfsBmbtRecord.Size > _core.DataForkSize)
                throw new InvalidOperationException($"inode {Ino}: {records.Count} extents do not fit the fork");
            for (int i = 0; i < records.Count; i++)
                records[i].WriteTo(literal.AsSpan(i * XfsBmbtRecord.Size));
        }
        _core.Literal = literal;
        _core.NExtents = _core.Format == XfsDinodeFormat.Local ? 0u : (uint)records.Count;
        _core.NBlocks = (ulong)_map.Count;
        var (bp, offset) = Buffer(tp);
        var image = new byte[_geo.InodeSize];
        _core.WriteTo(image);
        tp.LogChanges(bp, offset, image, offset + XfsFormat.DinodeCrcOffset);
    }
}
