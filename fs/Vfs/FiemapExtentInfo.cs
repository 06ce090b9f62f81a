using DaxStack.Device.Errors;

namespace DaxStack.Fs.Vfs;

/// <summary>
/// What a filesystem's <see cref="IInodeOperations.Fiemap"/> reports into: it calls
/// <see cref="FillNextExtent"/> for each extent in file order until that returns true.
/// </summary>
/// <remarks>Models the kernel's <c>struct fiemap_extent_info</c> and <c>fiemap_fill_next_extent()</c>.</remarks>
public sealed class FiemapExtentInfo
{
    private readonly Fiemap _fiemap;

    internal FiemapExtentInfo(Fiemap fiemap)
    {
        _fiemap = fiemap;
    }

    /// <summary>The request flags (<c>fi_flags</c>).</summary>
    public FiemapFlags Flags => _fiemap.Flags;

    /// <summary>
    /// The generic checks a filesystem's fiemap starts with: a zero length is EINVAL, a start at
    /// or beyond the maximum file size EFBIG, request flags outside <paramref name="supported"/>
    /// (plus FIEMAP_FLAG_SYNC) EBADR with <see cref="Fiemap.Flags"/> set to them. Returns the
    /// length clipped to the maximum file size. FIEMAP_FLAG_SYNC needs no write-back here: the
    /// filesystems below write data in place (DAX, memory), with no dirty page cache.
    /// </summary>
    /// <remarks>Models <c>fiemap_prep()</c>.</remarks>
    public long Prep(Inode inode, long start, long length, FiemapFlags supported)
    {
        ArgumentNullException.ThrowIfNull(inode);

        // fm_start and fm_length are unsigned in struct fiemap.
        ulong maxBytes = (ulong)inode.Sb.MaxBytes;
        ulong len = (ulong)length;
        ulong st = (ulong)start;
        if (len == 0)
        {
            throw new ErrnoException(Errno.EINVAL, $"fiemap: zero length on inode {inode.Ino}");
        }

        if (st >= maxBytes)
        {
            throw new ErrnoException(Errno.EFBIG, $"fiemap: start {st} is beyond the maximum file size");
        }

        if (len > maxBytes || maxBytes - len < st)
        {
            len = maxBytes - st;
        }

        supported = (supported | FiemapFlags.FIEMAP_FLAG_SYNC) & FiemapFlags.Compat;
        var incompat = _fiemap.Flags & ~supported;
        if (incompat != 0)
        {
            _fiemap.Flags = incompat;
            throw new ErrnoException(Errno.EBADR, $"fiemap: flags 0x{(uint)incompat:x} are not supported");
        }

        return (long)len;
    }

    /// <summary>
    /// Records one extent; returns true when the caller must stop (the buffer is full or the
    /// extent carried <see cref="FiemapExtentFlags.FIEMAP_EXTENT_LAST"/>).
    /// </summary>
    public bool FillNextExtent(long logical, long physical, long length, FiemapExtentFlags flags)
    {
        // fiemap_fill_next_extent: with no buffer only count.
        if (_fiemap.ExtentCount == 0)
        {
            _fiemap.MappedExtents++;
            return (flags & FiemapExtentFlags.FIEMAP_EXTENT_LAST) != 0;
        }

        if (_fiemap.MappedExtents >= _fiemap.ExtentCount)
        {
            return true;
        }

        if ((flags & FiemapExtentFlags.FIEMAP_EXTENT_DELALLOC) != 0)
        {
            flags |= FiemapExtentFlags.FIEMAP_EXTENT_UNKNOWN;
        }

        if ((flags & FiemapExtentFlags.FIEMAP_EXTENT_DATA_ENCRYPTED) != 0)
        {
            flags |= FiemapExtentFlags.FIEMAP_EXTENT_ENCODED;
        }

        if ((flags & (FiemapExtentFlags.FIEMAP_EXTENT_DATA_TAIL | FiemapExtentFlags.FIEMAP_EXTENT_DATA_INLINE)) != 0)
        {
            flags |= FiemapExtentFlags.FIEMAP_EXTENT_NOT_ALIGNED;
        }

        _fiemap.Extents[_fiemap.MappedExtents++] = new FiemapExtent(logical, physical, length, flags);
        return _fiemap.MappedExtents == _fiemap.ExtentCount || (flags & FiemapExtentFlags.FIEMAP_EXTENT_LAST) != 0;
    }
}
