using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace DaxStack.Device.Media;

/// <summary>
/// Media backed by an image file, memory-mapped so that a namespace survives process restarts
/// and a multi-GiB image is not read at start. The file's length is the media size.
/// </summary>
public sealed unsafe class FileMedia : IMedia
{
    private const int ProtRead = 1, ProtWrite = 2, MapPrivate = 2, MapNoReserve = 0x4000; // Linux mman.h
    private static readonly nint MapFailed = -1;

    private readonly MemoryMappedFile? _file;
    private readonly MemoryMappedViewAccessor? _view;
    private byte* _pointer;
    private readonly bool _readOnly;

    private FileMedia(MemoryMappedFile? file, MemoryMappedViewAccessor? view, byte* pointer, long length, string path, bool readOnly)
    {
        _readOnly = readOnly;
        _file = file;
        _view = view;
        Length = length;
        Path = path;
        if (view != null)
        {
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            pointer = p + view.PointerOffset;
        }
        _pointer = pointer;
    }

    /// <summary>The image file.</summary>
    public string Path { get; }

    public long Length { get; }

    public byte* Pointer => _pointer != null ? _pointer : throw new ObjectDisposedException(nameof(FileMedia));

    public bool IsPersistentStore => !_readOnly;

    /// <summary>Opens an existing image. Its size must be a positive multiple of 4096 bytes.</summary>
    public static FileMedia Open(string path, bool readOnly = false)
    {
        var info = Describe(path);
        if (!info.Exists)
            throw new FileNotFoundException($"image '{path}' does not exist", path);
        long length = info.Length;
        if (length == 0 || length % 4096 != 0)
            throw new InvalidDataException($"image '{path}' is {length} bytes: an image must be a positive multiple of 4096 bytes (truncated or not an image?)");
        return Map(path, FileMode.Open, length, readOnly);
    }

    /// <summary>
    /// The file an image path names: for a symbolic link, the file it finally points to (a
    /// <see cref="FileInfo"/> of the link itself has the link's length, and exists even when its
    /// target does not). A link loop fails with an <see cref="IOException"/> whose HResult is
    /// ELOOP, as open(2) would fail.
    /// </summary>
    internal static FileInfo Describe(string path)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget == null)
            return info;
        try
        {
            return info.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? info;
        }
        catch (IOException e) when (e.HResult <= 0)
        {
            // .NET follows the links itself and reports too many (a loop) without an errno;
            // every failure of a system call on the way carries its errno.
            throw new IOException(e.Message, ELoop);
        }
    }

    private const int ELoop = 40;  // Linux errno.h

    /// <summary>
    /// Creates a new sparse image of <paramref name="length"/> zero bytes; fails if the file exists.
    /// If the file cannot be made that long (EFBIG: <see cref="ArgumentOutOfRangeException"/>) or
    /// mapped, it is removed again before the exception propagates.
    /// </summary>
    public static FileMedia Create(string path, long length)
    {
        if (length <= 0 || length % 4096 != 0)
            throw new ArgumentOutOfRangeException(nameof(length), length, "image size must be a positive multiple of 4096 bytes");
        bool created = false;
        try
        {
            using (var fs = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite))
            {
                created = true;
                fs.SetLength(length);
            }
            return Map(path, FileMode.Open, length, readOnly: false);
        }
        catch when (created)
        {
            File.Delete(path);
            throw;
        }
    }

    private static FileMedia Map(string path, FileMode mode, long length, bool readOnly)
    {
        // Read-only images are mapped copy-on-write: a stray store changes this process's view
        // only, never the file, and cannot fault the process.
        if (readOnly && OperatingSystem.IsLinux())
            return MapPrivateNoReserve(path, length);
        var access = readOnly ? MemoryMappedFileAccess.CopyOnWrite : MemoryMappedFileAccess.ReadWrite;
        var fs = new FileStream(path, mode, readOnly ? FileAccess.Read : FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        var mmf = MemoryMappedFile.CreateFromFile(fs, null, 0, access, HandleInheritability.None, leaveOpen: false);
        var view = mmf.CreateViewAccessor(0, length, access);
        return new FileMedia(mmf, view, null, length, path, readOnly);
    }

    // A private writable mapping is charged against the commit limit in full, as if every page
    // were to be copied, so MemoryMappedFileAccess.CopyOnWrite fails with ENOMEM for a sparse image
    // larger than memory and swap. Only the pages this process stores to are ever copied:
    // MAP_NORESERVE maps it without that charge, as a read-write image's shared mapping is.
    private static FileMedia MapPrivateNoReserve(string path, long length)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        bool added = false;
        try
        {
            fs.SafeFileHandle.DangerousAddRef(ref added);
            nint p = Mmap(0, (nuint)length, ProtRead | ProtWrite, MapPrivate | MapNoReserve, (int)fs.SafeFileHandle.DangerousGetHandle(), 0);
            if (p == MapFailed)
            {
                int errno = Marshal.GetLastPInvokeError();
                throw new IOException($"cannot map image '{path}': {Marshal.GetPInvokeErrorMessage(errno)}", errno);
            }
            // The mapping keeps the file; the descriptor is closed on return.
            return new FileMedia(null, null, (byte*)p, length, path, readOnly: true);
        }
        finally
        {
            if (added)
                fs.SafeFileHandle.DangerousRelease();
        }
    }

    /// <inheritdoc/>
    public bool ReadsAllocate => _readsAllocate ??= !_readOnly && OnTmpfs(Path);

    private bool? _readsAllocate;

    // Whether 'path' is on tmpfs (statfs's f_type, the first field of struct statfs on every
    // 64-bit Linux .NET runs on, is TMPFS_MAGIC); false where that cannot be told.
    private static bool OnTmpfs(string path)
    {
        if (!OperatingSystem.IsLinux() || !Environment.Is64BitProcess)
            return false;
        byte* buffer = stackalloc byte[256];
        return Statfs(path, buffer) == 0 && *(long*)buffer == TmpfsMagic;
    }

    private const long TmpfsMagic = 0x01021994;

    [DllImport("libc", EntryPoint = "statfs", SetLastError = true)]
    private static extern int Statfs([MarshalAs(UnmanagedType.LPUTF8Str)] string path, byte* buffer);

    /// <inheritdoc/>
    public void Reserve(long offset, long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (offset > Length - length)
            throw new ArgumentOutOfRangeException(nameof(length), $"[{offset}, +{length}) is past the end of the {Length}-byte image");
        if (length == 0 || _readOnly || !OperatingSystem.IsLinux())
            return;
        // One descriptor for every reservation (the driver reserves on the first write to each
        // chunk, so a sparse image being filled asks often), opened on the first.
        var handle = _reserveHandle;
        if (handle == null)
        {
            var opened = File.OpenHandle(Path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
            handle = Interlocked.CompareExchange(ref _reserveHandle, opened, null) ?? opened;
            if (handle != opened)
                opened.Dispose();
        }
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            int fd = (int)handle.DangerousGetHandle();
            int result;
            int errno;
            do
            {
                // Mode 0 within the file's length: allocates what is not, changes neither a byte nor the size.
                result = Fallocate(fd, 0, offset, length);
                errno = result == 0 ? 0 : Marshal.GetLastPInvokeError();
            }
            while (errno == EIntr);
            if (result != 0 && errno != EOpNotSupp)
                throw new IOException($"cannot allocate [{offset}, +{length}) of image '{Path}': {Marshal.GetPInvokeErrorMessage(errno)}", errno);
            // On tmpfs only: elsewhere a page mapped writable ahead of any store is a dirty page
            // the host writes back, zeros included, over blocks fallocate left unwritten.
            if (result == 0 && ReadsAllocate)
                Populate(offset, length);
        }
        finally
        {
            if (added)
                handle.DangerousRelease();
        }
    }

    private Microsoft.Win32.SafeHandles.SafeFileHandle? _reserveHandle;

    // Maps the blocks just allocated on tmpfs into this process, writable, in one call: the stores
    // that follow a reservation would otherwise fault them in a page at a time (the first load of
    // a hole, the tracker's read of a line's old bytes, maps one page per fault).
    // MADV_POPULATE_WRITE is Linux 5.14's; an older kernel fails it with EINVAL, and any failure
    // leaves the pages to be faulted in as before.
    private void Populate(long offset, long length)
    {
        byte* p = _pointer;
        if (p == null)
            return;
        long start = offset & ~(long)(PageSize - 1);
        long end = Math.Min((offset + length + PageSize - 1) & ~(long)(PageSize - 1), Length);
        Madvise(p + start, (nuint)(end - start), MadvPopulateWrite);
    }

    private const int PageSize = 4096, MadvPopulateWrite = 23;  // Linux mman-common.h

    [DllImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static extern int Madvise(byte* address, nuint length, int advice);

    private const int EIntr = 4, EOpNotSupp = 95;

    [DllImport("libc", EntryPoint = "fallocate", SetLastError = true)]
    private static extern int Fallocate(int fd, int mode, long offset, long length);

    [DllImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static extern nint Mmap(nint address, nuint length, int prot, int flags, int fd, long offset);

    [DllImport("libc", EntryPoint = "munmap", SetLastError = true)]
    private static extern int Munmap(nint address, nuint length);

    public void Flush()
    {
        if (_pointer != null && !_readOnly)
            _view!.Flush();
    }

    public void Dispose()
    {
        if (_pointer == null)
            return;
        Flush();
        if (_view == null)
            Munmap((nint)_pointer, (nuint)Length);
        else
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _pointer = null;
        _view?.Dispose();
        _file?.Dispose();
        _reserveHandle?.Dispose();
    }
}
