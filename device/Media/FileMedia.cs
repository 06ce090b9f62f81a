using System.IO.MemoryMappedFiles;

namespace DaxStack.Device.Media;

/// <summary>
/// Media backed by an image file, memory-mapped so that a namespace survives process restarts
/// and a multi-GiB image is not read at start. The file's length is the media size.
/// </summary>
public sealed unsafe class FileMedia : IMedia
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private byte* _pointer;
    private readonly bool _readOnly;

    private FileMedia(MemoryMappedFile file, MemoryMappedViewAccessor view, long length, string path, bool readOnly)
    {
        _readOnly = readOnly;
        _file = file;
        _view = view;
        Length = length;
        Path = path;
        byte* p = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _pointer = p + _view.PointerOffset;
    }

    /// <summary>The image file.</summary>
    public string Path { get; }

    public long Length { get; }

    public byte* Pointer => _pointer != null ? _pointer : throw new ObjectDisposedException(nameof(FileMedia));

    public bool IsPersistentStore => !_readOnly;

    /// <summary>Opens an existing image. Its size must be a positive multiple of 4096 bytes.</summary>
    public static FileMedia Open(string path, bool readOnly = false)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
            throw new FileNotFoundException($"image '{path}' does not exist", path);
        long length = info.Length;
        if (length == 0 || length % 4096 != 0)
            throw new InvalidDataException($"image '{path}' is {length} bytes: an image must be a positive multiple of 4096 bytes (truncated or not an image?)");
        return Map(path, FileMode.Open, length, readOnly);
    }

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
        var access = readOnly ? MemoryMappedFileAccess.CopyOnWrite : MemoryMappedFileAccess.ReadWrite;
        var fs = new FileStream(path, mode, readOnly ? FileAccess.Read : FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        var mmf = MemoryMappedFile.CreateFromFile(fs, null, 0, access, HandleInheritability.None, leaveOpen: false);
        var view = mmf.CreateViewAccessor(0, length, access);
        return new FileMedia(mmf, view, length, path, readOnly);
    }

    public void Flush()
    {
        if (_pointer != null && !_readOnly)
            _view.Flush();
    }

    public void Dispose()
    {
        if (_pointer == null)
            return;
        Flush();
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _pointer = null;
        _view.Dispose();
        _file.Dispose();
    }
}
