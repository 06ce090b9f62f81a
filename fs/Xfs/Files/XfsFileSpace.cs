using DaxStack.Device.Errors;
using DaxStack.Fs.Dax;
using DaxStack.Fs.Xfs.Bmap;
using DaxStack.Fs.Xfs.Inode;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Reflink;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Xfs.Files;

/// <summary>
/// The space-manipulating half of fallocate on a regular file: preallocation (unwritten blocks
/// that read as zeroes), punching holes, zeroing ranges, and collapsing or inserting whole
/// blocks (moving every later mapping down or up). Each updates the modification times, and
/// the file size where the mode says so. The argument checks the VFS makes for every filesystem
/// (negative offsets, lengths, modes) are the caller's; the ones XFS makes itself (block
/// alignment and end-of-file rules for collapse and insert) are here, with XFS's errno.
/// </summary>
/// <remarks>Models the kernel's <c>xfs_file_fallocate</c> with <c>xfs_alloc_file_space</c>, <c>xfs_free_file_space</c>, <c>xfs_falloc_zero_range</c>, <c>xfs_falloc_collapse_range</c> / <c>xfs_collapse_file_space</c> and <c>xfs_falloc_insert_range</c> / <c>xfs_insert_file_space</c>.</remarks>
public static class XfsFileSpace
{
    /// <summary>
    /// Mode 0 / FALLOC_FL_KEEP_SIZE: backs [<paramref name="offset"/>, +<paramref name="length"/>)
    /// with unwritten blocks where it has none, and (unless <paramref name="keepSize"/>) grows
    /// the size to the end of the range. ENOSPC when the space runs out (blocks allocated so far
    /// stay, as XFS leaves them).
    /// </summary>
    public static void Preallocate(XfsInode ip, long offset, long length, bool keepSize)
    {
        Check(ip, offset, length);
        AllocateUnwritten(ip, offset, length);
        XfsFileIo.Modified(ip, keepSize ? null : Math.Max((long)ip.Core.Size, offset + length));
    }

    /// <summary>FALLOC_FL_PUNCH_HOLE: frees the whole blocks inside the range and zeroes the partial blocks at its edges (within the size); the size never changes.</summary>
    public static void PunchHole(XfsInode ip, long offset, long length)
    {
        Check(ip, offset, length);
        FreeFileSpace(ip, offset, length);
        XfsFileIo.Modified(ip, null);
    }

    /// <summary>FALLOC_FL_ZERO_RANGE: the range reads as zeroes afterwards and stays allocated (as unwritten blocks); unless <paramref name="keepSize"/> the size grows to its end.</summary>
    public static void ZeroRange(XfsInode ip, long offset, long length, bool keepSize)
    {
        Check(ip, offset, length);
        FreeFileSpace(ip, offset, length);
        int bs = ip.Mount.Geometry.BlockSize;
        long start = offset / bs * bs;
        long end = (offset + length + bs - 1) / bs * bs;
        AllocateUnwritten(ip, start, end - start);
        XfsFileIo.Modified(ip, keepSize ? null : Math.Max((long)ip.Core.Size, offset + length));
    }

    /// <summary>
    /// FALLOC_FL_COLLAPSE_RANGE: removes the range from the file, moving everything after it
    /// down, and shrinks the size by <paramref name="length"/>. EINVAL unless both numbers are
    /// multiples of the block size and the range ends before end of file.
    /// </summary>
    public static void CollapseRange(XfsInode ip, long offset, long length)
    {
        Check(ip, offset, length);
        CheckAligned(ip, offset, length, "collapse range");
        long size = (long)ip.Core.Size;
        if (offset + length >= size)
            throw new XfsException(Errno.EINVAL, $"inode {ip.Ino}: collapse range {offset}+{length} reaches end of file ({size}); that is a truncate");
        int shift = ip.Mount.Geometry.BlockLog;
        XfsBmap.UnmapRange(ip, (ulong)offset >> shift, (ulong)length >> shift);
        var mp = ip.Mount;
        using (var tp = XfsTransaction.Begin(mp, XfsBmap.UnmapReservation(mp)))
        {
            XfsBmap.ShiftLeft(tp, ip, (ulong)(offset + length) >> shift, (ulong)length >> shift);
            tp.Commit();
        }
        XfsFileIo.Modified(ip, size - length);
    }

    /// <summary>
    /// FALLOC_FL_INSERT_RANGE: opens a hole of <paramref name="length"/> bytes at
    /// <paramref name="offset"/>, moving everything from there up, and grows the size by as
    /// much. EINVAL unless both numbers are block multiples and the offset is inside the file;
    /// EFBIG when the file would pass the largest size.
    /// </summary>
    public static void InsertRange(XfsInode ip, long offset, long length)
    {
        Check(ip, offset, length);
        CheckAligned(ip, offset, length, "insert range");
        long size = (long)ip.Core.Size;
        if (offset >= size)
            throw new XfsException(Errno.EINVAL, $"inode {ip.Ino}: insert range at {offset} is not inside the file ({size} bytes)");
        if (XfsFileIo.MaxBytes - size < length)
            throw new XfsException(Errno.EFBIG, $"inode {ip.Ino}: inserting {length} bytes would pass the largest file size");
        // The size grows first (as xfs_falloc_insert_range does), so a crash part-way leaves
        // a file whose size covers every mapping.
        XfsFileIo.Modified(ip, size + length);
        var mp = ip.Mount;
        int shift = mp.Geometry.BlockLog;
        using var tp = XfsTransaction.Begin(mp, XfsBmap.UnmapReservation(mp));
        XfsBmap.ShiftRight(tp, ip, (ulong)offset >> shift, (ulong)length >> shift);
        tp.Commit();
    }

    /// <summary>
    /// FALLOC_FL_UNSHARE_RANGE: every shared block of the range gets a private copy (nothing to
    /// do in a file that never shared blocks); the size never changes.
    /// </summary>
    public static void UnshareRange(XfsInode ip, long offset, long length)
    {
        Check(ip, offset, length);
        if (!XfsReflink.IsReflinked(ip))
            return;
        var mp = ip.Mount;
        var dax = XfsFileIo.DaxOf(mp);
        int shift = mp.Geometry.BlockLog;
        ulong pos = (ulong)offset >> shift;
        ulong end = (ulong)(offset + length + mp.Geometry.BlockSize - 1) >> shift;
        while (pos < end)
        {
            var map = XfsBmap.Lookup(ip, pos);
            ulong n = Math.Min(map.BlockCount, end - pos);
            if (map.State != XfsBmapState.Written)
            {
                pos += n;
                continue;
            }
            uint run;
            bool shared;
            using (var tp = XfsTransaction.Begin(mp))
                run = XfsReflink.SharedRun(tp, map.StartBlock, (uint)Math.Min(n, uint.MaxValue), out shared);
            pos += shared ? XfsReflink.CopyOnWrite(ip, dax, pos, run) : run;
        }
        XfsFileIo.Modified(ip, null);
    }

    private static void Check(XfsInode ip, long offset, long length)
    {
        ArgumentNullException.ThrowIfNull(ip);
        if (offset < 0 || length <= 0)
            throw new XfsException(Errno.EINVAL, $"inode {ip.Ino}: bad range {offset}+{length}");
        if (!ip.IsRegular)
            throw new XfsException(ip.IsDirectory ? Errno.EISDIR : Errno.ENODEV, $"inode {ip.Ino} is not a regular file");
        if (offset > XfsFileIo.MaxBytes - length)
            throw new XfsException(Errno.EFBIG, $"inode {ip.Ino}: range {offset}+{length} passes the largest file size");
    }

    private static void CheckAligned(XfsInode ip, long offset, long length, string what)
    {
        int bs = ip.Mount.Geometry.BlockSize;
        if (offset % bs != 0 || length % bs != 0)
            throw new XfsException(Errno.EINVAL, $"inode {ip.Ino}: {what} {offset}+{length} is not in whole {bs}-byte blocks");
    }

    // xfs_alloc_file_space: unwritten blocks over the holes of the block-rounded range.
    private static void AllocateUnwritten(XfsInode ip, long offset, long length)
    {
        var mp = ip.Mount;
        int shift = mp.Geometry.BlockLog;
        ulong first = (ulong)offset >> shift;
        ulong end = (ulong)(offset + length + mp.Geometry.BlockSize - 1) >> shift;
        ulong pos = first;
        while (pos < end)
        {
            var map = XfsBmap.Lookup(ip, pos);
            if (!map.IsHole)
            {
                pos += Math.Min(map.BlockCount, end - pos);
                continue;
            }
            ulong want = Math.Min(Math.Min(map.BlockCount, end - pos), 1UL << 16);
            ulong overhead = XfsBmap.WriteReservation(mp, 0);
            if (mp.FreeBlocksAvailable <= overhead)
                throw new XfsException(Errno.ENOSPC, $"inode {ip.Ino}: no space to preallocate file block {pos}");
            want = Math.Min(want, mp.FreeBlocksAvailable - overhead);
            using var tp = XfsTransaction.Begin(mp, XfsBmap.WriteReservation(mp, (uint)want));
            pos += XfsBmap.Allocate(tp, ip, pos, want, unwritten: true);
            tp.Commit();
        }
    }

    // xfs_free_file_space: whole blocks unmapped, partial blocks (inside the size) zeroed.
    private static void FreeFileSpace(XfsInode ip, long offset, long length)
    {
        var mp = ip.Mount;
        int bs = mp.Geometry.BlockSize;
        long firstWhole = (offset + bs - 1) / bs;
        long endWhole = (offset + length) / bs;
        if (endWhole > firstWhole)
            XfsBmap.UnmapRange(ip, (ulong)firstWhole, (ulong)(endWhole - firstWhole));
        long size = (long)ip.Core.Size;
        if (offset >= size)
            return;
        long zeroLength = Math.Min(offset + length, size) - offset;
        var dax = XfsFileIo.DaxOf(mp);
        var error = DaxIomap.Zero(dax, new XfsIomapOps(ip, dax), offset, zeroLength);
        if (error != DaxIomap.Ok)
            throw new XfsException(error, $"inode {ip.Ino}: zeroing {offset}+{zeroLength}: {ErrnoText.StrError(error)}");
    }
}
