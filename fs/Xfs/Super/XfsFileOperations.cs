using DaxStack.Device.Errors;
using DaxStack.Fs.Vfs;
using DaxStack.Fs.Xfs.Bmap;
using DaxStack.Fs.Xfs.Dir2;
using DaxStack.Fs.Xfs.Files;
using DaxStack.Fs.Xfs.OnDisk;
using DaxStack.Fs.Xfs.Reflink;
using DaxStack.Fs.Xfs.Trans;

namespace DaxStack.Fs.Xfs.Super;

/// <summary>
/// Operations on open files of the XFS-like filesystem: DAX read and write, SEEK_DATA/HOLE from
/// the block map (unwritten extents are holes, as there is no page cache to hold data for
/// them), readdir with XFS's stable directory cookies, fsync as a log force up to the inode's
/// last change, every fallocate mode and reflink.
/// </summary>
/// <remarks>Models the kernel's fs/xfs/xfs_file.c (<c>xfs_file_read_iter</c>, <c>xfs_file_write_iter</c>, <c>xfs_file_llseek</c> with <c>iomap_seek_data</c>/<c>iomap_seek_hole</c>, <c>xfs_file_readdir</c>, <c>xfs_file_fsync</c>, <c>xfs_file_fallocate</c>, <c>xfs_file_remap_range</c>).</remarks>
public sealed class XfsFileOperations : IFileOperations
{
    private readonly XfsSuper _super;

    internal XfsFileOperations(XfsSuper super)
    {
        _super = super;
    }

    private XfsMount Mp => _super.Mount;

    private static XfsVfsInode X(OpenFile file) => (XfsVfsInode)file.Inode;

    public bool CanRemapFileRange => Mp.HasReflink;

    public void Open(Vfs.Inode inode, OpenFile file)
    {
    }

    public void Release(Vfs.Inode inode, OpenFile file)
    {
    }

    public int Read(OpenFile file, Span<byte> buffer, long pos)
    {
        var i = X(file);
        lock (Mp.Lock)
            return (int)XfsFileIo.Read(i.Xfs, pos, buffer);
    }

    public int Write(OpenFile file, ReadOnlySpan<byte> buffer, long pos)
    {
        var i = X(file);
        lock (Mp.Lock)
        {
            try
            {
                return (int)XfsFileIo.Write(i.Xfs, pos, buffer);
            }
            finally
            {
                i.Refresh();
            }
        }
    }

    public long Llseek(OpenFile file, long offset, SeekWhence whence)
    {
        var i = X(file);
        lock (Mp.Lock)
        {
            long size = (long)i.Xfs.Core.Size;
            if (whence is not (SeekWhence.SEEK_DATA or SeekWhence.SEEK_HOLE) || !i.IsRegular)
                return GenericFile.Llseek(file, offset, whence, _super.Sb.MaxBytes, size);
            if (offset < 0 || offset >= size)
                throw new XfsException(Errno.ENXIO, $"lseek: {whence} at {offset} is at or beyond end of file {size}");
            int shift = Mp.Geometry.BlockLog;
            long pos = offset;
            while (pos < size)
            {
                var map = XfsBmap.Lookup(i.Xfs, (ulong)pos >> shift);
                long mapEnd = map.BlockCount > (ulong)(long.MaxValue >> shift) ? long.MaxValue : (long)(map.StartOff + map.BlockCount) << shift;
                bool data = map.State == XfsBmapState.Written;
                if (data == (whence == SeekWhence.SEEK_DATA))
                    return GenericFile.SetPos(file, Math.Min(pos, size), _super.Sb.MaxBytes);
                pos = mapEnd;
            }
            if (whence == SeekWhence.SEEK_DATA)
                throw new XfsException(Errno.ENXIO, $"lseek: no data at or after {offset}");
            return GenericFile.SetPos(file, size, _super.Sb.MaxBytes);
        }
    }

    public void Iterate(OpenFile file, DirContext context)
    {
        var i = X(file);
        lock (Mp.Lock)
        {
            IReadOnlyList<XfsDirEntry> entries;
            using (var tp = XfsTransaction.Begin(Mp))
                entries = XfsDirectory.Iterate(tp, i.Directory, (uint)Math.Min(context.Pos, uint.MaxValue));
            foreach (var e in entries)
            {
                if (!context.Emit(e.NameText, (long)e.Ino, DirentType(e.FileType)))
                    return;
                context.Pos = (long)e.Cookie + 1;
            }
        }
    }

    private static DirentType DirentType(XfsDirFileType type) => type switch
    {
        XfsDirFileType.RegularFile => Vfs.DirentType.DT_REG,
        XfsDirFileType.Directory => Vfs.DirentType.DT_DIR,
        XfsDirFileType.CharDevice => Vfs.DirentType.DT_CHR,
        XfsDirFileType.BlockDevice => Vfs.DirentType.DT_BLK,
        XfsDirFileType.Fifo => Vfs.DirentType.DT_FIFO,
        XfsDirFileType.Socket => Vfs.DirentType.DT_SOCK,
        XfsDirFileType.Symlink => Vfs.DirentType.DT_LNK,
        _ => Vfs.DirentType.DT_UNKNOWN,
    };

    public void Fsync(OpenFile file, long start, long end, bool dataSync)
    {
        // xfs_file_fsync: DAX data is already in place; the log must hold the inode's last
        // change, or for fdatasync its last change other than timestamps.
        var i = X(file);
        Mp.ForceLog(dataSync ? i.Xfs.DataSyncSequence : i.Xfs.CommitSequence);
    }

    public void Fallocate(OpenFile file, FallocateFlags mode, long offset, long length)
    {
        var i = X(file);
        var ip = i.Xfs;
        bool keep = (mode & FallocateFlags.FALLOC_FL_KEEP_SIZE) != 0;
        lock (Mp.Lock)
        {
            try
            {
                switch (mode & ~FallocateFlags.FALLOC_FL_KEEP_SIZE)
                {
                    case FallocateFlags.None:
                        XfsFileSpace.Preallocate(ip, offset, length, keep);
                        break;
                    case FallocateFlags.FALLOC_FL_PUNCH_HOLE:
                        XfsFileSpace.PunchHole(ip, offset, length);
                        break;
                    case FallocateFlags.FALLOC_FL_ZERO_RANGE:
                        XfsFileSpace.ZeroRange(ip, offset, length, keep);
                        break;
                    case FallocateFlags.FALLOC_FL_COLLAPSE_RANGE:
                        XfsFileSpace.CollapseRange(ip, offset, length);
                        break;
                    case FallocateFlags.FALLOC_FL_INSERT_RANGE:
                        XfsFileSpace.InsertRange(ip, offset, length);
                        break;
                    case FallocateFlags.FALLOC_FL_UNSHARE_RANGE:
                        XfsFileSpace.UnshareRange(ip, offset, length);
                        break;
                    default:
                        throw new XfsException(Errno.EOPNOTSUPP, $"fallocate mode 0x{(int)mode:x} is not supported");
                }
            }
            finally
            {
                i.Refresh();
            }
        }
    }

    public long RemapFileRange(OpenFile source, long sourcePos, OpenFile destination, long destinationPos, long length)
    {
        var src = X(source);
        var dst = X(destination);
        lock (Mp.Lock)
        {
            long count = GenericFile.RemapFileRangePrep(source, sourcePos, destination, destinationPos, length);
            if (count == 0)
                return 0;
            try
            {
                return XfsReflink.RemapRange(src.Xfs, sourcePos, dst.Xfs, destinationPos, count);
            }
            finally
            {
                dst.Refresh();
                src.Refresh();
            }
        }
    }
}
