using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Xfs.Bmap;

/// <summary>
/// One fork of an in-core inode: its format and contents. A local fork holds its bytes; an
/// extents or btree fork holds every extent record in one sorted list, and a btree fork also
/// the mirror of its on-disk B+tree, which every edit of the list keeps informed.
/// </summary>
/// <remarks>Models the kernel's <c>struct xfs_ifork</c> (<c>if_format</c>, <c>if_data</c> for local forks, the incore extent tree <c>if_u1.if_root</c> behind <c>xfs_iext_insert</c>/<c>xfs_iext_remove</c>/<c>xfs_iext_update_extent</c>, <c>if_broot</c>).</remarks>
public sealed class XfsIfork
{
    private readonly List<XfsBmbtRecord> _extents = [];

    /// <summary>The fork's on-disk format.</summary>
    public XfsDinodeFormat Format { get; internal set; } = XfsDinodeFormat.Extents;

    /// <summary>The bytes of a local fork.</summary>
    public byte[] Local { get; internal set; } = [];

    /// <summary>The extent records, sorted by file offset (extents and btree formats).</summary>
    public IReadOnlyList<XfsBmbtRecord> Extents => _extents;

    /// <summary>The mirror of the on-disk B+tree (btree format only).</summary>
    public XfsBmbtTree? Btree { get; internal set; }

    /// <summary>Number of extent records.</summary>
    public int Count => _extents.Count;

    internal List<XfsBmbtRecord> ExtentList => _extents;

    internal void Insert(int index, XfsBmbtRecord record)
    {
        Btree?.Inserted(index, _extents.Count);
        _extents.Insert(index, record);
    }

    internal void RemoveAt(int index)
    {
        Btree?.Removed(index);
        _extents.RemoveAt(index);
    }

    internal void Set(int index, XfsBmbtRecord record)
    {
        if (_extents[index] == record)
            return;
        _extents[index] = record;
        Btree?.Modified(index);
    }

    /// <summary>
    /// The index of the extent containing file block <paramref name="offset"/>, or the bitwise
    /// complement of the index of the first extent after it (as <see cref="List{T}.BinarySearch(T)"/>).
    /// </summary>
    public int Find(ulong offset)
    {
        int lo = 0, hi = _extents.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            var e = _extents[mid];
            if (offset < e.StartOff)
                hi = mid - 1;
            else if (offset >= e.StartOff + e.BlockCount)
                lo = mid + 1;
            else
                return mid;
        }
        return ~lo;
    }
}
