namespace DaxStack.Fs.Vfs;

/// <summary>
/// The cursor a filesystem's <see cref="IFileOperations.Iterate"/> fills: it emits entries from
/// <see cref="Pos"/> on and advances <see cref="Pos"/> past each entry it emitted, stopping when
/// <see cref="Emit"/> returns false (the caller's buffer is full).
/// </summary>
/// <remarks>Models the kernel's <c>struct dir_context</c>, <c>dir_emit()</c> and the <c>filldir64</c> actor that sets each entry's <c>d_off</c> to the position after it.</remarks>
public sealed class DirContext
{
    private readonly DirEntry[] _entries;
    private int _count;

    internal DirContext(long pos, int capacity)
    {
        Pos = pos;
        _entries = new DirEntry[capacity];
    }

    /// <summary>The directory position of the next entry to emit (<c>ctx-&gt;pos</c>).</summary>
    public long Pos { get; set; }

    internal int Count => _count;

    /// <summary>Adds one entry; false when there is no room (the filesystem must stop and leave <see cref="Pos"/> at this entry).</summary>
    public bool Emit(string name, long ino, DirentType type)
    {
        if (_count == _entries.Length)
        {
            return false;
        }

        // filldir64 records the previous entry's d_off only when the next one arrives: by then
        // the filesystem has advanced ctx->pos past it.
        if (_count > 0)
        {
            _entries[_count - 1] = _entries[_count - 1] with { Off = Pos };
        }

        _entries[_count++] = new DirEntry(ino, 0, type, name);
        return true;
    }

    internal void CopyTo(Span<DirEntry> destination)
    {
        if (_count > 0)
        {
            _entries[_count - 1] = _entries[_count - 1] with { Off = Pos };
        }

        _entries.AsSpan(0, _count).CopyTo(destination);
    }
}
