using DaxStack.Device.Errors;
using DaxStack.Driver.Dax;
using DaxStack.Fs.Dax;
using DaxStack.Fs.Xfs.Bmap;
using DaxStack.Fs.Xfs.Inode;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Xfs.Files;

/// <summary>
/// Data operations on regular files of the XFS-like filesystem, all through DAX: read and write
/// copy between the caller's buffer and device memory (<see cref="DaxIomap"/>), a write past
/// end of file moves the size in a transaction after the data is in place (so a crash never
/// exposes a size whose data was not written), and truncate zeroes the tail of the last block
/// before cutting the blocks beyond the new size away. Errors are <see cref="XfsException"/>s
/// carrying the errno the syscall returns.
/// </summary>
/// <remarks>Models the kernel's fs/xfs/xfs_file.c DAX paths: <c>xfs_file_dax_read</c>, <c>xfs_file_dax_write</c> (with <c>xfs_setfilesize</c>), <c>xfs_setattr_size</c> (<c>xfs_truncate_page</c>, <c>xfs_itruncate_extents</c>), and the size limit <c>s_maxbytes</c>.</remarks>
public static class XfsFileIo
{
    /// <summary>s_maxbytes: the largest file size (MAX_LFS_FILESIZE; XFS's block offsets reach further).</summary>
    public const long MaxBytes = long.MaxValue;

    /// <summary>The DAX operations of <paramref name="mp"/>'s device; EOPNOTSUPP when it has none.</summary>
    public static IDaxOperations DaxOf(XfsMount mp)
    {
        ArgumentNullException.ThrowIfNull(mp);
        return mp.Device as IDaxOperations
            ?? throw new XfsException(Errno.EOPNOTSUPP, $"{mp.Device.Name}: file data needs a DAX-capable device (an fsdax or raw pmem namespace)");
    }

    /// <summary>
    /// Reads up to <paramref name="buffer"/>.Length bytes from byte <paramref name="pos"/>;
    /// returns the count (0 at or past end of file). EIO when the first byte is poisoned.
    /// </summary>
    public static long Read(XfsInode ip, long pos, Span<byte> buffer)
    {
        CheckRegular(ip);
        ArgumentOutOfRangeException.ThrowIfNegative(pos);
        long size = (long)ip.Core.Size;
        if (pos >= size || buffer.IsEmpty)
            return 0;
        int n = (int)Math.Min(buffer.Length, size - pos);
        var error = DaxIomap.Read(DaxOf(ip.Mount), new XfsIomapOps(ip, DaxOf(ip.Mount)), pos, buffer[..n], out long done);
        if (error != DaxIomap.Ok)
            throw new XfsException(error, $"inode {ip.Ino}: read at {pos}: {ErrnoText.StrError(error)}");
        return done;
    }

    /// <summary>
    /// Writes <paramref name="source"/> at byte <paramref name="pos"/>, allocating blocks for holes,
    /// and moves the file size when the write ends past it. Returns the bytes written (short
    /// when the filesystem filled up part-way); ENOSPC when nothing could be written, EFBIG past
    /// <see cref="MaxBytes"/>.
    /// </summary>
    public static long Write(XfsInode ip, long pos, ReadOnlySpan<byte> source)
    {
        CheckRegular(ip);
        ArgumentOutOfRangeException.ThrowIfNegative(pos);
        if (source.IsEmpty)
            return 0;
        if (pos >= MaxBytes)
            throw new XfsException(Errno.EFBIG, $"inode {ip.Ino}: write at {pos} is past the largest file size");
        int n = (int)Math.Min(source.Length, MaxBytes - pos);
        var dax = DaxOf(ip.Mount);
        // xfs_file_write_zero_eof: a write that starts past end of file first zeroes the rest of
        // the old last block, so nothing beyond the old end can show through the gap.
        ZeroPastEof(ip, dax, pos);
        var error = DaxIomap.Write(dax, new XfsIomapOps(ip, dax), pos, source[..n], out long done);
        if (done > 0)
            Modified(ip, Math.Max((long)ip.Core.Size, pos + done));
        if (error != DaxIomap.Ok)
            throw new XfsException(error, $"inode {ip.Ino}: write at {pos}: {ErrnoText.StrError(error)}");
        return done;
    }

    /// <summary>
    /// Sets the file size to <paramref name="size"/>: growing zeroes the rest of the old last
    /// block and leaves a hole after it; otherwise the rest
    /// of the new last block is zeroed and every block past it freed (in as many transactions as
    /// that takes; the new size is logged first, so a crash part-way leaves only blocks past end
    /// of file, which are legal).
    /// </summary>
    public static void Truncate(XfsInode ip, long size)
    {
        CheckRegular(ip);
        if (size < 0)
            throw new XfsException(Errno.EINVAL, $"inode {ip.Ino}: negative size {size}");
        if (size > MaxBytes)
            throw new XfsException(Errno.EFBIG, $"inode {ip.Ino}: size {size} is past the largest file size");
        var mp = ip.Mount;
        long old = (long)ip.Core.Size;
        int blockSize = mp.Geometry.BlockSize;
        if (size < old && size % blockSize != 0)
        {
            // xfs_truncate_page: stale bytes past the new end of the last block must read as zeroes if the file grows again.
            long end = Math.Min(old, (size / blockSize + 1) * blockSize);
            var dax = DaxOf(mp);
            var error = DaxIomap.Zero(dax, new XfsIomapOps(ip, dax), size, end - size);
            if (error != DaxIomap.Ok)
                throw new XfsException(error, $"inode {ip.Ino}: zeroing past the new size {size}: {ErrnoText.StrError(error)}");
        }
        if (size > old)
            ZeroPastEof(ip, DaxOf(mp), size);
        Modified(ip, size);
        // xfs_setattr_size trims blocks only when the size does not grow (blocks preallocated
        // past end of file survive a truncate up).
        if (size <= old)
        {
            ulong from = (ulong)((size + blockSize - 1) / blockSize);
            XfsBmap.UnmapRange(ip, from, XfsBmap.MaxFileOffset + 1 - from);
        }
    }

    // Zeroes [size, min(upTo, end of the last block)) when the file's last block is partial.
    private static void ZeroPastEof(XfsInode ip, IDaxOperations dax, long upTo)
    {
        long size = (long)ip.Core.Size;
        int bs = ip.Mount.Geometry.BlockSize;
        if (upTo <= size || size % bs == 0)
            return;
        long end = Math.Min(upTo, (size / bs + 1) * bs);
        var error = DaxIomap.Zero(dax, new XfsIomapOps(ip, dax), size, end - size);
        if (error != DaxIomap.Ok)
            throw new XfsException(error, $"inode {ip.Ino}: zeroing past end of file at {size}: {ErrnoText.StrError(error)}");
    }

    /// <summary>
    /// file_modified after a data or space change: the modification and change times, and the
    /// size when <paramref name="size"/> is given and differs, in a transaction of its own. A
    /// change of the times alone is logged as such, so fdatasync need not force it.
    /// </summary>
    internal static void Modified(XfsInode ip, long? size)
    {
        var mp = ip.Mount;
        using var tp = XfsTransaction.Begin(mp);
        ip.Join(tp);
        var now = XfsInodeCache.For(mp).Now();
        bool sizeChanged = size is long s && (ulong)s != ip.Core.Size;
        if (sizeChanged)
            ip.Core.Size = (ulong)size!.Value;
        ip.Core.Mtime = now;
        ip.Core.Ctime = now;
        ip.Log(tp, timestampsOnly: !sizeChanged);
        tp.Commit();
    }

    private static void CheckRegular(XfsInode ip)
    {
        ArgumentNullException.ThrowIfNull(ip);
        if (!ip.InUse)
            throw new XfsException(Errno.ENOENT, $"inode {ip.Ino} is not allocated");
        if (ip.IsDirectory)
            throw new XfsException(Errno.EISDIR, $"inode {ip.Ino} is a directory");
        if (!ip.IsRegular)
            throw new XfsException(Errno.EINVAL, $"inode {ip.Ino} is not a regular file");
    }
}
