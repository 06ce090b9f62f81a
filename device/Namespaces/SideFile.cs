using DaxStack.Device.Errors;
using System.Runtime.InteropServices;
using System.Text;
namespace DaxStack.Device.Namespaces;

/// <summary>
/// Reads and atomically replaces the small files kept beside an image (labels, badblocks), and
/// turns file-system failures into <see cref="NamespaceException"/>s naming the file.
/// </summary>
internal static class SideFile
{
    /// <summary>
    /// Replaces <paramref name="path"/> with <paramref name="contents"/> so that a reader (or a crash)
    /// sees either the old file or the new one, never a mix: write a temporary file in the same
    /// directory, flush it to disk, rename it over the old one (rename(2) is atomic), then flush
    /// the directory, so that the rename itself survives a power failure of the host.
    /// </summary>
    public static void WriteAtomically(string path, ReadOnlySpan<byte> contents, string what)
    {
        using var pending = PrepareWrite(path, contents, what);
        pending.Commit();
    }

    /// <summary>
    /// The first half of <see cref="WriteAtomically"/>: the new contents written to a temporary
    /// file beside <paramref name="path"/> and flushed to disk, so that what can fail for lack of
    /// room or rights fails now, before work that has to be recorded there. The replacement is
    /// made by <see cref="Pending.Commit"/>; disposing without it removes the temporary file.
    /// </summary>
    public static Pending PrepareWrite(string path, ReadOnlySpan<byte> contents, string what)
    {
        string full = Path.GetFullPath(path);
        string tmp = TemporaryFor(full);
        try
        {
            using var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            fs.Write(contents);
            fs.Flush(flushToDisk: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(tmp);
            throw Failure(e, $"cannot write {what} '{path}'");
        }
        return new Pending(path, full, tmp, what);
    }

    /// <summary>
    /// A removal of <paramref name="path"/> made by <see cref="Pending.Commit"/>, after checking
    /// now that its directory takes changes (<see cref="CheckReplaceable"/>).
    /// </summary>
    public static Pending PrepareDelete(string path, string what)
    {
        CheckReplaceable(path, what);
        return new Pending(path, Path.GetFullPath(path), null, what);
    }

    /// <summary>A side file's replacement or removal, prepared and not yet made.</summary>
    public sealed class Pending : IDisposable
    {
        private readonly string _path, _full, _what;
        private string? _tmp;
        private readonly bool _delete;

        internal Pending(string path, string full, string? tmp, string what)
        {
            _path = path;
            _full = full;
            _tmp = tmp;
            _what = what;
            _delete = tmp == null;
        }

        /// <summary>Renames the new contents over the file (or removes it) and makes that durable.</summary>
        public void Commit()
        {
            if (_delete)
            {
                Delete(_path, _what);
                return;
            }
            string tmp = _tmp ?? throw new InvalidOperationException("already committed or abandoned");
            try
            {
                File.Move(tmp, _full, overwrite: true);
                _tmp = null;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw Failure(e, $"cannot write {_what} '{_path}'");
            }
            try
            {
                SyncDirectory(Path.GetDirectoryName(_full)!);
            }
            catch (IOException e)
            {
                throw Failure(e, $"cannot make the new {_what} '{_path}' durable");
            }
        }

        /// <summary>Removes the temporary file if the replacement was not made.</summary>
        public void Dispose()
        {
            if (_tmp != null)
            {
                TryDelete(_tmp);
                _tmp = null;
            }
        }
    }

    /// <summary>
    /// fsync(2) of a directory: what makes a rename in it durable (the file's own fsync does not).
    /// A file system that cannot sync directories (EINVAL) has nothing to make durable this way.
    /// </summary>
    private static void SyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux())
            return;
        int fd = Open(directory, ORdOnly | OCloExec);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new IOException($"cannot open directory '{directory}': {Marshal.GetPInvokeErrorMessage(errno)}", errno);
        }
        try
        {
            if (Fsync(fd) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno != EInval)
                    throw new IOException($"fsync of directory '{directory}' failed: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    // O_RDONLY, O_NONBLOCK and O_CLOEXEC have these values on every Linux architecture .NET runs on (O_DIRECTORY does not, and is not needed to open one).
    private const int ORdOnly = 0, ONonBlock = 0x800, OCloExec = 0x80000, EInval = 22, ESpipe = 29, SeekEnd = 2;

    // Whether 'path' is a FIFO (named pipe): opened without waiting for a writer, it cannot seek.
    // Anything else, or a path that cannot be opened, is left to the caller's own open to report.
    private static bool IsFifo(string path)
    {
        if (!OperatingSystem.IsLinux())
            return false;
        int fd = Open(path, ORdOnly | ONonBlock | OCloExec);
        if (fd < 0)
            return false;
        try
        {
            return Lseek(fd, 0, SeekEnd) < 0 && Marshal.GetLastPInvokeError() == ESpipe;
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [DllImport("libc", EntryPoint = "lseek", SetLastError = true)]
    private static extern long Lseek(int fd, long offset, int whence);

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int Fsync(int fd);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);

    /// <summary>
    /// Fails with the reason, changing nothing, if <paramref name="path"/> could not be replaced or
    /// removed now because its directory takes no new file (permissions, a read-only file system):
    /// the check a caller makes before work that cannot be undone and has to be recorded there.
    /// </summary>
    public static void CheckReplaceable(string path, string what)
    {
        string tmp = TemporaryFor(path);
        try
        {
            using var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(tmp);
            throw Failure(e, $"cannot update {what} '{path}'");
        }
    }

    // Longest file name (not path) the file systems we run on accept, bytes (Linux NAME_MAX).
    private const int NameMax = 255;

    // A hidden name beside 'path', unique to this process and call. The copy of the side file's
    // name in it is shortened as needed so the temporary name is valid whenever 'path' is.
    private static string TemporaryFor(string path)
    {
        string full = Path.GetFullPath(path);
        string name = Path.GetFileName(full);
        string suffix = $".{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        int room = NameMax - 1 - Encoding.UTF8.GetByteCount(suffix);
        while (name.Length > 0 && Encoding.UTF8.GetByteCount(name) > room)
            name = name[..^(name.Length > 1 && char.IsLowSurrogate(name[^1]) ? 2 : 1)];
        return Path.Combine(Path.GetDirectoryName(full)!, $".{name}{suffix}");
    }

    /// <summary>
    /// Takes an exclusive advisory lock (a POSIX record lock on the first byte) on the image
    /// <paramref name="imagePath"/> for one check-and-replace of its side files, so that processes
    /// changing them take turns; waits up to <paramref name="timeoutMs"/> for another holder, then
    /// fails with EAGAIN. Disposing the result releases the lock.
    /// </summary>
    public static IDisposable LockImage(string imagePath, int timeoutMs = 5000)
    {
        FileStream fs;
        try
        {
            fs = new FileStream(imagePath, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Failure(e, $"cannot lock image '{imagePath}'");
        }
        if (OperatingSystem.IsMacOS())
            return fs; // .NET has no FileStream.Lock there
        long deadline = Environment.TickCount64 + timeoutMs;
        while (true)
        {
            try
            {
                fs.Lock(0, 1);
                return fs;
            }
            catch (IOException) when (Environment.TickCount64 < deadline)
            {
                Thread.Sleep(10);
            }
            catch (IOException e)
            {
                fs.Dispose();
                throw new NamespaceException(Errno.EAGAIN, $"image '{imagePath}' is locked by another process changing its labels", e);
            }
        }
    }

    /// <summary>
    /// An exclusive advisory lock on the byte at <paramref name="position"/> of the image (a byte
    /// past its end works as well), without waiting: null, with <paramref name="heldElsewhere"/>
    /// set, if another process holds it (or, on Linux, another open of the image in this
    /// process); null and not set if the image cannot be opened for writing (a read-only image
    /// cannot be locked this way). Disposing the result releases it; closing other descriptors of
    /// the image does not, on Linux (an open file description lock).
    /// </summary>
    public static IDisposable? TryLockByte(string imagePath, long position, out bool heldElsewhere)
    {
        heldElsewhere = false;
        if (OperatingSystem.IsMacOS())
            return null;
        FileStream fs;
        try
        {
            fs = new FileStream(imagePath, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        // An open file description lock where there is one: a POSIX lock (FileStream.Lock) would
        // go as soon as this process closed any other descriptor of the image (see OpenFileLock).
        switch (OpenFileLock.TryLock(fs, position))
        {
            case OpenFileLock.Result.Locked:
                return fs;
            case OpenFileLock.Result.HeldElsewhere:
                fs.Dispose();
                heldElsewhere = true;
                return null;
        }
        try
        {
            fs.Lock(position, 1);
            return fs;
        }
        catch (IOException)
        {
            fs.Dispose();
            heldElsewhere = true;
            return null;
        }
    }

    /// <summary>Removes <paramref name="path"/> if it exists.</summary>
    public static void Delete(string path, string what)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Failure(e, $"cannot remove {what} '{path}'");
        }
    }

    /// <summary>
    /// The whole of <paramref name="path"/>, or null if it does not exist (or cannot: a name too
    /// long to create). Larger than <paramref name="maxBytes"/> is corrupt.
    /// </summary>
    public static byte[]? ReadIfExists(string path, long maxBytes, string what)
    {
        // Opening a FIFO for reading waits for a writer: refuse one before opening it.
        if (IsFifo(path))
            throw new NamespaceException(Errno.EINVAL, $"{what} '{path}' is a FIFO, not a regular file");
        try
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (fs.Length > maxBytes)
                throw new NamespaceException(Errno.EIO, $"{what} '{path}' is corrupt: {fs.Length} bytes, more than the {maxBytes} a valid one can hold");
            var bytes = new byte[fs.Length];
            fs.ReadExactly(bytes);
            return bytes;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or PathTooLongException)
        {
            return null;
        }
        catch (UnauthorizedAccessException e) when (Directory.Exists(path))
        {
            // .NET reports opening a directory as a permission problem; it is not one.
            throw new NamespaceException(Errno.EISDIR, $"cannot read {what} '{path}'", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Failure(e, $"cannot read {what} '{path}'");
        }
    }

    /// <summary>
    /// The exception for a failed file-system call: EACCES for permissions, ENOENT for a missing
    /// file or directory, ENAMETOOLONG for a name too long, the call's own errno where .NET keeps
    /// it (an <see cref="IOException"/> whose HResult is the errno, such as ENOSPC or ELOOP),
    /// whose errno texts say all .NET's message would; EIO otherwise, with .NET's message.
    /// </summary>
    public static NamespaceException Failure(Exception e, string detail) =>
        e switch
        {
            UnauthorizedAccessException => new(Errno.EACCES, detail, e),
            FileNotFoundException or DirectoryNotFoundException => new(Errno.ENOENT, detail, e),
            PathTooLongException => new(Errno.ENAMETOOLONG, detail, e),
            IOException when e.HResult > 0 && e.HResult != (int)Errno.EIO && Enum.IsDefined((Errno)e.HResult) => new((Errno)e.HResult, detail, e),
            _ => new(Errno.EIO, $"{detail}: {e.Message.TrimEnd('.')}", e),
        };

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The temporary file is hidden and harmless; the original failure is what matters.
        }
    }
}
