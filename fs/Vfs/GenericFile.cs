using DaxStack.Device.Errors;

namespace DaxStack.Fs.Vfs;

/// <summary>
/// Generic helpers filesystems call from their file operations, as Linux filesystems call the
/// library functions of <c>fs/read_write.c</c> and <c>fs/remap_range.c</c>.
/// </summary>
/// <remarks>Models <c>generic_file_llseek_size</c>, <c>vfs_setpos</c> and <c>generic_remap_file_range_prep</c> / <c>generic_remap_checks</c>.</remarks>
public static class GenericFile
{
    /// <summary>
    /// SEEK_SET, SEEK_CUR and SEEK_END against <paramref name="eof"/> and <paramref name="maxSize"/>;
    /// SEEK_DATA treats the whole file as data and SEEK_HOLE finds only the hole at end of file.
    /// Sets and returns the new position.
    /// </summary>
    public static long Llseek(OpenFile file, long offset, SeekWhence whence, long maxSize, long eof)
    {
        // generic_file_llseek_size
        switch (whence)
        {
            case SeekWhence.SEEK_END:
                offset += eof;
                break;
            case SeekWhence.SEEK_CUR:
                if (offset == 0)
                {
                    return file.Pos;
                }

                offset += file.Pos;
                break;
            case SeekWhence.SEEK_DATA:
                if ((ulong)offset >= (ulong)eof)
                {
                    throw new ErrnoException(Errno.ENXIO, $"lseek: SEEK_DATA at {offset} is at or beyond end of file {eof}");
                }

                break;
            case SeekWhence.SEEK_HOLE:
                if ((ulong)offset >= (ulong)eof)
                {
                    throw new ErrnoException(Errno.ENXIO, $"lseek: SEEK_HOLE at {offset} is at or beyond end of file {eof}");
                }

                offset = eof;
                break;
            case SeekWhence.SEEK_SET:
                break;
            default:
                throw new ErrnoException(Errno.EINVAL, $"lseek: whence {(int)whence} is not valid");
        }

        return SetPos(file, offset, maxSize);
    }

    /// <summary>Sets the position if it lies in [0, <paramref name="maxSize"/>] (<c>vfs_setpos</c>).</summary>
    public static long SetPos(OpenFile file, long offset, long maxSize)
    {
        if (offset < 0 || offset > maxSize)
        {
            throw new ErrnoException(Errno.EINVAL, $"lseek: position {offset} is outside 0..{maxSize}");
        }

        file.Pos = offset;
        return offset;
    }

    /// <summary>
    /// The generic checks before a clone: flags and types of both inodes, a 0 length extended to
    /// the source's end of file, block alignment, the source range within the source file, the
    /// destination within the maximum file size, and no overlap within one file. Returns the
    /// length to remap (0 means nothing to do). Call with both inode locks held.
    /// </summary>
    public static long RemapFileRangePrep(OpenFile source, long sourcePos, OpenFile destination, long destinationPos, long length)
    {
        Inode inodeIn = source.Inode;
        Inode inodeOut = destination.Inode;

        // generic_remap_file_range_prep
        if (inodeOut.IsImmutable)
        {
            throw new ErrnoException(Errno.EPERM, $"clone: destination inode {inodeOut.Ino} is immutable");
        }

        if (inodeIn.IsDirectory || inodeOut.IsDirectory)
        {
            throw new ErrnoException(Errno.EISDIR, "clone: a directory cannot be cloned");
        }

        if (!inodeIn.IsRegular || !inodeOut.IsRegular)
        {
            throw new ErrnoException(Errno.EINVAL, "clone: only regular files can be cloned");
        }

        long sizeIn = inodeIn.Size;
        if (length == 0)
        {
            // Reflink of length 0 means "to the source's end of file".
            if (sourcePos == sizeIn)
            {
                return 0;
            }

            if (sourcePos > sizeIn)
            {
                throw new ErrnoException(Errno.EINVAL, $"clone: source offset {sourcePos} is beyond end of file {sizeIn}");
            }

            length = sizeIn - sourcePos;
        }

        // generic_remap_checks
        long bs = inodeOut.Sb.BlockSize;
        if (sourcePos % bs != 0 || destinationPos % bs != 0)
        {
            throw new ErrnoException(Errno.EINVAL, $"clone: offsets {sourcePos} and {destinationPos} must be multiples of the block size {bs}");
        }

        if (sourcePos > long.MaxValue - length || destinationPos > long.MaxValue - length)
        {
            throw new ErrnoException(Errno.EINVAL, "clone: range wraps");
        }

        if (sourcePos >= sizeIn)
        {
            throw new ErrnoException(Errno.EINVAL, $"clone: source offset {sourcePos} is at or beyond end of file {sizeIn}");
        }

        long count = Math.Min(length, sizeIn - sourcePos);
        long maxBytes = inodeOut.Sb.MaxBytes;
        if (destinationPos >= maxBytes)
        {
            throw new ErrnoException(Errno.EFBIG, $"clone: destination offset {destinationPos} is beyond the maximum file size");
        }

        count = Math.Min(count, maxBytes - destinationPos);

        long bcount;
        if (sourcePos + count == sizeIn)
        {
            // Cloning to the source's end of file may end mid-block: check the whole block.
            bcount = ((sizeIn + bs - 1) / bs * bs) - sourcePos;
        }
        else
        {
            count -= count % bs;
            bcount = count;
        }

        if (inodeIn == inodeOut && destinationPos + bcount > sourcePos && destinationPos < sourcePos + bcount)
        {
            throw new ErrnoException(Errno.EINVAL, "clone: source and destination ranges overlap in the same file");
        }

        if (count != length)
        {
            // The request was shortened and FICLONERANGE cannot report a short clone.
            throw new ErrnoException(Errno.EINVAL, $"clone: length {length} is not block aligned or runs past end of file");
        }

        return count;
    }
}
