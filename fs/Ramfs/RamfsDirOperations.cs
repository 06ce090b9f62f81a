using DaxStack.Device.Errors;
using DaxStack.Fs.Vfs;

namespace DaxStack.Fs.Ramfs;

/// <summary>
/// ramfs's directory file operations: readdir returns ".", "..", then the names in creation
/// order by stable cookies, so entries added or removed during a scan do not disturb the others;
/// lseek accepts SEEK_SET and SEEK_CUR only.
/// </summary>
/// <remarks>Models <c>simple_offset_dir_operations</c> (<c>offset_readdir</c>) and <c>dcache_dir_lseek</c>.</remarks>
internal sealed class RamfsDirOperations : IFileOperations
{
    public bool CanRemapFileRange => false;

    public void Open(Inode inode, OpenFile file)
    {
    }

    public void Release(Inode inode, OpenFile file)
    {
    }

    public int Read(OpenFile file, Span<byte> buffer, long pos) =>
        throw new ErrnoException(Errno.EISDIR, $"ramfs: inode {file.Inode.Ino} is a directory");

    public int Write(OpenFile file, ReadOnlySpan<byte> buffer, long pos) =>
        throw new ErrnoException(Errno.EISDIR, $"ramfs: inode {file.Inode.Ino} is a directory");

    public long Llseek(OpenFile file, long offset, SeekWhence whence)
    {
        switch (whence)
        {
            case SeekWhence.SEEK_CUR:
                offset += file.Pos;
                break;
            case SeekWhence.SEEK_SET:
                break;
            default:
                throw new ErrnoException(Errno.EINVAL, $"lseek: whence {(int)whence} on a directory");
        }

        if (offset < 0)
        {
            throw new ErrnoException(Errno.EINVAL, $"lseek: negative directory position {offset}");
        }

        file.Pos = offset;
        return offset;
    }

    public void Iterate(OpenFile file, DirContext context)
    {
        var dir = (RamfsInode)file.Inode;
        if (context.Pos == 0)
        {
            if (!context.Emit(".", dir.Ino, DirentType.DT_DIR))
            {
                return;
            }

            context.Pos = 1;
        }

        if (context.Pos == 1)
        {
            if (!context.Emit("..", dir.Parent!.Ino, DirentType.DT_DIR))
            {
                return;
            }

            context.Pos = 2;
        }

        foreach (var (cookie, entry) in dir.ByCookie)
        {
            if (cookie < context.Pos)
            {
                continue;
            }

            if (!context.Emit(entry.Name, entry.Inode.Ino, DirEntry.TypeOf(entry.Inode.Mode)))
            {
                return;
            }

            context.Pos = cookie + 1;
        }
    }

    public void Fsync(OpenFile file, long start, long end, bool dataSync) => ((RamfsInode)file.Inode).Super.CountFsync();

    public void Fallocate(OpenFile file, FallocateFlags mode, long offset, long length) =>
        throw new ErrnoException(Errno.EISDIR, $"ramfs: inode {file.Inode.Ino} is a directory");

    public long RemapFileRange(OpenFile source, long sourcePos, OpenFile destination, long destinationPos, long length) =>
        throw new ErrnoException(Errno.EISDIR, "ramfs: a directory cannot be cloned");
}
