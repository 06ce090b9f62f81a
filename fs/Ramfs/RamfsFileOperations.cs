using DaxStack.Device.Errors;
using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Ramfs;

/// <summary>
/// ramfs's regular-file operations: sparse 4 KiB pages (holes read as zeroes), SEEK_DATA/SEEK_HOLE
/// over the pages, fallocate modes 0, KEEP_SIZE, PUNCH_HOLE and ZERO_RANGE (the others fail with
/// EOPNOTSUPP, as on tmpfs), clone only with <see cref="RamfsOptions.CloneByCopy"/>.
/// </summary>
/// <remarks>Models <c>shmem_file_operations</c> (<c>shmem_file_read_iter</c>, <c>shmem_file_write_iter</c>, <c>shmem_file_llseek</c>, <c>shmem_fallocate</c>, <c>noop_fsync</c>).</remarks>
internal sealed class RamfsFileOperations : IFileOperations
{
    private readonly RamfsSuper _super;

    public RamfsFileOperations(RamfsSuper super)
    {
        _super = super;
    }

    public bool CanRemapFileRange => _super.Options.CloneByCopy;

    public void Open(Inode inode, OpenFile file)
    {
    }

    public void Release(Inode inode, OpenFile file)
    {
    }

    public int Read(OpenFile file, Span<byte> buffer, long pos)
    {
        var inode = (RamfsInode)file.Inode;
        long size = inode.Size;
        if (pos >= size)
        {
            return 0;
        }

        int count = (int)Math.Min(buffer.Length, size - pos);
        int done = 0;
        while (done < count)
        {
            long p = pos + done;
            int offset = (int)(p % RamfsPage.Size);
            int n = Math.Min(RamfsPage.Size - offset, count - done);
            var dest = buffer.Slice(done, n);
            if (inode.Pages.TryGetValue(p / RamfsPage.Size, out var page) && !page.Unwritten)
            {
                page.Data.AsSpan(offset, n).CopyTo(dest);
            }
            else
            {
                dest.Clear();
            }

            done += n;
        }

        return count;
    }

    public int Write(OpenFile file, ReadOnlySpan<byte> buffer, long pos)
    {
        var inode = (RamfsInode)file.Inode;
        int done = 0;
        while (done < buffer.Length)
        {
            long p = pos + done;
            int offset = (int)(p % RamfsPage.Size);
            int n = Math.Min(RamfsPage.Size - offset, buffer.Length - done);
            var page = GetPage(inode, p / RamfsPage.Size);
            if (page == null)
            {
                // Out of space: a short write if anything was written, else ENOSPC.
                if (done == 0)
                {
                    throw new ErrnoException(Errno.ENOSPC, $"ramfs: no space for inode {inode.Ino} at {p}");
                }

                break;
            }

            if (page.Unwritten)
            {
                page.Data.AsSpan().Clear();
                page.Unwritten = false;
            }

            buffer.Slice(done, n).CopyTo(page.Data.AsSpan(offset));
            done += n;
        }

        if (pos + done > inode.Size)
        {
            inode.Size = pos + done;
        }

        inode.UpdateBlocks();
        var now = Timespec.Now();
        inode.Mtime = now;
        inode.Ctime = now;
        return done;
    }

    /// <summary>The page at <paramref name="index"/>, allocated if missing; null when the budget is spent.</summary>
    private RamfsPage? GetPage(RamfsInode inode, long index)
    {
        if (inode.Pages.TryGetValue(index, out var page))
        {
            return page;
        }

        if (!_super.TryReservePages(1))
        {
            return null;
        }

        page = new RamfsPage();
        inode.Pages.Add(index, page);
        return page;
    }

    public long Llseek(OpenFile file, long offset, SeekWhence whence)
    {
        var inode = (RamfsInode)file.Inode;
        if (whence is not (SeekWhence.SEEK_DATA or SeekWhence.SEEK_HOLE))
        {
            return GenericFile.Llseek(file, offset, whence, inode.Sb.MaxBytes, inode.Size);
        }

        inode.Rwsem.EnterReadLock();
        try
        {
            // shmem_file_llseek / mapping_seek_hole_data: written pages are data; missing and
            // preallocated (not yet written, like a folio that is not uptodate) pages and the end
            // of file are holes.
            long eof = inode.Size;
            if (offset < 0 || offset >= eof)
            {
                throw new ErrnoException(Errno.ENXIO, $"lseek: offset {offset} is not before end of file {eof}");
            }

            long index = offset / RamfsPage.Size;
            long found;
            if (whence == SeekWhence.SEEK_DATA)
            {
                found = -1;
                foreach (var (k, page) in inode.Pages)
                {
                    if (k >= index && !page.Unwritten)
                    {
                        found = Math.Max(offset, k * RamfsPage.Size);
                        break;
                    }
                }

                if (found < 0 || found >= eof)
                {
                    throw new ErrnoException(Errno.ENXIO, $"lseek: no data at or after {offset}");
                }
            }
            else
            {
                while (inode.Pages.TryGetValue(index, out var page) && !page.Unwritten)
                {
                    index++;
                }

                found = Math.Min(eof, Math.Max(offset, index * RamfsPage.Size));
            }

            return GenericFile.SetPos(file, found, inode.Sb.MaxBytes);
        }
        finally
        {
            inode.Rwsem.ExitReadLock();
        }
    }

    public void Iterate(OpenFile file, DirContext context) =>
        throw new ErrnoException(Errno.ENOTDIR, $"ramfs: inode {file.Inode.Ino} is not a directory");

    public void Fsync(OpenFile file, long start, long end, bool dataSync) => _super.CountFsync();

    public void Fallocate(OpenFile file, FallocateFlags mode, long offset, long length)
    {
        var inode = (RamfsInode)file.Inode;
        var op = mode & FallocateFlags.ModeMask;
        bool keepSize = (mode & FallocateFlags.FALLOC_FL_KEEP_SIZE) != 0;
        long end = offset + length;
        switch (op)
        {
            case FallocateFlags.FALLOC_FL_PUNCH_HOLE:
                PunchHole(inode, offset, end);
                break;
            case FallocateFlags.FALLOC_FL_ZERO_RANGE:
                Allocate(inode, offset, end);
                ZeroRange(inode, offset, end);
                break;
            case FallocateFlags.None:
                Allocate(inode, offset, end);
                break;
            default:
                throw new ErrnoException(Errno.EOPNOTSUPP, $"ramfs: fallocate mode 0x{(int)mode:x} is not supported");
        }

        if (op != FallocateFlags.FALLOC_FL_PUNCH_HOLE && !keepSize && end > inode.Size)
        {
            inode.Size = end;
        }

        inode.UpdateBlocks();
        var now = Timespec.Now();
        inode.Ctime = now;
        if (op != FallocateFlags.None)
        {
            inode.Mtime = now;
        }
    }

    /// <summary>Allocates every missing page of [start, end) as unwritten, all or none (ENOSPC).</summary>
    private void Allocate(RamfsInode inode, long start, long end)
    {
        long first = start / RamfsPage.Size;
        long last = (end - 1) / RamfsPage.Size;
        long missing = 0;
        for (long i = first; i <= last; i++)
        {
            if (!inode.Pages.ContainsKey(i))
            {
                missing++;
            }
        }

        if (missing > 0 && !_super.TryReservePages(missing))
        {
            throw new ErrnoException(Errno.ENOSPC, $"ramfs: no space for {missing} pages of inode {inode.Ino}");
        }

        for (long i = first; i <= last; i++)
        {
            if (!inode.Pages.ContainsKey(i))
            {
                inode.Pages.Add(i, new RamfsPage { Unwritten = true });
            }
        }
    }

    /// <summary>Zeroes [start, end): whole pages become unwritten, partial ones are cleared in place.</summary>
    private static void ZeroRange(RamfsInode inode, long start, long end)
    {
        for (long i = start / RamfsPage.Size; i <= (end - 1) / RamfsPage.Size; i++)
        {
            var page = inode.Pages[i];
            long pageStart = i * RamfsPage.Size;
            int from = (int)Math.Max(0, start - pageStart);
            int to = (int)Math.Min(RamfsPage.Size, end - pageStart);
            if (from == 0 && to == RamfsPage.Size)
            {
                page.Unwritten = true;
            }
            else if (!page.Unwritten)
            {
                page.Data.AsSpan(from, to - from).Clear();
            }
        }
    }

    /// <summary>Frees whole pages in [start, end) and zeroes the partial ones at its edges.</summary>
    private void PunchHole(RamfsInode inode, long start, long end)
    {
        var keys = inode.Pages.Keys.Where(k => k >= start / RamfsPage.Size && k <= (end - 1) / RamfsPage.Size).ToList();
        long freed = 0;
        foreach (long i in keys)
        {
            long pageStart = i * RamfsPage.Size;
            int from = (int)Math.Max(0, start - pageStart);
            int to = (int)Math.Min(RamfsPage.Size, end - pageStart);
            if (from == 0 && to == RamfsPage.Size)
            {
                inode.Pages.Remove(i);
                freed++;
            }
            else if (!inode.Pages[i].Unwritten)
            {
                inode.Pages[i].Data.AsSpan(from, to - from).Clear();
            }
        }

        _super.ReleasePages(freed);
    }

    public long RemapFileRange(OpenFile source, long sourcePos, OpenFile destination, long destinationPos, long length)
    {
        if (!CanRemapFileRange)
        {
            throw new ErrnoException(Errno.EOPNOTSUPP, "ramfs: clone is not supported");
        }

        var inodeIn = (RamfsInode)source.Inode;
        var inodeOut = (RamfsInode)destination.Inode;
        LockPair(inodeIn, inodeOut);
        try
        {
            long count = GenericFile.RemapFileRangePrep(source, sourcePos, destination, destinationPos, length);
            if (count == 0)
            {
                return 0;
            }

            // A clone that copies: read the source range and write it at the destination.
            var buffer = new byte[Math.Min(count, 1L << 20)];
            long done = 0;
            while (done < count)
            {
                int n = (int)Math.Min(buffer.Length, count - done);
                int got = Read(source, buffer.AsSpan(0, n), sourcePos + done);
                buffer.AsSpan(got, n - got).Clear();
                int put = Write(destination, buffer.AsSpan(0, n), destinationPos + done);
                done += put;
                if (put < n)
                {
                    break;
                }
            }

            return done;
        }
        finally
        {
            UnlockPair(inodeIn, inodeOut);
        }
    }

    // lock_two_nondirectories: by inode number, so two clones in opposite directions cannot deadlock.
    private static void LockPair(Inode a, Inode b)
    {
        var (first, second) = a.Ino <= b.Ino ? (a, b) : (b, a);
        first.Rwsem.EnterWriteLock();
        if (second != first)
        {
            second.Rwsem.EnterWriteLock();
        }
    }

    private static void UnlockPair(Inode a, Inode b)
    {
        if (a != b)
        {
            b.Rwsem.ExitWriteLock();
        }

        a.Rwsem.ExitWriteLock();
    }
}
