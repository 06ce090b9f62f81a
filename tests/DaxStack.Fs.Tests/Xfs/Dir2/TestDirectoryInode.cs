using DaxStack.Device.Errors;
using DaxStack.Fs.Xfs.Alloc;
using DaxStack.Fs.Xfs.Dir2;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Tests.Xfs.Dir2;

/// <summary>
/// A directory inode for the directory tests: the fork and size live in fields and the block map
/// in a sorted dictionary, but every block is really allocated and freed through the allocator
/// of the filesystem under test, so directory blocks are real transactional buffers and space
/// accounting is real.
/// </summary>
internal sealed class TestDirectoryInode(ulong ino, int localCapacity = TestDirectoryInode.DefaultLocalCapacity) : IXfsDirectoryInode
{
    /// <summary>XFS_IFORK_DSIZE of a 512-byte v3 inode without an attribute fork.</summary>
    public const int DefaultLocalCapacity = 512 - 176;

    private readonly SortedDictionary<ulong, ulong> _map = [];
    private readonly SortedSet<ulong> _keys = [];
    private byte[] _local = [];

    public ulong Ino { get; } = ino;

    public XfsDinodeFormat DataFormat { get; private set; } = XfsDinodeFormat.Extents;

    public ulong Size { get; private set; }

    public int LocalCapacity { get; } = localCapacity;

    public ReadOnlySpan<byte> LocalData => _local;

    public IReadOnlyDictionary<ulong, ulong> Map => _map;

    /// <summary>A copy with the same fork, size and block map, for an operation that will be thrown away.</summary>
    public TestDirectoryInode Clone()
    {
        var c = new TestDirectoryInode(Ino, LocalCapacity) { DataFormat = DataFormat, Size = Size, _local = _local };
        foreach (var (k, v) in _map)
        {
            c._map[k] = v;
            c._keys.Add(k);
        }
        return c;
    }

    public void SetLocal(XfsTransaction tp, ReadOnlySpan<byte> data)
    {
        if (_map.Count > 0)
            throw new InvalidOperationException($"inode {Ino}: a local fork with {_map.Count} blocks still mapped");
        if (data.Length > LocalCapacity)
            throw new InvalidOperationException($"inode {Ino}: {data.Length} bytes do not fit the {LocalCapacity}-byte fork");
        DataFormat = XfsDinodeFormat.Local;
        _local = data.ToArray();
        Size = (ulong)data.Length;
    }

    public void SetExtents(XfsTransaction tp)
    {
        if (DataFormat != XfsDinodeFormat.Local)
            throw new InvalidOperationException($"inode {Ino}: the fork is not local");
        DataFormat = XfsDinodeFormat.Extents;
        _local = [];
        Size = 0;
    }

    public void SetSize(XfsTransaction tp, ulong size) => Size = size;

    public bool TryMapBlock(XfsTransaction tp, ulong fileBlock, out ulong fsBlock) => _map.TryGetValue(fileBlock, out fsBlock);

    public ulong AllocateBlock(XfsTransaction tp, ulong fileBlock)
    {
        if (DataFormat == XfsDinodeFormat.Local)
            throw new InvalidOperationException($"inode {Ino}: mapping a block into a local fork");
        if (_map.ContainsKey(fileBlock))
            throw new InvalidOperationException($"inode {Ino}: file block {fileBlock} is already mapped");
        if (!XfsAlloc.TryAllocateAnyAg(tp, 0, 1, 1, 1, out var ext))
            throw new XfsException(Errno.ENOSPC, $"inode {Ino}: no free block");
        ulong fsb = tp.Mount.Geometry.AgBlockToFsb(ext.AgNo, ext.AgBno);
        _map[fileBlock] = fsb;
        _keys.Add(fileBlock);
        return fsb;
    }

    public void FreeBlock(XfsTransaction tp, ulong fileBlock)
    {
        if (!_map.Remove(fileBlock, out ulong fsb))
            throw new InvalidOperationException($"inode {Ino}: file block {fileBlock} is not mapped");
        _keys.Remove(fileBlock);
        var geo = tp.Mount.Geometry;
        XfsAlloc.Free(tp, geo.FsbToAgno(fsb), geo.FsbToAgbno(fsb), 1);
    }

    public ulong? NextMappedBlock(XfsTransaction tp, ulong fromBlock)
    {
        var view = _keys.GetViewBetween(fromBlock, ulong.MaxValue);
        return view.Count == 0 ? null : view.Min;
    }
}
